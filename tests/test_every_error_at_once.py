"""A spec reports everything wrong with it at once, as pydantic and ruff do: every schema problem,
every layer's, every formula's, each one line with its own line number, in every format; names in
formulas (functions, keywords, attributes, quantities) get "did you mean"; validate evaluates a
derivation's shapes without computing a gradient."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from conftest import run

SCHEMA = """
    version: 1
    seed: 5
    inputs: 3
    layers:
      - {units: 4, activation: tanh, bais: none}
      - {units: two, activation: sigmoid}
    loss: half_sse
    data: {batch: 0}
"""
NAMES = """
    version: 1
    input: 3
    layers:
      - {units: 4, activation: tanhh}
      - {units: 2, activation: sigmod}
    loss: half_ssee
"""
FORMULAS = """
    version: 1
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 2, activation: sigmoid}
    loss: half_sse
    parameters: {W1: [[1.0, 2.0]]}
    derivation:
      dz2: (a2 - y) * a2 * (1 - a2)
      dW2: dz2 @ a1.t
      db2: sum(dz2, axis=1, keepdim=True)
      dz1: (W2.T @ dz2) * (1 - a1 ** 2) + sigmod(z1)
      dW1: dz1 @ x.T + yy
"""
# spec -> (line, words) of every problem, in order
EXPECTED = {
    SCHEMA: [(3, "unknown key 'inputs'; did you mean 'input'?"),
             (5, "unknown key 'bais' in layers[0]; did you mean 'bias'?"),
             (6, "layers[1].units must be a whole number"), (8, "data.batch must be greater than 0")],
    NAMES: [(4, "unknown activation 'tanhh'; did you mean 'tanh'?"),
            (5, "unknown activation 'sigmod'; did you mean 'sigmoid'?"),
            (6, "unknown loss 'half_ssee'; did you mean 'half_sse'?")],
    FORMULAS: [(7, "W1 has shape 1x2, expected 4x3"), (10, "attribute '.t' is not allowed; did you mean '.T'?"),
               (11, "sum() takes no keyword 'keepdim'; did you mean 'keepdims'?"),
               (12, "function 'sigmod' is not available; did you mean 'sigmoid'?"),
               (13, "formula dW1 uses unknown name 'yy'; did you mean 'y'?")],
}
IDS = ["schema", "names", "formulas"]


@pytest.mark.parametrize("text", list(EXPECTED), ids=IDS)
def test_every_problem_is_one_line_of_its_own(write_spec, text: str) -> None:
    path = write_spec(text)
    result = run("check", "--jobs", "1", "--color", "never", path, env={"COLUMNS": "1000"})
    lines = result.stderr.splitlines()
    assert result.exit_code == 2 and len(lines) == len(EXPECTED[text]), lines
    for line, (number, words) in zip(lines, EXPECTED[text], strict=True):
        assert line.startswith(f"{path}:{number}: error: ") and words in line, line
    table = [line for line in result.stdout.splitlines() if line.startswith("ERROR ")]
    assert [line.removeprefix("ERROR  ") for line in table] == lines


@pytest.mark.parametrize("text", list(EXPECTED), ids=IDS)
def test_every_format_carries_every_problem(write_spec, text: str) -> None:
    path = write_spec(text)
    numbers = [number for number, _ in EXPECTED[text]]
    report = json.loads(run("check", "--jobs", "1", "--format", "json", path).stdout)
    assert [error["line"] for error in report["specs"][0]["errors"]] == numbers
    github = run("check", "--jobs", "1", "--format", "github", path).stdout
    annotated = [line for line in github.splitlines() if line.startswith("::error")]
    assert [int(line.split("line=")[1].split(",")[0]) for line in annotated] == numbers
    [error] = ET.fromstring(run("check", "--jobs", "1", "--format", "junit", path).stdout).iter("error")
    assert len(error.text.splitlines()) == len(numbers)


def test_validate_reports_every_problem_too(write_spec) -> None:
    result = run("validate", write_spec(FORMULAS))
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == len(EXPECTED[FORMULAS])


SHAPES = """
    version: 1
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 2, activation: sigmoid}
    loss: half_sse
    derivation:
      dz2: (a2 - y) * a2 * (1 - a2)
      dW2: a1 @ dz2
      db2: sum(dz2, axis=0, keepdims=True)
      dz1: (W2.T @ dz2) * (1 - a1 ** 2)
"""


def test_validate_evaluates_the_shapes_of_a_derivation(write_spec) -> None:
    path = write_spec(SHAPES)
    result = run("validate", "--color", "never", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines == [f"{path}:9: fail: formula dW2: shape mismatch for '@': (4, 4) @ (2, 4); dE/dW2 has shape 2x4",
                     f"{path}:10: fail: formula db2: shape 1x4, expected 2x1"]
    fixed = write_spec(SHAPES.replace("a1 @ dz2", "dz2 @ a1.T").replace("axis=0", "axis=1"), name="fixed.yaml")
    assert run("validate", fixed).exit_code == 0  # right shapes: valid, though no gradient was compared


def test_validate_lists_the_misfits_of_an_expected_failure_but_passes_it(write_spec) -> None:
    result = run("validate", "--color", "never", write_spec(SHAPES + "    expect: fail\n"))
    assert result.exit_code == 0 and "fail (expected: the spec says expect: fail): formula dW2" in result.stdout
