"""gradcheck refuses what a spec never needs by reading the text itself, before any YAML library parses
it: the message and the exit code cannot depend on the installed PyYAML. Special files are never read."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run
from gradcheck_cli.errors import SpecError
from gradcheck_cli.reading import loader as yaml_loader
from gradcheck_cli.reading.loader import load_yaml_text
from gradcheck_cli.reading.preflight import BYTES_PER_NODE, MAX_DEPTH, MAX_NODES, preflight

HEAD = "version: 1\ninput: 2\nlayers: [{units: 2}]\nloss: sse\n"

REFUSED_UNPARSED = {  # text -> (line, words of the message)
    "x: " + "[" * 30000: (1, "nesting deeper than 32 levels"),
    "x: " + "{a: " * 40: (1, "nesting deeper than 32 levels"),
    "".join("  " * i + f"k{i}:\n" for i in range(1000)): (33, "nesting deeper than 32 levels"),
    "".join("  " * i + "- \n" for i in range(40)): (33, "nesting deeper than 32 levels"),
    "- " * 40 + "x\n": (1, "nesting deeper than 32 levels"),
    HEAD + "a: &a [1]\nb: *a\n": (5, "anchors and aliases"),
    HEAD + "b: [*a]\n": (5, "anchors and aliases"),
    HEAD + "x: !!python/object/apply:os.system ['true']\n": (5, "explicit YAML tags"),
    HEAD + "x:\n  - !foo bar\n": (6, "explicit YAML tags"),
    HEAD + "---\n" + HEAD: (5, "only one YAML document"),
    "---\n" + HEAD + "...\nname: x\n": (7, "only one YAML document"),
    "x: [" + "1," * (MAX_NODES + 1) + "]": (1, f"more than {MAX_NODES} YAML values"),
}


def _no_yaml_library(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a YAML library saw the text")


@pytest.mark.parametrize("text", list(REFUSED_UNPARSED), ids=[f"case {i}" for i in range(len(REFUSED_UNPARSED))])
def test_refusals_happen_before_any_yaml_library_parses(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    for name in ("parse", "compose", "load", "safe_load"):
        monkeypatch.setattr(yaml, name, _no_yaml_library)
    monkeypatch.setattr(yaml_loader, "_NodeReader", _no_yaml_library)
    line, words = REFUSED_UNPARSED[text]
    with pytest.raises(SpecError) as caught:
        load_yaml_text(text, "hostile.yaml")
    assert caught.value.line == line and words in caught.value.message and caught.value.file == "hostile.yaml"


LEGITIMATE = """
    version: 1
    name: 'it''s [not] &an *alias !or #comment'
    description: a plain text that goes on
      [over several lines] &with *indicators !inside - and more
      # and no comment here
    notes: |
      - [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ a block scalar is text
      &a *a !tag --- ...
    more: >-
      folded [text
    url: http://example.org/a#fragment
    quoted: "a \\" quote [ and \\
      a continued line {"
    flow: {"json": [1, 2.5, "x"], 'y': [a&b, c*d, e!f]}
    input: 2
    layers:
    - {units: 2}
    loss: sse
"""


def test_indicators_inside_text_are_not_refused() -> None:
    text = textwrap.dedent(LEGITIMATE)
    data, _ = load_yaml_text(text)
    assert data == yaml.safe_load(text)


def depth(value: Any) -> int:
    if isinstance(value, (list, dict)):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((depth(item) for item in items), default=0)
    return 0


tricky = st.sampled_from(["a", "b c", "x: y", "#h", "[1", "&a", "*b", "!t", "- z", "it's", 'say "hi"', "a #c", "|",
                          ">", "---", "...", " lead", "trail ", "", "two\nlines\n  more", "?q", ":", "k: [1", "0.5"])
keys = st.sampled_from(["k", "key 2", "k#", "k'", "[k", "&k", "- k"])


def nested(levels: int) -> st.SearchStrategy[Any]:
    """Documents exactly ``levels`` deep: a spine of lists and mappings with tricky text beside it."""
    document: st.SearchStrategy[Any] = st.one_of(tricky, st.integers(), st.booleans())
    for _ in range(levels):
        document = st.one_of(
            st.tuples(document, st.lists(tricky, max_size=2)).map(lambda p: [p[0], *p[1]]),
            st.tuples(keys, document, st.dictionaries(keys, tricky, max_size=2)).map(lambda p: {**p[2], p[0]: p[1]}),
        )
    return document


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(levels=st.integers(1, 80), data=st.data(), flow=st.sampled_from([None, True, False]),
       width=st.sampled_from([20, 80, 10_000]), style=st.sampled_from([None, "'", '"']))
def test_depth_is_refused_exactly_and_nothing_else_is(levels: int, data: st.DataObject, flow: bool | None,
                                                     width: int, style: str | None) -> None:
    document = data.draw(nested(levels))
    text = yaml.safe_dump(document, default_flow_style=flow, width=width, default_style=style, allow_unicode=True)
    if "!!" in text:  # a forced quoting style makes PyYAML write tags; refusing those is right
        return
    if depth(document) > 2 * MAX_DEPTH:  # the scan alone: never less than half the true depth
        with pytest.raises(SpecError, match="nesting deeper"):
            preflight(text, "generated.yaml")
    try:
        loaded, _ = load_yaml_text(text)
    except SpecError as exc:
        assert depth(document) > MAX_DEPTH and "nesting deeper" in exc.message, (exc.message, text)
    else:
        assert depth(document) <= MAX_DEPTH and loaded == yaml.safe_load(text)


def test_the_tree_must_fit_the_memory_budget(tmp_path: Path) -> None:
    values = 20_000
    path = tmp_path / "data.yaml"
    path.write_text(HEAD + "notes: [" + ", ".join(["0.5"] * values) + "]\n")
    budget_gib = (values * BYTES_PER_NODE / 2) / 1024**3  # half of what the tree needs
    result = run("check", "--jobs", "1", "--max-memory", f"{budget_gib:.9f}", path)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(str(path)) and "YAML values" in line and "--max-memory" in line


def _special_files(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    broken = tmp_path / "broken.yaml"
    broken.symlink_to(tmp_path / "nowhere.yaml")
    return {"not a regular file": fifo, "not a regular file ": zero, "broken link": broken}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
def test_special_files_are_refused_at_once(tmp_path: Path) -> None:
    for words, path in _special_files(tmp_path).items():
        # a child process, so that a read that blocks (a FIFO) fails the test instead of hanging it
        result = subprocess.run([sys.executable, "-m", "gradcheck_cli", "check", "--jobs", "1", str(path)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(str(path)) and words.strip() in line, line
