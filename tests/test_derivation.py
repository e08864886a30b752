"""A student's derivation, checked link by link: verdicts, diagnoses, shapes, names, hostile formulas."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import SPECS, run, run_json

HOMEWORK = SPECS / "homework"

# (spec, first broken link, what the diagnosis must say)
DIAGNOSES = [
    ("seed002_missing_derivative.yaml", "dz2", r"activation derivative is missing: it equals dE/da2"),
    ("seed000_averaged_twice.yaml", "dW3", r"off by a factor of 1/m = 1/4: did you average over the batch twice"),
    ("seed004_relu_row_missing_2.yaml", "dz2", r"off by a factor of 1/2: half the gradient"),
    ("seed004_spiral_sign.yaml", "dz2", r"the sign is wrong"),
    ("seed004_relu_row_transposed.yaml", "dW1", r"the result is transposed: 8x10 where 10x8 is expected"),
    ("seed004_spiral_bias_not_summed.yaml", "db1", r"bias gradient must be summed over the batch.*one row per sample"),
    ("seed004_spiral_no_l2.yaml", "dW1", r"the L2 term l2 \* W1 is missing"),
    ("tanh_with_sigmoid_derivative.yaml", "dz2", r"used the derivative of sigmoid .* on a tanh layer"),
    ("conv_kernel_not_rotated.yaml", "da0", r"the kernel was not rotated .* rot180\(W1\)"),
    ("conv_bias_not_summed_over_positions.yaml", "db1", r"over the positions too: use sum\(dz1, axis=\(0, 2, 3\)\)"),
    ("conv_stride_ignored.yaml", "da0", r"the stride 2 was ignored in the backward: dilate dz1"),
    ("conv_padding_ignored.yaml", "da0", r"the padding was ignored in the backward.*crop 1 from each side"),
    ("conv_weight_gradient_rotated.yaml", "dW1", r"rotated by 180 degrees: .* the correlation of x"),
    ("maxpool_every_position.yaml", "da1", r"max-pool gradient was sent to every position of its window"),
    ("maxpool_averaged.yaml", "da1", r"max-pool gradient was averaged over the window"),
    ("batchnorm_missing_mean_variance.yaml", "da1", r"the terms through the mean and the variance are missing"),
    ("flatten_order.yaml", "da1", r"the flatten order: unflattened as height x width x channels"),
]


def derivation_of(path: Path) -> tuple[int, dict]:
    code, report = run_json("--jobs", "1", path)
    return code, report["specs"][0]


@pytest.mark.parametrize(("spec", "link", "pattern"), DIAGNOSES)
def test_each_diagnosis_on_a_deliberately_wrong_derivation(spec: str, link: str, pattern: str) -> None:
    code, result = derivation_of(HOMEWORK / spec)
    assert code == 0 and result["gate"] == "xfail"  # marked expect: fail, so the bundle stays green
    first = next(item for item in result["derivation"] if item["status"] == "fail")
    assert first["name"] == link
    assert re.search(pattern, first["diagnosis"]), first["diagnosis"]
    for later in result["derivation"][result["derivation"].index(first) + 1 :]:
        if later["status"] == "fail" and link in later["formula"]:
            assert later["diagnosis"].startswith(f"builds on {link}")


def test_disagreement_only_at_a_relu_kink_warns_and_says_so() -> None:
    code, result = derivation_of(HOMEWORK / "seed004_spiral_kink_mask.yaml")
    assert code == 0 and result["status"] == "warn"
    dz1 = next(link for link in result["derivation"] if link["name"] == "dz1")
    assert dz1["status"] == "warn"
    assert re.search(r"confined to 30 entries at a ReLU kink .* the check cannot decide", dz1["diagnosis"])
    assert run("check", "--fail-on", "warn", HOMEWORK / "seed004_spiral_kink_mask.yaml").exit_code == 1


@pytest.mark.parametrize("spec", sorted(p.name for p in HOMEWORK.glob("*_correct.yaml")))
def test_correct_derivations_pass_every_link(spec: str) -> None:
    code, result = derivation_of(HOMEWORK / spec)
    assert code == 0 and result["status"] == "pass"
    assert result["derivation"] and all(link["status"] == "pass" for link in result["derivation"])


def test_homework_covers_both_layouts_activations_losses_and_reductions() -> None:
    texts = [p.read_text() for p in HOMEWORK.glob("*.yaml")]
    for needle in ("layout: row", "relu", "tanh", "sigmoid", "loss: sse", "half_sse", "softmax_cross_entropy",
                   "reduction: mean"):
        assert any(needle in text for text in texts), needle
    assert any("layout" not in text for text in texts)  # column, the default


def test_seed000_typo_is_a_shape_mismatch_that_fails_with_exit_1(tmp_path: Path) -> None:
    code, result = derivation_of(HOMEWORK / "seed000_typo_W2_for_W1.yaml")
    da0 = result["derivation"][-1]
    assert da0["name"] == "da0" and da0["status"] == "fail"
    assert da0["message"] == "shape mismatch for '@': (5, 3) @ (5, 4); dE/da0 has shape 3x4"
    unmarked = tmp_path / "typo.yaml"
    unmarked.write_text((HOMEWORK / "seed000_typo_W2_for_W1.yaml").read_text().replace("expect: fail\n", ""))
    assert run("check", unmarked).exit_code == 1  # a wrong derivation, not an invalid spec


SPEC = """
    version: 1
    seed: 2
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 2, activation: sigmoid}
    loss: {name: half_sse, reduction: sum}
    data: {batch: 5}
    derivation:
