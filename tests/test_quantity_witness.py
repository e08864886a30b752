"""The witness of dE/dz^l and dE/da^l, one unit across the batch at a time, agrees with the plain
per-entry loop it replaces (numeric.central_differences over forward_from): the same numbers within
their expected error, and the same entries flagged at a kink, on both layouts, every reduction,
kinked activations, softmax and L2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SPECS
from gradcheck_cli.derivation.links import environment
from gradcheck_cli.network.network import forward, forward_from, with_kinks
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.witness.central import CENTRAL_EPS, central_differences
from gradcheck_cli.witness.quantities import quantity_witness

NETWORKS = ["seed000_three_layer_mean.yaml", "seed002_two_layer_sigmoid_row.yaml",
            "homework/seed004_spiral_kink_mask.yaml", "functions/activation_softmax.yaml",
            "functions/loss_binary_cross_entropy.yaml", "functions/activation_leaky_relu.yaml",
            # 4-D quantities, a max-pool's kinks, and batchnorm, after which every entry moves alone
            "layers/maxpool2d.yaml", "layers/batchnorm.yaml", "layers/dropout.yaml"]


def plain(net, params, env, y, kind: str, layer: int):  # noqa: ANN001, ANN201
    """The reference: every entry perturbed alone, the whole network's E each time."""
    name, start = f"{kind}{layer}", layer if kind == "z" else layer + 1

    def loss(q):  # noqa: ANN001, ANN202
        fp = forward_from(net, params, y, layer, **{kind: q[name]})
        return with_kinks(net, fp, first_layer=start, from_z=kind == "z")

    return central_differences(loss, {name: env[name]}, CENTRAL_EPS)


@pytest.mark.parametrize("spec", NETWORKS)
def test_it_agrees_with_the_plain_loop_entry_by_entry(spec: str) -> None:
    assert_agrees(load_problem(SPECS / spec), spec)


# Two convolutions with a max pool between them: the 4-D quantities' features run as stacks of one
# channel (LayeredEngine.rest) through the activation and the pool, and the second convolution adds
# only that channel's change; a leaky ReLU, a ReLU and the pool's argmax give it kinks to cross.
TWO_CONVOLUTIONS = """
    version: 1
    layout: row
    seed: 21
    input: [2, 10, 10]
    layers:
      - {type: conv2d, filters: 3, kernel: 3, padding: 1, activation: leaky_relu, bias: none}
      - {type: maxpool2d, size: 2}
      - {type: conv2d, filters: 4, kernel: 3, stride: 2, padding: 1, activation: relu}
      - {type: flatten}
      - {units: 3}
    loss: {name: softmax_cross_entropy, reduction: mean}
    data: {batch: 3}
"""


def test_one_channel_at_a_time_agrees_with_the_plain_loop_through_convolutions(write_spec) -> None:
    problem = load_problem(write_spec(TWO_CONVOLUTIONS))
    problem.x[:, :, :5, :5] = 0.0  # z1 = 0 there (no bias): the leaky ReLU's kink, and ties in the pool
    kinks = assert_agrees(problem, "two convolutions")
    assert kinks["z1"] > 0 and kinks["a0"] > 0 and kinks["a1"] > 0  # the kink flags were compared, not vacuous


def assert_agrees(problem, label: str) -> dict[str, int]:  # noqa: ANN001
    """Every dz and da witness of the problem against the plain loop; how many entries crossed a kink."""
    net, x, y = problem.network, problem.x.astype(np.float64), problem.y.astype(np.float64)
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    env = environment(net, params, forward(net, params, x, y), x, y)
    quantities = [("z", l) for l in range(1, len(net.layers) + 1)] + [("a", l) for l in range(len(net.layers) + 1)]
    kinks = {}
    for kind, layer in quantities:
        name = f"{kind}{layer}"
        fast, slow = quantity_witness(net, params, y, kind, layer, env[name], CENTRAL_EPS), plain(net, params, env, y,
                                                                                                  kind, layer)
        kinks[name] = int(slow.kink[name].sum())
        np.testing.assert_array_equal(fast.step[name], slow.step[name])
        np.testing.assert_array_equal(fast.kink[name], slow.kink[name], err_msg=f"{label} {name}")
        np.testing.assert_allclose(fast.expected[name], slow.expected[name], rtol=1e-12)
        smooth = ~slow.kink[name]
        difference = np.abs(fast.gradient[name] - slow.gradient[name])[smooth]
        assert np.all(difference <= slow.expected[name][smooth]), (label, name, difference.max())
        for side in ("left", "right"):
            kinked = slow.kink[name]
            gap = np.abs(getattr(fast, side)[name] - getattr(slow, side)[name])[kinked]
            assert np.all(gap <= 2 * slow.expected[name][kinked]), (label, name, side)
    return kinks


def test_kinked_networks_exercise_the_kink_flags() -> None:
    """The comparison above is not vacuous about kinks: the spiral's ReLU layer crosses some."""
    problem = load_problem(Path(SPECS / "homework/seed004_spiral_kink_mask.yaml"))
    net, x, y = problem.network, problem.x.astype(np.float64), problem.y.astype(np.float64)
    env = environment(net, problem.params, forward(net, problem.params, x, y), x, y)
    assert quantity_witness(net, problem.params, y, "z", 1, env["z1"], CENTRAL_EPS).kink["z1"].any()
