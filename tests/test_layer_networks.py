"""Networks of layer types other than dense, through the whole command: the spec's contract
(layout, shapes, names, every layer counted in l), user errors as one line, derivation names of
every parameter, --backward with 4-D quantities, and max-pool kinks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import SPECS, run, run_json
from gradcheck_cli.run.one_spec import load_problem

CONV_HEAD = """\
version: 1
layout: row
seed: 3
input: [1, 4, 4]
layers:
"""


def _one_error(path: Path) -> str:
    result = run("check", path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    return line


@pytest.mark.parametrize(("layers", "line", "message"), [
    ("  - {type: conv2d, filters: 2, kernel: 5}\n  - {type: flatten}\n  - {units: 2}\n", 6,
     "layer 1 (conv2d): its kernel 5 is larger than the input height 4; use a kernel of at most 4, or more padding"),
    ("  - {type: conv2d, filters: 2, kernel: 2, stride: 3}\n  - {type: flatten}\n  - {units: 2}\n", 6,
     "layer 1 (conv2d): kernel 2 with stride 3 leaves 2 position(s) of the input height 4 over"),
    ("  - {type: conv2d, filters: 2, kernel: 3}\n  - {units: 2}\n", 7,
     "layer 2 (dense): a dense layer takes one vector per sample, but its input is 2 x 2 x 2 per sample; "
     "put {type: flatten} before it"),
    ("  - {type: conv2d, filters: 2, kernel: 3}\n", 6,
     "the loss takes one vector per sample, but the last layer's output is 2 x 2 x 2 per sample"),
    ("  - {type: maxpool2d, size: 3}\n  - {type: flatten}\n  - {units: 2}\n", 6,
     "layer 1 (maxpool2d): window 3 with stride 3 leaves 1 position(s) of the input height 4 over"),
])
def test_bad_layer_arithmetic_is_one_line_with_the_layer_and_the_fix(write_spec, layers: str, line: int,
                                                                     message: str) -> None:
    path = write_spec(CONV_HEAD + layers + "loss: half_sse\n")
    assert _one_error(path).startswith(f"{path}:{line}: error: {message}")


def test_a_column_layout_spec_with_a_convolution_is_refused(write_spec) -> None:
    path = write_spec(CONV_HEAD.replace("layout: row", "layout: column")
                      + "  - {type: conv2d, filters: 2, kernel: 3}\n  - {type: flatten}\n  - {units: 2}\nloss: sse\n")
    result = run("check", path)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:6: error: layer 1 (conv2d): needs layout: row")
    assert lines[1].startswith(f"{path}:7: error: layer 2 (flatten): needs layout: row")


def test_a_conv_weight_of_the_wrong_shape_names_its_axes(write_spec) -> None:
    path = write_spec(CONV_HEAD + "  - {type: conv2d, filters: 2, kernel: 3}\n  - {type: flatten}\n  - {units: 2}\n"
                      "loss: sse\nparameters:\n  W1: [[1, 2], [3, 4]]\n")
    assert "W1 has shape 2x2, expected 2x1x3x3; conv2d's W is filters x channels x kernel height x kernel width" \
        in _one_error(path)


def test_explicit_images_must_match_the_input_shape(write_spec) -> None:
    path = write_spec(CONV_HEAD.replace("[1, 4, 4]", "[1, 2, 2]")
                      + "  - {type: flatten}\n  - {units: 1}\nloss: sse\n"
                      "data:\n  x: [[[[1, 2], [3, 4]]], [[[1, 2], [3]]]]\n  y: [[1], [2]]\n")
    assert "entry 1 of data.x.1.0 has shape 1, entry 0 has 2" in _one_error(path) or \
        "row 1 of data.x.1.0 has 1 numbers, row 0 has 2" in _one_error(path)
    path = write_spec(CONV_HEAD.replace("[1, 4, 4]", "[1, 2, 2]")
                      + "  - {type: flatten}\n  - {units: 1}\nloss: sse\n"
                      "data:\n  x: [[[1, 2], [3, 4]], [[1, 2], [3, 4]]]\n  y: [[1], [2]]\n", "flat.yaml")
    assert "data.x has shape 2x2x2, expected samples of 1x2x2 (the spec's input)" in _one_error(path)


def test_every_layer_counts_in_l_and_names_its_parameters() -> None:
    code, report = run_json("--jobs", "1", SPECS / "layers" / "maxpool2d.yaml", SPECS / "layers" / "batchnorm.yaml")
    assert code == 0
    names = [[p["name"] for p in spec["parameters"]] for spec in report["specs"]]
    assert names == [["W1", "gamma2", "beta2", "W4", "b4"], ["W1", "b1", "W4", "b4"]]  # in path order
    assert all(spec["rule"]["engine"] == "fast" for spec in report["specs"])


BATCHNORM = """\
version: 1
layout: row
seed: 4
input: 3
layers:
  - {units: 4}
  - {type: batchnorm}
  - {units: 2}
loss: half_sse
data: {batch: 5}
derivation:
  da3: a3 - y
  dz3: da3
  dW3: a2.T @ dz3
  da2: dz3 @ W3.T
  dz2: da2
  dgamma2: %s
  dbeta2: sum(dz2, axis=0)
  da1: %s
