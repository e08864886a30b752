"""Refuse what a spec never needs by reading its text, before any YAML library parses it.

A spec needs no anchors or aliases (alias bombs expand on use), no explicit tags, one document,
and shallow nesting (the C parser crashed on very deep input in older PyYAML releases, and newer
ones stop it with a message of their own). These refusals are gradcheck's contract, so they must
not depend on which PyYAML is installed: this module finds them lexically, in one pass that is
linear in the text, and says so in gradcheck's own words with the line.

The scan follows YAML's lexical rules as far as they matter here: quoted scalars (also across
lines), block scalars (``|`` and ``>``, whose content is text), multi-line plain scalars,
comments, flow collections and block indentation. Its depth is never less than half the true one
(an indentless sequence under a key shares the key's column), so whatever a YAML library would
find absurdly deep is refused here; the composed nodes are then held to the exact limit
(``reading/loader.py``). It also counts the nodes, so that the tree's memory is known before it exists.
"""

from __future__ import annotations

import re

from gradcheck_cli.errors import SpecError

MAX_DEPTH = 32
MAX_NODES = 500_000  # a spec's explicit data of 64 samples x 1000 inputs is 64,000
BYTES_PER_NODE = 600  # the composed and constructed tree's peak per node, measured: 533

_SPACE = re.compile(r"[ \t]*")
_PLAIN_END = {  # where a plain scalar stops: a value indicator, a comment, or (in flow) an indicator
    False: re.compile(r":(?=[ \t]|$)|[ \t]#"),
    True: re.compile(r"[,\[\]{}]|:(?=[ \t,\[\]{}]|$)|[ \t]#"),
}
_QUOTE_END = {"'": re.compile(r"'(?!')|''"), '"': re.compile(r'\\.|"')}
_BLOCK_HEADER = re.compile(r"[|>]([1-9]?)[+-]?([1-9]?)[ \t]*(?:#.*)?$")
_PROPERTY = {"&": "anchors and aliases (&name, *name, <<) are not allowed in specs",
             "*": "anchors and aliases (&name, *name, <<) are not allowed in specs",
             "!": "explicit YAML tags are not allowed in specs"}
_PROPERTY_HINT = {"&": "write the values out", "*": "write the values out", "!": "remove the tag"}


def refuse_too_deep(file: str, line: int) -> SpecError:
    return SpecError(f"nesting deeper than {MAX_DEPTH} levels", file=file, line=line,
                     hint="a spec needs only a few levels of lists and mappings")


