"""Hostile YAML ends in one clean line and exit code 2, quickly; a large legitimate spec still loads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import run

HEAD = "version: 1\ninput: 2\nlayers: [{units: 2}]\nloss: sse\n"


def billion_laughs() -> bytes:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return (HEAD + "\n".join(lines) + "\n").encode()


def merge_bomb() -> bytes:
    lines = ["a0: &a0 {k0: v}"] + [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], k{i}: v}}" for i in range(1, 21)]
    return (HEAD + "\n".join(lines) + "\n").encode()


HOSTILE = {
    "billion laughs": (billion_laughs(), "anchors and aliases"),
    "merge-key bomb": (merge_bomb(), "anchors and aliases"),
    "python object tag": (HEAD.encode() + b"x: !!python/object/apply:os.system ['touch /tmp/gc-pwned']\n",
                          "explicit YAML tags"),
    "custom tag": (HEAD.encode() + b"x: !foo bar\n", "explicit YAML tags"),
    "nesting 500": (b"x: " + b"[" * 500 + b"\n", "nesting deeper than 32 levels"),
    "nesting 30000 (crashes libyaml unguarded)": (b"x: " + b"[" * 30000 + b"\n", "nesting deeper than 32 levels"),
    "nesting 500000 (1 MB)": (b"x: " + b"[" * 500000 + b"\n", "nesting deeper than 32 levels"),
    "block nesting 1000": ("".join("  " * i + f"k{i}:\n" for i in range(1000)).encode(), "nesting deeper"),
    "5000-digit integer": (HEAD.encode() + b"seed: " + b"9" * 5000 + b"\n", "number with more than 100 characters"),
    "two documents": (HEAD.encode() + b"---\n" + HEAD.encode(), "only one YAML document"),
    "tab indentation": (b"version: 1\nlayers:\n\t- {units: 2}\n", "invalid YAML"),
    "invalid UTF-8": (HEAD.encode() + b"name: \xff\xfe\n", "not UTF-8 text"),
    "NUL byte": (HEAD.encode() + b"name: a\x00b\n", "invalid YAML: character #x0000 is not allowed"),
    "top-level scalar": (b"just text\n", "not a gradcheck spec"),
    "only comments": (b"# nothing here\n", "the file is empty"),
    "huge file": (b"# " + b"x" * (9 * 1024 * 1024) + b"\n", "specs are limited to"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_is_refused_cleanly_and_quickly(tmp_path: Path, case: str) -> None:
    content, message = HOSTILE[case]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    started = time.perf_counter()
    result = run("check", "--jobs", "1", path)
    assert time.perf_counter() - started < 5  # generous: a slow machine, not a slow loader
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)) and message in lines[0], lines
    assert not Path("/tmp/gc-pwned").exists()


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HEAD.encode())
    assert run("check", "--jobs", "1", path).exit_code == 0


def test_a_legitimate_200_kb_spec_still_loads(tmp_path: Path) -> None:
    rows = 2500
    x = "\n".join(f"    - [{i * 0.001:.6f}, {i * -0.002:.6f}, {i * 0.003:.6f}, 0.5, -0.25, 0.125, 1.0, 2.0]"
                  for i in range(rows))
    y = "\n".join(f"    - [{(i % 7) * 0.1:.6f}]" for i in range(rows))
    text = f"version: 1\ninput: 8\nlayers: [{{units: 3, activation: tanh}}, {{units: 1}}]\nloss: mse\n" \
           f"data:\n  x:\n{x}\n  y:\n{y}\n"
    path = tmp_path / "big.yaml"
    path.write_text(text)
    assert path.stat().st_size > 200_000
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 0, result.output