"""
CORRECT = {
    "dz2": "(a2 - y) * a2 * (1 - a2)",
    "dW2": "dz2 @ a1.T",
    "dz1": "(W2.T @ dz2) * (1 - a1 ** 2)",
    "db1": "sum(dz1, axis=1)",  # (4,) where b1 is 4x1: notation, not a mistake
}


def spec_with(write_spec, formulas: dict[str, str], template: str = SPEC) -> Path:
    """The template with these formulas; in SPEC the first one lands on line 10. JSON strings are YAML too."""
    lines = "".join(f"      {key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in formulas.items())
    return write_spec(template + lines)


def test_singleton_dimensions_are_notation(write_spec) -> None:
    code, result = derivation_of(spec_with(write_spec, CORRECT))
    assert code == 0
    db1 = result["derivation"][-1]
    assert db1["shape"] == [4] and db1["expected_shape"] == [4, 1] and db1["status"] == "pass"


def test_helpers_are_evaluated_but_not_compared(write_spec) -> None:
    formulas = {"g": "a2 * (1 - a2)", "dz2": "(a2 - y) * g"}
    code, result = derivation_of(spec_with(write_spec, formulas))
    assert code == 0
    assert [(k["name"], k["status"], k["compared_with"]) for k in result["derivation"]] == [
        ("g", None, None), ("dz2", "pass", "dE/dz2 (delta^2)")]


def test_wrong_derivation_in_every_format(write_spec) -> None:
    path = spec_with(write_spec, {**CORRECT, "dz1": "(W2.T @ dz2) * a1 * (1 - a1)"})
    table = run("check", "--jobs", "1", path)
    assert table.exit_code == 1
    assert "<- first broken link" in table.stdout and "dz1: used the derivative of sigmoid" in table.stdout
    github = run("check", "--jobs", "1", "--format", "github", path).stdout
    assert re.search(r"^::error file=[^,]*,line=12,title=gradcheck%3A formula dz1 is wrong::", github, re.M)
    junit = run("check", "--jobs", "1", "--format", "junit", path).stdout
    assert 'name="derivation dz1"' in junit and "<failure" in junit


@pytest.mark.parametrize(
    ("formulas", "pattern"),
    [
        ({"dz2": "(a2 - yy)"}, r"formula dz2 uses unknown name 'yy'; did you mean 'y'\?"),
        ({"dz2": "dW2 * 2", "dW2": "a1"}, r"formula dz2 uses unknown name 'dW2'"),  # order matters
        ({"z1": "a1"}, r"formula 'z1' would hide the quantity of the same name"),
        ({"dW3": "a1"}, r"formula dW3: the network has no layer 3"),
    ],
)
def test_name_errors_are_spec_errors(write_spec, formulas: dict[str, str], pattern: str) -> None:
    result = run("check", spec_with(write_spec, formulas))
    assert result.exit_code == 2 and re.search(pattern, result.stderr), result.stderr


HOSTILE = [
    "__import__('os').system('touch /tmp/gradcheck-pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "a1.__class__",
    "x.__ｃｌａｓｓ__",
    "a1.T.__array_interface__",
    "a1.tofile('/tmp/gradcheck-pwned')",
    "a1.ctypes",
    "a1.dump('/tmp/gradcheck-pwned')",
    "open('/etc/passwd')",
    "exec('import os')",
    "eval('1')",
    "𝘦𝘷𝘢𝘭('1')",
    "getattr(a1, 'T')",
    "(lambda: a1)()",
    "[v for v in a1]",
    "f'{a1}'",
    "'{0.__class__}'.format(a1)",
    "(q := a1)",
    "a1 if m else a2",
    "a1 and a2",
    "9**9**9",
    "2**(10**6)",
    "a1 ** 100",
    "a1[0]",
    "sum(*[a1])",
    "sum(a1, axis=m)",
    "sum(a1, out=a1)",
    "np.exp(a1)",
    "1e309 * a1",
    "-" * 1001,
    "(" * 300 + "a1" + ")" * 300,
    "a1 // 2",
    "_secret",
    "outer(W1, W1)",
]


@pytest.mark.parametrize("formula", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_formulas_are_rejected_cleanly(write_spec, formula: str) -> None:
    path = spec_with(write_spec, {"dz2": formula})
    if "outer" in formula:  # a size that only the arrays reveal: W1 is 50x50, outer would be 6.25M numbers
        path.write_text(path.read_text().replace("input: 3", "input: 50").replace("units: 4", "units: 50"))
    result = run("check", "--jobs", "1", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}:10: error: formula dz2 "), lines
    assert not Path("/tmp/gradcheck-pwned").exists()


def test_at_least_twenty_hostile_formulas() -> None:
    assert len(HOSTILE) >= 20


def test_layer_gradient_norms_show_vanishing_gradients() -> None:
    """Seed 001's deep sigmoid network: each layer's gradient is several times smaller than the next's."""
    code, report = run_json("--jobs", "1", SPECS / "seed001_deep_sigmoid.yaml")
    norms = [p["grad_norm"] for p in report["specs"][0]["parameters"] if p["name"].startswith("W")]
    assert code == 0 and len(norms) == 5
    assert all(early * 2 < late for early, late in zip(norms, norms[1:], strict=False))
    assert "|grad|" in run("check", SPECS / "seed001_deep_sigmoid.yaml").stdout