class _Scan:
    """The lexical state carried from one line to the next."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.block: list[int] = []  # columns of the open block collections
        self.flow = 0  # open [ and {
        self.quote = ""  # the quote character of a quoted scalar still open at the end of a line
        self.literal: tuple[int, int | None] | None = None  # block scalar: (parent column, content indent)
        self.plain_open = False  # the last line ended inside a plain scalar, which may continue
        self.nodes = 0
        self.content = self.started = self.ended = False  # for the one-document rule

    def fail(self, line: int, message: str, hint: str = "") -> SpecError:
        return SpecError(message, file=self.file, line=line, hint=hint)

    def count(self, line: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(line, f"the file has more than {MAX_NODES} YAML values",
                            "a spec's explicit data should be small; generate large data with data.batch")

    def open_block(self, column: int, line: int) -> None:
        while self.block and self.block[-1] > column:
            self.block.pop()
        if not self.block or self.block[-1] < column:
            self.block.append(column)
            self.deeper(line)

    def deeper(self, line: int) -> None:
        if len(self.block) + self.flow > MAX_DEPTH:
            raise refuse_too_deep(self.file, line)

    def line(self, text: str, number: int) -> None:
        if self._marker(text, number) or self._in_literal(text):
            return
        if self.quote:  # a quoted scalar from an earlier line: text up to its closing quote
            start = self._close_quote(text, 0)
            if start >= 0:
                self._nodes(text, start, number, at_node=False)
            return
        stripped = text.lstrip(" ")
        if not stripped.strip() or stripped.startswith("#"):
            return
        if self.ended:
            raise self.fail(number, "only one YAML document per spec file",
                            "remove the '...' marker and what follows it")
        self.content = True
        indent = len(text) - len(stripped)
        if self.flow == 0:
            if self.plain_open and indent > (self.block[-1] if self.block else -1):
                return  # a plain scalar continued: text, whatever it holds
            while self.block and self.block[-1] > indent:
                self.block.pop()
        self._nodes(text, indent, number, at_node=True)

    def _marker(self, text: str, number: int) -> bool:
        """``---`` and ``...`` at the start of a line; a second document is refused."""
        if text[:3] not in ("---", "...") or text[3:4] not in ("", " ", "\t"):
            return False
        if text[:3] == "...":
            self.ended = True
            return True
        if self.started or self.content or self.ended:
            raise self.fail(number, "only one YAML document per spec file",
                            "remove the '---' separator and the second document")
        self.started, self.block, self.flow, self.literal, self.plain_open = True, [], 0, None, False
        self._nodes(text, 3, number, at_node=True)
        return True

    def _in_literal(self, text: str) -> bool:
        """Inside a block scalar (``|``, ``>``): its lines are text until one is indented no deeper
        than the collection holding it (or less than its first line)."""
        if self.literal is None:
            return False
        parent, indent = self.literal
        stripped = text.lstrip(" ")
        spaces = len(text) - len(stripped)
        if not stripped:
            return True
        if indent is None and spaces > parent:
            self.literal = (parent, spaces)
            return True
        if indent is not None and spaces >= indent:
            return True
        self.literal = None
        return False

    def _close_quote(self, text: str, position: int) -> int:
        """The position after the closing quote of the open quoted scalar, or -1 if the line has none."""
        pattern = _QUOTE_END[self.quote]
        while (found := pattern.search(text, position)) is not None:
            position = found.end()
            if found.group() in ("'", '"'):
                self.quote = ""
                return position
        return -1

    def _nodes(self, text: str, i: int, number: int, at_node: bool) -> None:
        """Scan one line from position ``i``; ``at_node``: a node may start here."""
        node_column = i
        self.plain_open = False
        end = len(text)
        while True:
            i = _SPACE.match(text, i).end()
            if i >= end:
                return
            ch = text[i]
            if ch == "#" and (i == 0 or text[i - 1] in " \t"):
                return
            if self.flow and ch in ",]}":
                at_node = ch == ","
                self.flow -= ch != ","
                i += 1
            elif ch in "[{" and (at_node or self.flow):
                self.flow += 1
                self.deeper(number)
                self.count(number)
                at_node, i = True, i + 1
            elif at_node and ch in _PROPERTY:
                raise self.fail(number, _PROPERTY[ch], _PROPERTY_HINT[ch])
            elif at_node and ch in "-?" and text[i + 1: i + 2] in ("", " ", "\t"):
                if ch == "-" and not self.flow:
                    self.open_block(i, number)
                i += 1
            elif not at_node and ch == ":":
                if not self.flow:
                    self.open_block(node_column, number)
                at_node, i = True, i + 1
            elif at_node and ch in "'\"":
                self.count(number)
                node_column, self.quote = i, ch
                i = self._close_quote(text, i + 1)
                if i < 0:
                    return
                at_node = False
            elif at_node and ch in "|>" and not self.flow:
                self._literal(text, i, number)
                return
            else:
                if at_node:
                    self.count(number)
                    node_column = i
                found = _PLAIN_END[self.flow > 0].search(text, i + 1)
                i = found.start() if found else end
                if found is None and not self.flow:
                    self.plain_open = True
                at_node = False

    def _literal(self, text: str, i: int, number: int) -> None:
        header = _BLOCK_HEADER.match(text, i)
        if header is None:
            raise self.fail(number, "invalid YAML: a block scalar header ('|' or '>') must end its line")
        self.count(number)
        parent = self.block[-1] if self.block else -1
        digit = header.group(1) or header.group(2)
        self.literal = (parent, max(parent, 0) + int(digit) if digit else None)


def preflight(text: str, file: str) -> int:
    """Refuse anchors, aliases, tags, a second document, deep nesting and too many values, with the
    line; return the number of YAML values (nodes), from which the tree's memory follows."""
    scan = _Scan(file)
    for number, line in enumerate(text.split("\n"), start=1):
        scan.line(line.rstrip("\r"), number)
    return scan.nodes
