"""Text from a spec or a path, made safe to print: no spec can forge what a terminal or CI log shows.

A spec's name, a formula, a file name or an error message quoting them could otherwise carry a
newline followed by a GitHub workflow command (``::error ...``), escape sequences that move the cursor
or recolour the screen, bidirectional overrides that reorder what is read, or (from a file name that is
not UTF-8) lone surrogates that cannot even be encoded. Every such character is shown as a visible
escape (``\\n``, ``\\x1b``, ``\\u202e``). The text reporters and the command line's stderr lines print
a copy of the result passed through :func:`printable_run`; JSON keeps the raw strings, which its
encoder escapes.

Every message is also bounded: past :data:`MESSAGE_LIMIT` characters (a spec that quotes a
10,000-character formula, say) the middle is left out with a note saying how much, so one line stays
one readable line. Paths are never shortened: they say which file.
"""

from __future__ import annotations

import re
from dataclasses import replace

from gradcheck_cli.verdict.results import LinkResult, ParamResult, RunResult, SpecResult

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


MESSAGE_LIMIT = 1000  # characters of one message, after escaping


def printable(text: str, limit: int | None = MESSAGE_LIMIT) -> str:
    """``text`` with every control, line-separating, bidi-override or surrogate character escaped,
    and at most ``limit`` characters long (None: any length)."""
    text = _UNSAFE.sub(lambda m: _NAMED.get(m.group(), _code(m.group())), text)
    if limit is None or len(text) <= limit:
        return text
    keep = limit - 40
    head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3:]
    return f"{head} [... {len(text) - len(head) - len(tail):,} characters left out ...] {tail}"


def _code(char: str) -> str:
    point = ord(char)
    if 0xDC80 <= point <= 0xDCFF:  # a byte that was not UTF-8, kept by Python as a surrogate
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def printable_run(run: RunResult) -> RunResult:
    """A copy of the result whose every text that can come from a spec or a path is printable."""
    return RunResult([_spec(spec) for spec in run.specs])


def _spec(spec: SpecResult) -> SpecResult:
    return replace(spec, path=printable(spec.path, limit=None), name=printable(spec.name),
                   message=printable(spec.message), params=[_param(p) for p in spec.params],
                   links=[_link(k) for k in spec.links],
                   lines={printable(name): line for name, line in spec.lines.items()},
                   errors=[(printable(text), line) for text, line in spec.errors])


def _param(p: ParamResult) -> ParamResult:
    return replace(p, name=printable(p.name), note=printable(p.note), reason=printable(p.reason))


def _link(link: LinkResult) -> LinkResult:
    return replace(link, name=printable(link.name), formula=printable(link.formula), target=printable(link.target),
                   message=printable(link.message), diagnosis=printable(link.diagnosis))