SQUARE_MEAN = """
    version: 1
    seed: 5
    input: 4
    layers:
      - {units: 4, activation: tanh}
      - {units: 4, activation: sigmoid}
    loss: {name: half_sse, reduction: mean}
    data: {batch: 5}
    derivation:
"""


@pytest.mark.parametrize(
    ("formulas", "link", "pattern"),
    [
        ({"dz2": "(a2 - y) * a2 * (1 - a2)"}, "dz2", r"off by a factor of m = 5: the loss averages over the batch"),
        ({"dz2": "2 * (a2 - y) * a2 * (1 - a2) / m"}, "dz2", r"off by a factor of 2: twice the gradient"),
        ({"dz2": "(a2 - y) * a2 * (1 - a2) / m", "dW2": "a1 @ dz2.T"}, "dW2",
         r"the result is transposed \(square, so the shapes could not tell\)"),
        ({"dz2": "(a2 - y) * a2 * (1 - a2) / m", "dz1": "(W2.T @ dz2) * a1 * (1 - a1)"}, "dz1",
         r"used the derivative of sigmoid .* on a tanh layer"),
        ({"dz2": "(a2 - y) * a2 * (1 - a2) / m", "dz1": "(W2.T @ dz2) * (1 - tanh(a1) ** 2)"}, "dz1",
         r"the derivative of tanh was taken at a1 instead of z1"),
    ],
)
def test_more_diagnoses(write_spec, formulas: dict[str, str], link: str, pattern: str) -> None:
    code, result = derivation_of(spec_with(write_spec, formulas, SQUARE_MEAN))
    assert code == 1
    first = next(item for item in result["derivation"] if item["status"] == "fail")
    assert first["name"] == link and re.search(pattern, first["diagnosis"]), first


