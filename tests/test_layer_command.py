"""gradcheck layer: the course's contract checked with gradcheck's verdict. The bundled examples pass
or fail as they say, each wrong layer with its diagnosis; the numerical VJP is right on functions
whose VJP is known; the registry's reference reproduces the forward values the courses publish;
and every kind of broken user code or spec ends in one clear line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import LAYER_CHECKS, SPECS, run
from gradcheck_cli.commands.layer_reference import reference_of
from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.losses import LOSSES
from gradcheck_cli.reading.layer_spec import parse_layer_check
from gradcheck_cli.reading.loader import load_mapping
from gradcheck_cli.witness.central import CENTRAL_EPS
from gradcheck_cli.witness.vjp import vjp_witness

CODE = LAYER_CHECKS / "layers.py"


def layer_json(*args: str | Path) -> tuple[int, dict]:
    result = run("layer", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


def rows_of(spec: dict) -> dict[str, dict]:
    return {row["name"]: row for row in spec["parameters"]}


def test_every_example_passes_or_fails_as_it_says() -> None:
    code, report = layer_json(LAYER_CHECKS, "--code", CODE)
    gates = {Path(s["path"]).name: s["gate"] for s in report["specs"]}
    assert code == 0 and len(gates) == len(list(LAYER_CHECKS.glob("*.yaml")))
    expected = {path.name: "xfail" if "expect: fail" in path.read_text() else "ok"
                for path in LAYER_CHECKS.glob("*.yaml")}
    assert gates == expected
    assert sum(gate == "ok" for gate in gates.values()) >= 9  # correct layers of every kind, each compared


@pytest.mark.parametrize(("spec", "row", "says"), [
    ("affine_bias_mean.yaml", "db", "off by a constant factor of 0.25"),
    ("conv_flipped_kernel.yaml", "dx", "the kernel was not rotated (or was rotated twice)"),
    ("max_pool_averaged.yaml", "dx", "averaged over the window"),
    ("batchnorm_no_statistics.yaml", "dx", "the terms through the mean and the variance are missing"),
    ("softmax_loss_not_averaged.yaml", "dx", "off by a constant factor of 5"),
    ("word_embedding_overwritten.yaml", "dW", "a repeated index keeps only one of its gradients"),
    ("relu_in_place.yaml", "out vs activation relu", "the forward writes into its input x"),
    ("relu_no_derivative.yaml", "dx", "it equals dout, the upstream gradient: the layer's own derivative is missing"),
    ("layernorm_no_statistics.yaml", "dx", "the terms through the mean and the variance are missing"),
    ("flatten_order.yaml", "dx", "unflattened in Fortran order"),
    ("rnn_no_recurrent_path.yaml", "dWh", "the path through h_(t+1) is missing"),
    ("rnn_no_recurrent_path.yaml", "dh0 vs rnn", "the path through h_(t+1) is missing"),
    ("lstm_forget_on_c_t.yaml", "dWx", "the forget gate is applied to c_t"),
    ("dropout_unscaled.yaml", "dx", "off by a constant factor of 0.6"),
    ("softmax_loss_sign.yaml", "dx vs loss softmax_cross_entropy", "the sign is wrong"),
    ("avg_pool_nhwc_not_shared.yaml", "dA_prev", "off by a constant factor of 4"),
    ("gru_no_recurrent_path.yaml", "dWh vs gru", "the path through h_(t+1) is missing"),
    ("lstm_ng_forget_on_c_t.yaml", "dWf vs lstm", "not a transpose, a constant factor"),  # Ng's layout: generic
])
def test_each_wrong_layer_fails_with_its_diagnosis(spec: str, row: str, says: str) -> None:
    code, report = layer_json(LAYER_CHECKS / spec, "--code", CODE)
    checked = report["specs"][0]
    assert code == 0 and checked["status"] == "fail" and checked["gate"] == "xfail"
    assert says in rows_of(checked)[row]["note"]


def _line_of(text: str) -> int:
    """The line of layers.py that holds ``text``, as a traceback names it."""
    return next(i for i, line in enumerate(CODE.read_text().splitlines(), start=1) if text in line)


@pytest.mark.parametrize(("spec", "says"), [
    ("conv_bias_per_position.yaml", "db has shape 2x5x5, but b has shape 2: the bias gradient must be summed over "
                                    "the positions too"),
    ("affine_dw_transposed.yaml", "dw has shape 5x6, but w has shape 6x5: it is transposed"),
    ("conv_cache_mismatch.yaml", "raised ValueError: not enough values to unpack (expected 5, got 4) (layers.py, "
                                 f"line {_line_of('padded = cache')}); does the forward's cache carry everything the "
                                 "backward reads from it?"),
])
def test_a_gradient_that_cannot_be_compared_is_a_fail_with_its_cause(spec: str, says: str) -> None:
    code, report = layer_json(LAYER_CHECKS / spec, "--code", CODE)
    assert code == 0 and report["specs"][0]["gate"] == "xfail" and says in report["specs"][0]["message"]


def test_a_backward_consistent_with_a_wrong_forward_passes_its_own_check_and_the_forward_is_named() -> None:
    _, report = layer_json(LAYER_CHECKS / "affine_forward_sign.yaml", "--code", CODE)
    rows = rows_of(report["specs"][0])
    forward = rows["out vs dense"]
    assert forward["status"] == "fail" and "the forward differs from dense's" in forward["note"]
    assert rows["db"]["status"] == "pass"  # the backward is right for the forward it was given
    assert rows["db vs dense"]["status"] == "fail"
    assert "consistent with your own forward, which is what differs from dense" in rows["db vs dense"]["note"]


def test_the_vjp_witness_is_the_known_vjp_of_smooth_and_kinked_functions() -> None:
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    dout = rng.standard_normal((3, 2))
    witness = vjp_witness(lambda a: [np.tanh(a["x"] @ a["w"])], {"x": x, "w": w}, ["x", "w"], [dout], CENTRAL_EPS)
    dz = dout * (1 - np.tanh(x @ w) ** 2)
    np.testing.assert_allclose(witness.gradient["dx"], dz @ w.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(witness.gradient["dw"], x.T @ dz, rtol=1e-7, atol=1e-9)
    assert not witness.kink["dx"].any()
    at_kink = np.array([[0.0, 1.0, -2.0]])
    relu = vjp_witness(lambda a: [np.maximum(a["x"], 0)], {"x": at_kink}, ["x"], [np.ones((1, 3))], CENTRAL_EPS)
    assert relu.kink["dx"].tolist() == [[True, False, False]]  # only the entry at 0 straddles the kink
    assert relu.left["dx"][0, 0] == 0 and relu.right["dx"][0, 0] == pytest.approx(1, rel=1e-9)


def _case(spec: dict):  # noqa: ANN202
    data, source = load_mapping(spec)
    return parse_layer_check(data, source)


def test_the_reference_reproduces_the_forward_values_cs231n_publishes() -> None:
    """cs231n's notebooks print correct_out for inputs made with np.linspace (affine, conv)."""
    x = np.linspace(-0.1, 0.5, num=240).reshape(2, 4, 5, 6)
    w, b = np.linspace(-0.2, 0.3, num=360).reshape(120, 3), np.linspace(-0.3, 0.1, num=3)
    affine = _case({"version": 1, "function": {"forward": "f", "backward": "g"}, "reference": {"type": "dense"},
                    "inputs": {"x": {"values": x.tolist()}, "w": {"values": w.tolist()}, "b": {"values": b.tolist()}}})
    out = reference_of(affine).forward(affine.arrays)[0]
    np.testing.assert_allclose(out, [[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]],
                               atol=1e-8)
    x = np.linspace(-0.1, 0.5, num=96).reshape(2, 3, 4, 4)
    w, b = np.linspace(-0.2, 0.3, num=144).reshape(3, 3, 4, 4), np.linspace(-0.1, 0.2, num=3)
    conv = _case({"version": 1, "function": {"forward": "f", "backward": "g"},
                  "reference": {"type": "conv2d", "stride": 2, "padding": 1},
                  "inputs": {"x": {"values": x.tolist()}, "w": {"values": w.tolist()}, "b": {"values": b.tolist()}}})
    out = reference_of(conv).forward(conv.arrays)[0]
    np.testing.assert_allclose(out[0, 0], [[-0.08759809, -0.10987781], [-0.18387192, -0.2109216]], atol=1e-8)
    np.testing.assert_allclose(out[1, 2], [[2.36270298, 2.36904306], [2.38090835, 2.38247847]], atol=1e-8)
    x = np.linspace(-0.3, 0.4, num=96).reshape(2, 3, 4, 4)
    pool = _case({"version": 1, "function": {"forward": "f", "backward": "g"},
                  "reference": {"type": "maxpool2d", "size": 2, "stride": 2}, "inputs": {"x": {"values": x.tolist()}}})
    out = reference_of(pool).forward(pool.arrays)[0]
    np.testing.assert_allclose(out[0, 0], [[-0.26315789, -0.24842105], [-0.20421053, -0.18947368]], atol=1e-8)
    np.testing.assert_allclose(out[1, 2], [[0.32631579, 0.34105263], [0.38526316, 0.4]], atol=1e-8)