"""
RIGHT_DGAMMA, RIGHT_DA = "sum(dz2 * xhat2, axis=0)", (
    "(m * dz2 * gamma2 - sum(dz2 * gamma2, axis=0, keepdims=True) "
    "- xhat2 * sum(dz2 * gamma2 * xhat2, axis=0, keepdims=True)) * istd2 / m")


def test_batchnorm_derivation_names_are_checked(write_spec) -> None:
    code, report = run_json("--jobs", "1", write_spec(BATCHNORM % (RIGHT_DGAMMA, RIGHT_DA)))
    links = {k["name"]: k["status"] for k in report["specs"][0]["derivation"]}
    assert code == 0 and links["dgamma2"] == links["dbeta2"] == links["da1"] == "pass"
    code, report = run_json("--jobs", "1", write_spec(BATCHNORM % ("sum(dz2, axis=0)", "dz2 * gamma2 * istd2"),
                                                      "wrong.yaml"))
    links = {k["name"]: k["status"] for k in report["specs"][0]["derivation"]}
    assert code == 1 and links["dgamma2"] == "fail" and links["da1"] == "fail" and links["dbeta2"] == "pass"


def test_a_misspelled_gamma_gradient_is_refused_not_left_unchecked(write_spec) -> None:
    text = BATCHNORM.replace("  dgamma2: %s", "  d_gamma2: %s") % (RIGHT_DGAMMA, RIGHT_DA)
    line = _one_error(write_spec(text))
    assert "'d_gamma2' looks like a checked gradient but is none" in line and "dgamma2" in line




def test_backward_code_receives_4d_quantities_and_layer_quantities(tmp_path: Path) -> None:
    code_file = tmp_path / "mine.py"
    code_file.write_text(
        "def backward(q):\n"
        "    shapes = {k: q[k].shape for k in ('x', 'z1', 'a1', 'z2', 'a2', 'W1', 'mask4')}\n"
        "    assert shapes['x'] == (2, 1, 6, 6) and shapes['z1'] == (2, 2, 6, 6) and shapes['a2'] == (2, 2, 3, 3)\n"
        "    assert shapes['W1'] == (2, 1, 3, 3) and shapes['mask4'] == (2, 18)\n"
        "    dz5 = q['a5'] - q['y']\n"
        "    return {'dW5': q['a4'].T @ dz5, 'db5': dz5.sum(axis=0, keepdims=True), 'da4': dz5 @ q['W5'].T}\n")
    spec = tmp_path / "net.yaml"
    spec.write_text((SPECS / "layers" / "maxpool2d.yaml").read_text().replace(
        "  - {type: flatten}\n  - {units: 2}", "  - {type: flatten}\n  - {type: dropout, rate: 0.3}\n  - {units: 2}")
        .replace("loss: softmax_cross_entropy", "loss: half_sse"))
    result = run("check", "--format", "json", "--jobs", "1", "--backward", code_file, spec)
    links = {k["name"]: k["status"] for k in json.loads(result.stdout)["specs"][0]["derivation"]}
    assert result.exit_code == 0, result.output
    assert links == {"dW5": "pass", "db5": "pass", "da4": "pass"}


def test_a_max_pool_tie_is_a_kink_not_a_failure(write_spec) -> None:
    """Two equal values in one window: E has a kink there, the witness sees the argmax change hands
    and judges those entries by their one-sided slopes; nothing is reported wrong."""
    path = write_spec("""\
        version: 1
        layout: row
        input: [1, 2, 2]
        layers:
          - {type: maxpool2d, size: 2}
          - {type: flatten}
          - {units: 1}
        loss: half_sse
        data:
          x: [[[[0.5, 0.5], [0.1, -0.2]]], [[[1.0, 2.0], [0.0, 0.0]]]]
          y: [[1.0], [0.0]]
        derivation:
          dz3: a3 - y
          da2: dz3 @ W3.T
          da1: reshape_like(da2, a1)
          da0: upsample(da1, size=2) * maxmask(x, size=2)
        """.replace("        ", ""))
    code, report = run_json("--jobs", "1", path)
    [da0] = [k for k in report["specs"][0]["derivation"] if k["name"] == "da0"]
    assert code == 0 and da0["status"] in ("pass", "warn"), da0


def test_step_trains_gamma_and_beta_like_any_parameter() -> None:
    result = run("step", "--lr", "0.05", "--steps", "3", "--format", "json", SPECS / "layers" / "batchnorm.yaml")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["loss_after"] < report["loss_before"]
    before = load_problem(SPECS / "layers" / "batchnorm.yaml").params
    for name in ("gamma2", "beta2", "W1"):
        assert np.asarray(report["parameters"][name]).shape == before[name].shape, name
        assert not np.allclose(report["parameters"][name], before[name]), name


def test_a_gradient_of_a_parameter_the_layer_lacks_is_named_for_what_it_is(write_spec) -> None:
    """dgamma1 of a dense layer written with bias: none: the layer has no gamma (not 'bias: none')."""
    spec = ("version: 1\ninput: 2\nlayers:\n  - {units: 3, bias: none}\n  - {units: 1}\nloss: sse\n"
            "derivation:\n  %s: x\n")
    assert "dgamma1: layer 1 (dense) has no parameter gamma1" in _one_error(write_spec(spec % "dgamma1"))
    assert "db1: layer 1 has bias: none" in _one_error(write_spec(spec % "db1", "b.yaml"))