BACKWARD = '''
import numpy as np


def backward(q):
    """Seed 004's program 1 as the article writes it, in row layout."""
    grad_y_pred = 2.0 * (q["a2"] - q["y"])
    grad_h = grad_y_pred.dot(q["W2"].T)
    grad_h[q["z1"] < 0] = 0
    return {"dz2": grad_y_pred, "dW2": q["a1"].T.dot(grad_y_pred), "dz1": grad_h, "dW1": q["x"].T.dot(grad_h)}


def averaged(q):
    grads = backward(q)
    return {**grads, "dW1": grads["dW1"] / q["m"]}


def broken(q):
    return q["x"] @ q["x"]
'''


def test_backward_file_is_checked_name_by_name(tmp_path: Path) -> None:
    module = tmp_path / "my_backprop.py"
    module.write_text(BACKWARD)
    spec = HOMEWORK / "seed004_relu_row_correct.yaml"
    code, report = run_json("--jobs", "1", "--backward", module, spec)
    links = [k for k in report["specs"][0]["derivation"] if k["formula"] == "returned by my_backprop.py:backward"]
    assert code == 0 and [(k["name"], k["status"]) for k in links] == [
        ("dz2", "pass"), ("dW2", "pass"), ("dz1", "pass"), ("dW1", "pass")]
    other = spec.parent / "seed002_correct.yaml"
    code, report = run_json("--jobs", "2", "--backward", f"{module}:averaged", spec, other)
    relu = next(s for s in report["specs"] if s["path"] == str(spec))  # reports are sorted by path
    dW1 = next(k for k in relu["derivation"] if k["formula"].startswith("returned by") and k["name"] == "dW1")
    assert code == 1 and dW1["status"] == "fail" and "off by a factor of 1/m = 1/6" in dW1["diagnosis"]
    crashed = run("check", "--jobs", "1", "--backward", f"{module}:broken", spec)
    assert crashed.exit_code == 1 and "my_backprop.py:broken raised ValueError" in crashed.stdout


def test_checking_a_backward_file_leaves_its_folder_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No __pycache__ beside the student's file, even where Python writes bytecode (no
    PYTHONDONTWRITEBYTECODE), and the interpreter's own setting is restored afterwards."""
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    module = tmp_path / "my_backprop.py"
    module.write_text(BACKWARD)
    code, _ = run_json("--jobs", "1", "--backward", module, HOMEWORK / "seed004_relu_row_correct.yaml")
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["my_backprop.py"]
    assert sys.dont_write_bytecode is False


def test_backward_file_that_cannot_be_loaded_is_a_usage_error(tmp_path: Path) -> None:
    spec = HOMEWORK / "seed002_correct.yaml"
    assert "file not found" in run("check", "--backward", tmp_path / "nope.py", spec).output
    bad = tmp_path / "bad.py"
    bad.write_text("def backward(:\n")
    result = run("check", "--backward", bad, spec)
    assert result.exit_code == 2 and "failed to load: SyntaxError" in result.output
    assert run("check", "--backward", f"{bad}:missing", spec).exit_code == 2