BROKEN = '''
import sys
import numpy as np


def raises(x):
    return {}["missing"]


def exits(x):
    sys.exit(3)


def too_few(x):
    return x


def relu_forward(x):
    print("a student's debugging print")
    return np.maximum(x, 0), x


def nan_forward(x):
    return x * np.nan, x


def relu_backward(dout, x):
    return dout * (x > 0)


def scaled_forward(x, params):
    return x * params["s"] + params["t"], (x, params)


def scaled_backward(dout, cache):
    x, params = cache
    return {"dx": dout * params["s"], "ds": dout * x, "dt": dout}


def scaled_backward_stray(dout, cache):
    return {**scaled_backward(dout, cache), "dq": dout}


def scaled_backward_partial(dout, cache):
    grads = scaled_backward(dout, cache)
    return {"dx": grads["dx"], "ds": grads["ds"]}


def two_outputs(x):
    return 2 * x, x**2, x


def first_only(dfirst, x):
    return 2 * dfirst


def two_grads(dout, cache):
    return dout, dout


def wrong_shape(dout, cache):
    return dout.T


def spins(x):
    while True:
        pass
'''


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "student.py"
    path.write_text(BROKEN)
    return path


def _spec(write_spec, forward: str, backward: str = "two_grads", extra: str = "") -> Path:  # noqa: ANN001
    return write_spec(f"""
        version: 1
        function: {{forward: {forward}, backward: {backward}}}
        inputs:
          x: [2, 3]
        {extra}
    """)


