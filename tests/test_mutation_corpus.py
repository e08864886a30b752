"""The mutation corpus: 10 networks x 10 kinds of wrong backward pass; every one must FAIL.

The derivative taken at a instead of z is no mistake for relu and leaky_relu (a > 0 exactly when
z > 0): those 3 equivalent mutants are asserted to be equivalent and left out of the rate.

Each mutant is a backward pass written the way students get it wrong (a transpose missing, a
factor m or 2, the sign, another activation's derivative, the derivative taken at a, the bias not
summed, the L2 term dropped, one wrong entry, two layers' deltas swapped), run on the very
forward pass gradcheck checks, and judged by the same witness and rule as any gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.network import Network, backward, forward
from gradcheck_cli.reading.build import build_problem
from gradcheck_cli.reading.loader import SourceMap
from gradcheck_cli.reading.model import parse_spec
from gradcheck_cli.run.one_spec import judge
from gradcheck_cli.verdict.compare import make_rule
from gradcheck_cli.verdict.results import Status
from gradcheck_cli.witness.methods import WitnessMaker

# square hidden layers (5 x 5), so that a missing transpose or swapped deltas still type-check
NETWORKS = [
    ("column", "sigmoid", "half_sse", "sum"), ("column", "tanh", "half_sse", "mean"),
    ("row", "relu", "sse", "sum"), ("row", "tanh", "mse", "mean"),
    ("column", "leaky_relu", "softmax_cross_entropy", "mean"), ("row", "sigmoid", "softmax_cross_entropy", "sum"),
    ("column", "softplus", "mse", "sum"), ("row", "elu", "half_sse", "mean"),
    ("column", "tanh", "binary_cross_entropy", "mean"), ("row", "relu", "cross_entropy", "mean"),
]
MUTANTS = ["missing transpose", "factor m", "factor 2", "wrong sign", "wrong activation derivative",
           "derivative at a", "bias not summed", "dropped L2", "one wrong entry", "swapped layers"]


def network(layout: str, hidden: str, loss: str, reduction: str, seed: int):
    output = {"binary_cross_entropy": "sigmoid", "cross_entropy": "softmax"}.get(loss, "identity")
    spec = {"version": 1, "seed": seed, "layout": layout, "input": 5, "l2": 0.05, "data": {"batch": 6},
            "layers": [{"units": 5, "activation": hidden}, {"units": 5, "activation": hidden},
                       {"units": 3, "activation": output}], "loss": {"name": loss, "reduction": reduction}}
    source = SourceMap("<corpus>")
    return build_problem(parse_spec(spec, source), source)


def mutated_backward(net: Network, params, fp, y, mutant: str):
    """gradcheck's delta recursion with one mistake in it."""
    layout, L = net.layout, len(net.layers)
    m = fp.a[0].shape[layout.sample_axis]
    da = net.loss.gradient(fp.a[-1], y, layout.unit_axis) / (m if net.reduction == "mean" else 1)
    deltas, grads = {}, {}
    for l in range(L, 0, -1):
        layer = net.layers[l - 1]
        act, z, a = layer.activation, fp.z[l - 1], fp.a[l]
        if l < L and mutant == "wrong activation derivative":
            other = ACTIVATIONS["sigmoid" if act.name != "sigmoid" else "tanh"]
            delta = other.backward(da, z, other.forward(z, layer.options), layer.options)
        elif l < L and mutant == "derivative at a":
            delta = act.backward(da, a, act.forward(a, layer.options), layer.options)
        else:
            delta = act.backward(da, z, a, layer.options)
        deltas[l] = delta
        W = params[f"W{l}"]
        if mutant == "swapped layers" and l == 2:
            W = params["W1"]  # layer 1's weights where layer 2's belong (both 5 x 5)
        da = W.T @ delta if layout.name == "column" else delta @ W.T
        if mutant == "missing transpose" and l == 2:
            da = W @ delta if layout.name == "column" else delta @ W
    for l in range(1, L + 1):
        previous, delta = fp.a[l - 1], deltas[l]
        grads[f"W{l}"] = (delta @ previous.T if layout.name == "column" else previous.T @ delta)
        if mutant != "dropped L2":
            grads[f"W{l}"] = grads[f"W{l}"] + net.l2 * params[f"W{l}"]
        db = delta.sum(axis=layout.sample_axis, keepdims=True)
        if mutant == "bias not summed":
            db = np.take(delta, [0], axis=layout.sample_axis)  # the first sample only
        grads[f"b{l}"] = db
    factor = {"factor m": m, "factor 2": 2.0, "wrong sign": -1.0}.get(mutant, 1.0)
    grads = {name: g * factor for name, g in grads.items()}
    if mutant == "one wrong entry":
        biggest = int(np.argmax(np.abs(grads["W1"])))
        grads["W1"].flat[biggest] *= 1.5
    return grads


CASES = [(n, mutant) for n in range(len(NETWORKS)) for mutant in MUTANTS]
EQUIVALENT = {(n, "derivative at a") for n, net in enumerate(NETWORKS) if net[1] in ("relu", "leaky_relu")}
detected: dict[tuple[int, str], bool] = {}


@pytest.mark.parametrize(("n", "mutant"), CASES, ids=[f"{NETWORKS[n][1]}-{NETWORKS[n][2]}-{m}" for n, m in CASES])
def test_every_mutant_fails(n: int, mutant: str) -> None:
    problem = network(*NETWORKS[n], seed=n)
    net, params = problem.network, problem.params
    fp = forward(net, params, problem.x, problem.y)
    rule = make_rule("float64", fp.E)
    maker = WitnessMaker(net, params, problem.x, problem.y)
    witness = maker.make("central", rule.eps)
    correct = backward(net, params, fp, problem.y)
    assert all(p.status is Status.PASS for p in judge(maker, witness, correct, rule)[1])
    wrong = mutated_backward(net, params, fp, problem.y, mutant)
    if (n, mutant) in EQUIVALENT:
        # an equivalent mutant, not a bug: a > 0 exactly when z > 0, so f'(a) is f'(z) here
        unmutated = mutated_backward(net, params, fp, problem.y, "none")
        assert all(np.array_equal(wrong[k], unmutated[k]) for k in unmutated)
        pytest.skip("equivalent mutant for relu-type activations (f'(a) = f'(z)); not counted")
    if all(g.shape == correct[k].shape for k, g in wrong.items()):
        statuses = [p.status for p in judge(maker, witness, wrong, rule)[1]]
    else:
        statuses = [Status.FAIL]
    detected[n, mutant] = Status.FAIL in statuses
    assert detected[n, mutant], (NETWORKS[n], mutant, statuses)


def test_zz_detection_rate_is_printed_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    if len(detected) < len(CASES) - len(EQUIVALENT):
        pytest.skip("runs after the corpus (select the whole file)")
    rate = sum(detected.values()) / len(detected)
    with capsys.disabled():
        print(f"\nmutation corpus: {sum(detected.values())} of {len(detected)} mutants detected ({rate:.0%}); "
              f"{len(EQUIVALENT)} equivalent mutants left out")
    assert rate == 1.0
