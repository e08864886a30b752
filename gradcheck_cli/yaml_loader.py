"""Read a spec file into plain Python data plus the line of every key and item.

PyYAML follows YAML 1.1, where ``1e-6`` is a string, ``NO`` is False and ``010`` is 8. Specs are
written by people who mean numbers and names, so scalars are resolved with the YAML 1.2 core
schema instead: ``1e-6`` and ``1e5`` are floats, only true/false are booleans, ``010`` is 10.

Specs arrive in pull requests and are checked in CI, so the loader also refuses what a spec never
needs and what makes YAML loading dangerous, before building anything: anchors and aliases (alias
bombs expand on use), explicit tags, more than one document, deep nesting (the C parser crashes
on very deep input) and absurdly long numbers. A duplicated key is an error naming both lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from gradcheck_cli.errors import SpecError

MAX_BYTES = 8 * 1024 * 1024
MAX_EVENTS = 2_000_000
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100

KeyPath = tuple[str | int, ...]


class _CoreResolver(BaseResolver):
    """Implicit scalar types of the YAML 1.2 core schema."""


for _tag, _pattern, _first in [
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
]:
    _CoreResolver.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)

if yaml.__with_libyaml__:  # the C parser is much faster on large explicit data

    class _NodeReader(yaml.cyaml.CParser, _CoreResolver):  # type: ignore[misc]
        def __init__(self, text: str) -> None:
            yaml.cyaml.CParser.__init__(self, text)
            _CoreResolver.__init__(self)

    _EventLoader: type = yaml.CSafeLoader
else:  # pragma: no cover - depends on how PyYAML was built

    class _NodeReader(Reader, Scanner, Parser, Composer, _CoreResolver):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _CoreResolver.__init__(self)

    _EventLoader = yaml.SafeLoader


@dataclass
class SourceMap:
    """1-based line of every mapping key and sequence item, by its path in the document."""

    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that exists (for missing keys)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def error(self, path: KeyPath, message: str, hint: str = "") -> SpecError:
        return SpecError(message, file=self.file, line=self.line(path), hint=hint)


def load_yaml_file(path: str | Path) -> tuple[Any, SourceMap]:
    """Read and parse ``path``; every problem becomes a one-line :class:`SpecError`."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SpecError("file not found", file=name, hint="check the path") from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", file=name) from None
    except OSError as exc:
        raise SpecError(f"cannot read the file ({exc.strerror})", file=name) from None
    if len(raw) > MAX_BYTES:
        raise SpecError(f"file is {len(raw)} bytes; specs are limited to {MAX_BYTES}", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", file=name, hint="save it as UTF-8") from None
    return load_yaml_text(text, name)


def load_yaml_text(text: str, name: str = "<spec>") -> tuple[Any, SourceMap]:
    """Parse spec text into plain data (dicts, lists, str, int, float, bool, None) and a source map."""
    source = SourceMap(name)
    try:
        _preflight(text, source)
        reader = _NodeReader(text)
        try:
            node = reader.get_single_node()
        finally:
            reader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"invalid YAML: {problem}", file=name, line=line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids; it has a position, not a mark
        line = text.count("\n", 0, exc.position) + 1
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        raise SpecError(f"invalid YAML: character {what} is not allowed ({exc.reason})", file=name,
                        line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {str(exc).splitlines()[0]}", file=name) from None
    if node is None:
        raise SpecError("the file is empty", file=name, hint="a spec needs at least version, input, layers and loss")
    source.lines[()] = node.start_mark.line + 1  # where to point for keys missing at the top
    return _construct(node, (), source), source


def _preflight(text: str, source: SourceMap) -> None:
    """Walk the parser's events once and refuse what specs must not contain, before composing."""
    depth = events = documents = 0
    for event in yaml.parse(text, Loader=_EventLoader):
        events += 1
        line = event.start_mark.line + 1
        if events > MAX_EVENTS:
            raise SpecError(f"the file has more than {MAX_EVENTS} YAML items", file=source.file, line=line)
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise SpecError("only one YAML document per spec file", file=source.file, line=line,
                                hint="remove the '---' separator and the second document")
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise SpecError("anchors and aliases (&name, *name, <<) are not allowed in specs",
                            file=source.file, line=line, hint="write the values out")
        if getattr(event, "tag", None) is not None and not isinstance(event, yaml.DocumentStartEvent):
            raise SpecError(f"explicit YAML tags ({event.tag}) are not allowed in specs",
                            file=source.file, line=line, hint="remove the tag")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise SpecError(f"nesting deeper than {MAX_DEPTH} levels", file=source.file, line=line)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _construct(node: yaml.Node, path: KeyPath, source: SourceMap) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, path, source)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SpecError("mapping keys must be plain names", file=source.file, line=line)
            if key in out:
                first = source.lines[path + (key,)]
                raise SpecError(f"duplicate key {key!r} on lines {first} and {line}", file=source.file,
                                line=line, hint="keep one of them")
            source.lines[path + (key,)] = line
            out[key] = _construct(value_node, path + (key,), source)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            source.lines[path + (index,)] = item.start_mark.line + 1
            items.append(_construct(item, path + (index,), source))
        return items
    return _scalar(node, source)


def _scalar(node: yaml.ScalarNode, source: SourceMap) -> Any:
    kind = node.tag.rsplit(":", 1)[-1]
    value: str = node.value
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() == "true"
    if kind in ("int", "float") and len(value) > MAX_NUMBER_CHARS:
        raise SpecError(f"number with more than {MAX_NUMBER_CHARS} characters", file=source.file,
                        line=node.start_mark.line + 1)
    if kind == "int":
        base = 16 if value.startswith("0x") else 8 if value.startswith("0o") else 10
        return int(value[2:] if base != 10 else value, base)
    if kind == "float":
        if value.lower().lstrip("+-") in (".inf", ".nan"):
            return float(value.lower().replace(".", ""))  # "-.inf" -> float("-inf")
        return float(value)
    return value