@pytest.mark.parametrize(("forward", "backward", "says"), [
    ("raises", "two_grads", "student.py:raises raised KeyError: 'missing' (student.py, line 7)"),
    ("exits", "two_grads", "student.py:exits raised SystemExit: sys.exit(3) (student.py, line 11)"),
    ("too_few", "two_grads", "student.py:too_few returned ndarray; the spec expects (out, cache)"),
    ("nan_forward", "two_grads", "student.py:nan_forward's out holds 6 non-finite value(s)"),
    ("relu_forward", "two_grads", "student.py:two_grads returned 2 gradient(s); the spec's inputs need 1: dx"),
    ("relu_forward", "wrong_shape", "student.py:wrong_shape's dx has shape 3x2, but x has shape 2x3"),
])
def test_broken_user_code_is_a_fail_naming_it_never_a_traceback(write_spec, broken: Path, forward: str,  # noqa: ANN001
                                                                 backward: str, says: str) -> None:
    result = run("layer", "--format", "json", _spec(write_spec, forward, backward), "--code", broken)
    spec = json.loads(result.stdout)["specs"][0]
    assert result.exit_code == 1 and spec["status"] == "fail" and says in spec["message"]


def test_the_students_prints_go_to_stderr_and_the_json_stays_whole(write_spec, broken: Path) -> None:  # noqa: ANN001
    result = run("layer", "--format", "json", _spec(write_spec, "relu_forward", "relu_backward"), "--code", broken)
    assert json.loads(result.stdout)["specs"][0]["status"] == "pass"
    assert "a student's debugging print" in result.stderr


