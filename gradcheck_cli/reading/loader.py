"""Read a spec file into plain Python data plus the line of every key and item.

PyYAML follows YAML 1.1, where ``1e-6`` is a string, ``NO`` is False and ``010`` is 8. Specs are
written by people who mean numbers and names, so scalars are resolved with the YAML 1.2 core
schema instead: ``1e-6`` and ``1e5`` are floats, only true/false are booleans, ``010`` is 10.

Specs arrive in pull requests and are checked in CI, so what a spec never needs and what makes
YAML loading dangerous is refused before any library parses the text (``yaml_preflight``): anchors
and aliases, explicit tags, more than one document, deep nesting, and more values than the memory
budget allows for the tree. The composed nodes are held to the same rules exactly (a shared node is
an alias, a tag outside the core schema was written explicitly), and absurdly long numbers are
refused. A duplicated key is an error naming both lines.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
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
from gradcheck_cli.reading.preflight import BYTES_PER_NODE, MAX_DEPTH, MAX_NODES, preflight, refuse_too_deep

MAX_BYTES = 8 * 1024 * 1024
MAX_NUMBER_CHARS = 100
_CLAIMS_SPEC = re.compile(r"^version:[ \t]*1[ \t]*(?:#.*)?$", re.MULTILINE)  # a top-level `version: 1` line
_CORE_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("null", "bool", "int", "float", "str", "seq", "map")}

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

else:  # pragma: no cover - depends on how PyYAML was built

    class _NodeReader(Reader, Scanner, Parser, Composer, _CoreResolver):  # type: ignore[no-redef]
        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _CoreResolver.__init__(self)


class UnreadableYaml(SpecError):
    """The file was read, but its text is not YAML a spec could be (invalid, hostile, or not UTF-8).
    ``claims_spec``: it has a top-level ``version: 1`` line, so it was meant to be a spec."""

    def __init__(self, error: SpecError, claims_spec: bool) -> None:
        super().__init__(error.message, file=error.file, line=error.line, hint=error.hint)
        self.claims_spec = claims_spec


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


def load_yaml_file(path: str | Path, max_bytes: int | None = None) -> tuple[Any, SourceMap]:
    """Read and parse ``path``; every problem becomes a one-line :class:`SpecError`.

    Only a regular file is read, and only after its size is known: a FIFO would block the run and a
    link to ``/dev/zero`` would never end. ``max_bytes`` is the memory budget the YAML tree must fit."""
    name = str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise SpecError("is a directory, not a spec file", file=name)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError("is not a regular file (a pipe, device or socket)", file=name,
                            hint="name the spec file itself")
        if info.st_size > MAX_BYTES:
            raise SpecError(f"file is {info.st_size} bytes; specs are limited to {MAX_BYTES}", file=name)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        if os.path.islink(path):
            raise SpecError("is a broken link: its target does not exist", file=name, hint="fix or remove it") from None
        raise SpecError("file not found", file=name, hint="check the path") from None
    except OSError as exc:
        raise SpecError(f"cannot read the file ({exc.strerror})", file=name) from None
    if len(raw) > MAX_BYTES:  # it grew after the size was read
        raise SpecError(f"file is over {MAX_BYTES} bytes; specs are limited to {MAX_BYTES}", file=name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        error = SpecError(f"not UTF-8 text (byte {exc.start})", file=name, hint="save it as UTF-8")
        raise UnreadableYaml(error, claims_spec=False) from None
    try:
        return load_yaml_text(text, name, max_bytes)
    except SpecError as exc:
        raise UnreadableYaml(exc, claims_spec=bool(_CLAIMS_SPEC.search(text))) from None


def load_yaml_text(text: str, name: str = "<spec>", max_bytes: int | None = None) -> tuple[Any, SourceMap]:
    """Parse spec text into plain data (dicts, lists, str, int, float, bool, None) and a source map."""
    source = SourceMap(name)
    nodes = preflight(text, name)
    if max_bytes is not None and nodes * BYTES_PER_NODE > max_bytes:
        raise SpecError(f"reading its {nodes} YAML values needs about {_gib(nodes * BYTES_PER_NODE)}; the memory "
                        f"limit is {_gib(max_bytes)}", file=name, hint="raise it with --max-memory")
    try:
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
    return _construct(node, (), source, set()), source


def load_mapping(spec: Mapping[Any, Any], name: str = "<spec>") -> tuple[Any, SourceMap]:
    """A spec given as Python data (the API's ``check(dict)``), held to the rules a YAML file is:
    plain data only (numpy arrays and numbers become lists and numbers), text keys, nesting of at
    most MAX_DEPTH levels (a list that contains itself is refused, not followed) and MAX_NODES values."""
    count = [0]

    def plain(value: Any, path: KeyPath) -> Any:
        count[0] += 1
        where = ".".join(map(str, path)) or "the spec"
        if count[0] > MAX_NODES:
            raise SpecError(f"the spec has more than {MAX_NODES} values", file=name)
        if len(path) > MAX_DEPTH:
            raise SpecError(f"{where}: nesting deeper than {MAX_DEPTH} levels (or a list that contains itself)",
                            file=name)
        if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # an array or a numpy number
            value = value.tolist()
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, Mapping):
            if not all(isinstance(key, str) for key in value):
                raise SpecError(f"{where}: every key must be text", file=name)
            return {key: plain(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item, (*path, i)) for i, item in enumerate(value)]
        raise SpecError(f"{where} holds a Python {type(value).__name__}; a spec holds only mappings, lists, text, "
                        "numbers, true/false and null", file=name)

    return plain(spec, ()), SourceMap(name)


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 1024**3:.2f} GiB"


def _construct(node: yaml.Node, path: KeyPath, source: SourceMap, seen: set[int]) -> Any:
    """Plain data from the composed nodes, held to the preflight's rules exactly: the nesting depth,
    no node reached twice (an alias), no tag outside the core schema (one written explicitly)."""
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise SpecError("anchors and aliases (&name, *name, <<) are not allowed in specs", file=source.file,
                        line=line, hint="write the values out")
    seen.add(id(node))
    if node.tag not in _CORE_TAGS:
        raise SpecError("explicit YAML tags are not allowed in specs", file=source.file, line=line,
                        hint="remove the tag")
    if isinstance(node, yaml.MappingNode):
        if len(path) >= MAX_DEPTH:
            raise refuse_too_deep(source.file, line)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, path, source, seen)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise SpecError("mapping keys must be plain names", file=source.file, line=line)
            if key in out:
                first = source.lines[path + (key,)]
                raise SpecError(f"duplicate key {key!r} on lines {first} and {line}", file=source.file,
                                line=line, hint="keep one of them")
            source.lines[path + (key,)] = line
            out[key] = _construct(value_node, path + (key,), source, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        if len(path) >= MAX_DEPTH:
            raise refuse_too_deep(source.file, line)
        items = []
        for index, item in enumerate(node.value):
            source.lines[path + (index,)] = item.start_mark.line + 1
            items.append(_construct(item, path + (index,), source, seen))
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
