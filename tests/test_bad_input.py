"""Every kind of bad input ends in one line naming the file and line, what is wrong and how to fix
it, with exit code 2, and never loses the other specs of the run."""

from __future__ import annotations

import re

import pytest

from conftest import SMALL_SPEC, run

GOOD_HEAD = """
    version: 1
    input: 2
    layers:
      - {units: 3, activation: sigmoid}
      - {units: 2, activation: sigmoid}
"""

CASES = {
    # name: (spec text, expected line, pattern the message must contain)
    "invalid yaml": ("version: 1\ninput: [2\nlayers: 3\n", 3, r"invalid YAML"),
    "not a mapping": ("- 1\n- 2\n", 1, r"not a gradcheck spec: not a mapping of keys to values"),
    "no version": ("input: 2\n", 1, r"not a gradcheck spec: no 'version' key; a spec starts with 'version: 1'"),
    "unknown key": (GOOD_HEAD + "    los: half_sse\n", 6, r"unknown key 'los'; did you mean 'loss'\?"),
    "unknown nested key": (GOOD_HEAD.replace("units: 3,", "unit: 3,") + "    loss: half_sse\n", 4,
                           r"unknown key 'unit' in layers\[0\]; did you mean 'units'\?"),
    "unknown activation": (GOOD_HEAD.replace("activation: sigmoid}\n      - {units: 2",
                                             "activation: sigmod}\n      - {units: 2") + "    loss: half_sse\n",
                           4, r"unknown activation 'sigmod'; did you mean 'sigmoid'\?"),
    "unknown loss": (GOOD_HEAD + "    loss: half_ssе_x\n", 6, r"unknown loss 'half_ssе_x'; did you mean"),
    "missing key": ("    version: 1\n    layers: [{units: 1}]\n    loss: sse\n", 1, r"missing required key 'input'"),
    "zero units": (GOOD_HEAD.replace("units: 3", "units: 0") + "    loss: half_sse\n", 4,
                   r"layers\[0\]\.units must be greater than 0, not 0"),
    "negative input": (GOOD_HEAD.replace("input: 2", "input: -2") + "    loss: half_sse\n", 2,
                       r"input must be greater than 0 or a list, not -2"),
    "boolean from NO": (GOOD_HEAD.replace("input: 2", "input: NO") + "    loss: half_sse\n", 2,
                        r"input must be a whole number or a list, not text 'NO'"),
    "bad literal": (GOOD_HEAD + "    loss: half_sse\n    layout: rows\n", 7,
                    r"layout must be 'column' or 'row', not text 'rows'"),
    "duplicate key": (GOOD_HEAD + "    loss: half_sse\n    input: 3\n", 7, r"duplicate key 'input' on lines 2 and 7"),
    "alpha where none applies": (GOOD_HEAD.replace("activation: sigmoid}\n      - {units: 2",
                                                   "activation: sigmoid, alpha: 0.1}\n      - {units: 2")
                                 + "    loss: half_sse\n", 4, r"activation 'sigmoid' takes no alpha"),
    "parameter wrong shape": (
        GOOD_HEAD + "    loss: half_sse\n    parameters:\n      W1: [[1, 2, 3], [4, 5, 6]]\n", 8,
        r"W1 has shape 2x3, expected 3x2; in column layout W is units x inputs; this looks transposed"),
    "unknown parameter": (GOOD_HEAD + "    loss: half_sse\n    parameters:\n      W3: [[1]]\n", 8,
                          r"unknown parameter 'W3'; the network has 2 layers"),
    "data wrong width": (GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, 2, 3]]\n      y: [[0, 1]]\n", 8,
                         r"data\.x has shape 1x3, expected rows of 2 numbers"),
    "ragged data": (
        GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, 2], [3]]\n      y: [[0, 1], [1, 0]]\n", 8,
        r"row 1 of data\.x has 1 numbers, row 0 has 2"),
    "rows mismatch": (GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, 2], [3, 4]]\n      y: [[0, 1]]\n", 9,
                      r"data\.y has 1 rows but data\.x has 2"),
    "label out of range": (GOOD_HEAD.replace("units: 2, activation: sigmoid", "units: 2")
                           + "    loss: softmax_cross_entropy\n    data:\n      x: [[1, 2], [3, 4]]\n      y: [0, 2]\n",
                           9, r"class label 2 is out of range; labels must lie in 0\.\.1 for 2 output units"),
    "probability outside [0, 1]": (GOOD_HEAD + "    loss: binary_cross_entropy\n    data:\n      x: [[1, 2]]\n"
                                   "      y: [[0.5, 1.5]]\n", 9, r"target 1\.5 is outside \[0, 1\]"),
    "class rows not summing to 1": (GOOD_HEAD + "    loss: cross_entropy\n    data:\n      x: [[1, 2]]\n"
                                    "      y: [[0.5, 0.4]]\n", 9, r"target row sums to 0\.9, not 1"),
    "loss needs probabilities": (GOOD_HEAD.replace("units: 2, activation: sigmoid", "units: 2, activation: relu")
                                 + "    loss: cross_entropy\n", 5, r"loss 'cross_entropy' takes probabilities"),
    "nan in data": (GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, .nan]]\n      y: [[0, 1]]\n", 8,
                    r"data\.x contains nan; NaN and infinite values cannot be checked"),
    "inf in parameter": (GOOD_HEAD + "    loss: half_sse\n    parameters:\n      b1: [0, .inf, 1]\n", 8,
                         r"parameters\.b1 contains inf"),
    "text in data": (GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, two]]\n      y: [[0, 1]]\n", 8,
                     r"data\.x must hold numbers only, found 'two'"),
    "anchor": (GOOD_HEAD + "    loss: &l half_sse\n", 6, r"anchors and aliases .* are not allowed"),
    "explicit tag": (GOOD_HEAD + "    loss: !!python/name:os.system half_sse\n", 6, r"explicit YAML tags"),
    "empty file": ("", None, r"the file is empty"),
    "generator with explicit data": (GOOD_HEAD + "    loss: half_sse\n    data:\n      x: [[1, 2]]\n"
                                     "      y: [[0, 1]]\n      generator: spiral\n", 10,
                                     r"a generator only applies to generated data"),
    "union field": (GOOD_HEAD + "    loss: half_sse\n    init: {weights: abc}\n", 7,
                    r"init\.weights must be a number or 'lecun', not text 'abc'"),
    "float where a count is meant": (GOOD_HEAD + "    loss: half_sse\n    data: {batch: 2.5}\n", 7,
                                     r"data\.batch must be a whole number, not 2\.5"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_spec_is_one_clear_line_with_exit_code_2(write_spec, case: str) -> None:
    text, line, pattern = CASES[case]
    path = write_spec(text)
    result = run("check", path)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    where = f"{path}:{line}: error: " if line else f"{path}: error: "
    assert lines[0].startswith(where), lines[0]
    assert re.search(pattern, lines[0]), lines[0]


def test_missing_file(tmp_path) -> None:
    result = run("check", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.yaml'}: error: file not found; check the path"


def test_one_bad_spec_does_not_lose_the_others(write_spec) -> None:
    good = write_spec(SMALL_SPEC, name="good.yaml")
    bad = write_spec(CASES["unknown activation"][0], name="bad.yaml")
    result = run("check", "--format", "json", bad, good, write_spec(SMALL_SPEC, name="good2.yaml"))
    assert result.exit_code == 2
    import json

    report = json.loads(result.stdout)
    assert [s["status"] for s in report["specs"]] == ["error", "pass", "pass"]
    assert "unknown activation 'sigmod'" in report["specs"][0]["message"]
    assert report["specs"][1]["parameters"]  # the good spec was fully checked
    table = run("check", bad, good)
    assert table.exit_code == 2 and "│ W1 " in table.stdout and "sigmod" in table.stderr


def test_validate_reports_errors_the_same_way(write_spec) -> None:
    result = run("validate", write_spec(CASES["zero units"][0]))
    assert result.exit_code == 2
    assert "layers[0].units must be greater than 0" in result.stderr


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("version: 1\ninput: 2000000000\nlayers: [{units: 3}]\nloss: sse\n", "3367.7 GiB"),
        ("version: 1\ninput: 20\nlayers: [{units: 3}]\nloss: sse\ndata: {batch: 100000000000}\n", "GiB"),
        ("version: 1\ninput: 30000\nlayers: [{units: 30000}]\nloss: sse\n", "94.0 GiB"),
    ],
)
def test_specs_too_large_for_memory_are_refused_before_allocating(write_spec, text: str, needs: str) -> None:
    result = run("check", write_spec(text))
    assert result.exit_code == 2
    assert f"this network needs about {needs}" in result.stderr or needs in result.stderr
    assert "raise the limit with --max-memory" in result.stderr


def test_the_memory_limit_can_be_raised(write_spec) -> None:
    spec = write_spec("version: 1\ninput: 300\nlayers: [{units: 300}]\nloss: sse\ndata: {batch: 2}\n")
    assert run("check", "--max-memory", "0.01", spec).exit_code == 2
    assert run("check", "--max-memory", "1", "--sample", "3", spec).exit_code == 0