def test_code_that_never_returns_is_ended_by_the_time_budget(write_spec, broken: Path) -> None:  # noqa: ANN001
    result = run("layer", "--timeout", "1", _spec(write_spec, "spins"), "--code", broken)
    assert result.exit_code == 2 and "the check took longer than its time budget of 1 s" in result.stderr


@pytest.mark.parametrize(("text", "says"), [
    ("function: {forward: relu_forward, backward: nowhere}\ninputs: {x: [2, 3]}", "has no function 'nowhere'"),
    ("function: {forward: relu_forward}\ninputs: {x: [2, 3]}", "function: give forward and backward, or loss"),
    ("function: {loss: a, forward: b, backward: c}\ninputs: {x: [2, 3]}", "or loss, not both"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3]}\nrefrence: {type: dense}",
     "unknown key 'refrence'; did you mean 'reference'?"),
    ("function: {forward: f, backward: g}\ninputs: {y: {shape: [3], below: 2}}", "every input is integer"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2]}\ncheck: {method: complex}",
     "gradcheck layer witnesses by central differences, not complex"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2]}\ncheck: {rtol: 1.0e+10}",
     "check.rtol must be a finite number from 1e-12 to 0.01, not 10000000000.0"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3]}\nreference: {activation: leaky_relu, alfa: 0.2}",
     "unknown key 'alfa' in reference; did you mean 'alpha'?"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3]}\nreference: {activation: tanh, alpha: 0.2}",
     "activation 'tanh' takes no alpha"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 1, 5, 5], w: [1, 1, 3, 3], b: [1]}\n"
     "reference: {type: conv2d, strides: 2}", "unknown key 'strides' in reference; did you mean 'stride'?"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3]}\nreference: {type: conv3d}",
     "unknown layer type 'conv3d'; did you mean 'conv2d'?"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3], w: [4, 5]}\nreference: {type: dense}",
     "inputs.w has shape [4, 5], but the dense reference's W is [3, 5]"),
    ("function: {forward: f, backward: g}\ninputs: {x: [2, 3], q: [3]}\nreference: {type: dense}",
     "a dense reference takes one input besides its parameters (W, b), but x, q are left"),
    ("function: {loss: f}\ninputs: {x: [2, 3], y: {values: [0, 5], integer: true}}\n"
     "reference: {loss: softmax_cross_entropy}", "inputs.y holds labels outside 0..2"),
])
def test_a_bad_layer_spec_is_one_line_with_exit_2(write_spec, broken: Path, text: str, says: str) -> None:  # noqa: ANN001
    path = write_spec("version: 1\n" + text + "\n")
    result = run("layer", path, "--code", broken)
    assert result.exit_code == 2 and says in result.stderr and result.stderr.startswith(f"{path}:")
    assert "Traceback" not in result.stderr + result.stdout


def test_a_missing_code_file_is_a_usage_error(write_spec) -> None:  # noqa: ANN001
    result = run("layer", _spec(write_spec, "f"), "--code", "no_such_file.py")
    assert result.exit_code == 2 and "--code: no_such_file.py: file not found" in result.stderr


def test_check_and_layer_each_refuse_the_others_spec_named_explicitly() -> None:
    as_network = run("check", LAYER_CHECKS / "relu.yaml")
    assert as_network.exit_code == 2 and "run it with gradcheck layer SPEC --code FILE.py" in as_network.stderr
    as_layer = run("layer", SPECS / "seed002_two_layer_sigmoid.yaml", "--code", CODE)
    assert as_layer.exit_code == 2 and "not a layer check" in as_layer.stderr


def test_a_folder_run_of_check_skips_the_layer_checks_with_a_note() -> None:
    result = run("check", "--format", "json", LAYER_CHECKS.parent / "layer_checks")
    assert result.exit_code == 2  # nothing but layer checks: a search that found no spec at all
    assert "skipped" in result.stderr and "a layer check" in result.stderr


STUDENT = '''
import numpy as np

ELEMENTWISE = {  # each activation and its derivative, as a student writes them
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a)),
    "tanh": (np.tanh, lambda z, a: 1 - a**2),
    "relu": (lambda z: np.maximum(z, 0), lambda z, a: (z > 0) * 1.0),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z, a: np.where(z > 0, 1.0, 0.01)),
    "elu": (lambda z: np.where(z > 0, z, np.exp(z) - 1), lambda z, a: np.where(z > 0, 1.0, np.exp(z))),
    "softplus": (lambda z: np.log1p(np.exp(z)), lambda z, a: 1 / (1 + np.exp(-z))),
}


def _pair(f, df):
    return (lambda x: (f(x), x)), (lambda dout, x: dout * df(x, f(x)))


for _name, (_f, _df) in ELEMENTWISE.items():
    globals()[_name + "_forward"], globals()[_name + "_backward"] = _pair(_f, _df)


def softmax_forward(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    a = e / e.sum(axis=1, keepdims=True)
    return a, a


def softmax_backward(dout, a):
    return a * (dout - (dout * a).sum(axis=1, keepdims=True))


def derivative_missing(dout, x):
    return dout


def tanh_derivative_at_output(dout, x):
    return dout * (1 - np.tanh(np.tanh(x)) ** 2)


def tanh_with_sigmoid_derivative(dout, x):
    a = np.tanh(x)
    return dout * a * (1 - a)


def half_sse(x, y):
    return 0.5 * ((x - y) ** 2).sum() / len(x), (x - y) / len(x)


def sse(x, y):
    return ((x - y) ** 2).sum() / len(x), 2 * (x - y) / len(x)


def mse(x, y):
    return ((x - y) ** 2).mean(axis=1).mean(), 2 * (x - y) / x.size


def cross_entropy(x, y):
    rows = np.arange(len(x))
    dx = np.zeros_like(x)
    dx[rows, y] = -1 / x[rows, y]
    return -np.log(x[rows, y]).mean(), dx / len(x)


def softmax_cross_entropy(x, y):
    a, _ = softmax_forward(x)
    rows = np.arange(len(x))
    dx = a.copy()
    dx[rows, y] -= 1
    return -np.log(a[rows, y]).mean(), dx / len(x)


def binary_cross_entropy(x, y):
    loss = -(y * np.log(x) + (1 - y) * np.log(1 - x)).sum(axis=1).mean()
    return loss, (-y / x + (1 - y) / (1 - x)) / len(x)


for _name in ("half_sse", "sse", "mse", "cross_entropy", "softmax_cross_entropy", "binary_cross_entropy"):
    globals()[_name + "_doubled"] = (lambda f: (lambda x, y: (f(x, y)[0], 2 * f(x, y)[1])))(globals()[_name])
'''


@pytest.fixture
def student(tmp_path: Path) -> Path:
    path = tmp_path / "student.py"
    path.write_text(STUDENT)
    return path


def test_an_activation_reference_takes_its_alpha(write_spec, student: Path) -> None:  # noqa: ANN001
    """The student's leaky_relu has alpha 0.01: it passes with the default and fails against 0.2."""
    text = "version: 1\nfunction: {forward: leaky_relu_forward, backward: leaky_relu_backward}\ninputs: {x: [4, 5]}\n"
    assert layer_json(write_spec(text + "reference: {activation: leaky_relu}\n"), "--code", student)[0] == 0
    code, report = layer_json(write_spec(text + "reference: {activation: leaky_relu, alpha: 0.2}\n"), "--code",
                              student)
    assert code == 1 and rows_of(report["specs"][0])["out vs activation leaky_relu"]["status"] == "fail"


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_as_a_layer_against_the_registry(write_spec, student: Path, name: str) -> None:  # noqa: ANN001
    spec = write_spec(f"version: 1\nfunction: {{forward: {name}_forward, backward: {name}_backward}}\n"
                      f"inputs: {{x: [4, 5]}}\nreference: {{activation: {name}}}\nseed: 3\n")
    code, report = layer_json(spec, "--code", student)
    assert code == 0 and {row["name"]: row["status"] for row in report["specs"][0]["parameters"]} == {
        f"out vs activation {name}": "pass", "dx": "pass", f"dx vs activation {name}": "pass"}
    if name not in ("identity", "softmax"):  # a backward without the activation's derivative fails
        wrong = write_spec(spec.read_text().replace(f"backward: {name}_backward", "backward: derivative_missing"),
                           name="wrong.yaml")
        assert layer_json(wrong, "--code", student)[0] == 1


@pytest.mark.parametrize(("backward", "says"), [
    ("derivative_missing", "it equals dout, the upstream gradient: the layer's own derivative is missing"),
    ("tanh_derivative_at_output", "the derivative of tanh was taken at its output a instead of its input x"),
    ("tanh_with_sigmoid_derivative", "used the derivative of sigmoid (da/dz = a (1 - a)) on a tanh layer"),
])
def test_an_activations_classic_wrong_derivatives_are_named(write_spec, student: Path, backward: str,  # noqa: ANN001
                                                            says: str) -> None:
    spec = write_spec(f"version: 1\nfunction: {{forward: tanh_forward, backward: {backward}}}\ninputs: {{x: [4, 5]}}\n"
                      "reference: {activation: tanh}\n")
    code, report = layer_json(spec, "--code", student)
    assert code == 1 and says in rows_of(report["specs"][0])["dx"]["note"]


LOSS_INPUTS = {  # the scores each loss takes, and its targets
    "half_sse": "x: [4, 3]\n  y: [4, 3]", "sse": "x: [4, 3]\n  y: [4, 3]", "mse": "x: [4, 3]\n  y: [4, 3]",
    "softmax_cross_entropy": "x: [4, 3]\n  y: {shape: [4], below: 3}",
    "cross_entropy": "x: {values: [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5], [0.7, 0.2, 0.1]]}\n"
                     "  y: {values: [2, 0, 1, 0], integer: true}",
    "binary_cross_entropy": "x: {values: [[0.2, 0.9], [0.6, 0.4], [0.35, 0.75]]}\n"
                            "  y: {values: [[0.0, 1.0], [1.0, 0.0], [0.5, 1.0]]}",
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_function_against_the_registry(write_spec, student: Path, name: str) -> None:  # noqa: ANN001
    text = f"version: 1\nfunction: {{loss: {name}}}\ninputs:\n  {LOSS_INPUTS[name]}\nreference: {{loss: {name}}}\n"
    code, report = layer_json(write_spec(text), "--code", student)
    rows = {row["name"]: row for row in report["specs"][0]["parameters"]}
    assert code == 0 and [row["status"] for row in rows.values()] == ["pass"] * 3
    code, report = layer_json(write_spec(text.replace(f"loss: {name}}}\ninputs", f"loss: {name}_doubled}}\ninputs"),
                                         name="doubled.yaml"), "--code", student)
    assert code == 1 and "off by a factor of 2" in rows_of(report["specs"][0])["dx"]["note"]


def test_every_registry_layer_type_is_the_reference_of_an_example() -> None:
    """Dropout is checked against the student's own forward only: its mask comes from the student's seed."""
    references = [yaml.safe_load(path.read_text()).get("reference") or {} for path in LAYER_CHECKS.glob("*.yaml")]
    assert set(LAYER_TYPES) - {"dropout"} <= {reference.get("type") for reference in references}
    conventions = [yaml.safe_load(path.read_text()).get("conventions") for path in LAYER_CHECKS.glob("*.yaml")]
    assert {"layout": "NHWC"} in conventions and {"linear": "out_in"} in conventions
    assert {"gates": "ifgo"} in conventions


@pytest.mark.parametrize("fmt", ["junit", "github"])
def test_the_ci_formats_carry_the_failing_rows_and_their_diagnosis(fmt: str, write_spec) -> None:  # noqa: ANN001
    unmarked = (LAYER_CHECKS / "conv_flipped_kernel.yaml").read_text().replace("expect: fail", "")
    result = run("layer", "--format", fmt, write_spec(unmarked), "--code", CODE)
    failing = [line for line in result.stdout.splitlines() if "the kernel was not rotated" in line]
    assert result.exit_code == 1 and len(failing) == 2  # dx, and dx vs conv2d
    assert "dw" in result.stdout or fmt == "github"  # github annotates the failures alone


DICT_SPEC = """
    version: 1
    function: {{forward: scaled_forward, backward: {backward}}}
    inputs:
      x: [3, 2]
      params: {{arrays: {{s: [3, 2], t: [3, 2]}}}}
"""


def test_a_dict_argument_and_a_dict_of_gradients_as_ngs_course_passes_them(write_spec, broken: Path) -> None:  # noqa: ANN001
    code, report = layer_json(write_spec(DICT_SPEC.format(backward="scaled_backward")), "--code", broken)
    assert code == 0 and [row["name"] for row in report["specs"][0]["parameters"]] == ["dx", "ds", "dt"]
    partial = layer_json(write_spec(DICT_SPEC.format(backward="scaled_backward_partial")), "--code", broken)[1]
    spec = partial["specs"][0]
    assert [row["name"] for row in spec["parameters"]] == ["dx", "ds"]  # dt was not returned: not checked, and said
    assert "the backward returned no gradient of t: not checked" in spec["parameters"][0]["note"]
    stray = run("layer", "--format", "json", write_spec(DICT_SPEC.format(backward="scaled_backward_stray")),
                "--code", broken)
    assert stray.exit_code == 1 and "returned 'dq', which is no input's gradient" in stray.stdout


def test_upstream_names_the_outputs_the_backward_takes_a_gradient_of(write_spec, broken: Path) -> None:  # noqa: ANN001
    text = "version: 1\nfunction: {forward: two_outputs, backward: first_only}\ninputs: {x: [3]}\noutputs: [a, b]\n"
    assert layer_json(write_spec(text + "upstream: [a]\n"), "--code", broken)[0] == 0
    assert layer_json(write_spec(text), "--code", broken)[0] == 1  # given both outputs' gradients, it fails
    wrong = run("layer", write_spec(text + "upstream: [c]\n"), "--code", broken)
    assert wrong.exit_code == 2 and "upstream names 'c', which is not one of the outputs" in wrong.stderr


def test_every_registry_layer_type_has_a_wrong_example_that_fails() -> None:
    """Dropout's wrong example has no reference (its mask is the student's own draw)."""
    specs = [yaml.safe_load(path.read_text()) for path in LAYER_CHECKS.glob("*.yaml")]
    wrong = {(spec.get("reference") or {}).get("type") for spec in specs if spec.get("expect") == "fail"}
    assert set(LAYER_TYPES) - {"dropout"} <= wrong
    assert any(spec.get("expect") == "fail" and "dropout" in spec["function"].get("forward", "") for spec in specs)


def test_inputs_too_large_to_check_are_refused_before_anything_is_drawn(write_spec, broken: Path) -> None:  # noqa: ANN001
    path = write_spec("version: 1\nfunction: {forward: f, backward: g}\ninputs: {x: [100000, 100000]}\n")
    result = run("layer", path, "--code", broken)
    assert result.exit_code == 2 and "ask for 10,000,000,000 numbers, more than the 2,000,000" in result.stderr


def test_a_folder_without_a_layer_check_is_an_error_not_a_pass() -> None:
    """Every file a search finds skipped would check nothing: that must not exit 0."""
    result = run("layer", SPECS / "homework" / "bptt" / "..", "--code", CODE)  # network specs only
    assert result.exit_code == 2 and "none of the" in result.stderr and "is a layer check" in result.stderr
