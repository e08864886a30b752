"""The fast engine is the same witness as the plain loop, up to round-off, on every example spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SPECS, run_json
from gradcheck_cli import network
from gradcheck_cli.compare import fd_noise
from gradcheck_cli.fast_numeric import fast_central_differences
from gradcheck_cli.network import forward, loss_and_kinks
from gradcheck_cli.numeric import central_differences
from gradcheck_cli.runner import load_problem

EXAMPLES = sorted(p for p in SPECS.rglob("*.yaml") if "relu_no_bias_row" not in p.name)


def witnesses(path: Path):
    problem = load_problem(path)
    net = problem.network
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    x, y = problem.x.astype(np.float64), problem.y.astype(np.float64)
    naive = central_differences(lambda p: loss_and_kinks(net, p, x, y), params, 1e-6)
    fast = fast_central_differences(net, params, x, y, 1e-6)
    return forward(net, params, x, y).E, naive, fast


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.name)
def test_fast_engine_agrees_with_the_plain_loop_to_round_off(spec: Path) -> None:
    E, naive, fast = witnesses(spec)
    for name, g in naive.gradient.items():
        # within one unit of the round-off the verdict already allows for (8 eps |E| / h)
        assert np.all(np.abs(fast.gradient[name] - g) <= fd_noise(E, naive.step[name])), name
        np.testing.assert_array_equal(fast.kink[name], naive.kink[name])
        np.testing.assert_array_equal(fast.step[name], naive.step[name])
        for side in ("left", "right"):
            one_sided = np.abs(getattr(fast, side)[name] - getattr(naive, side)[name])
            assert np.all(one_sided <= 2 * fd_noise(E, naive.step[name])), (name, side)


def test_fast_engine_is_forward_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("the fast witness called the backward pass")

    monkeypatch.setattr(network, "backward", forbidden)
    E, naive, fast = witnesses(SPECS / "seed004_spiral_softmax_l2.yaml")
    assert set(fast.gradient) == {"W1", "b1", "W2", "b2"}


def test_both_engines_give_the_same_verdicts_through_the_cli() -> None:
    specs = [SPECS / "seed004_spiral_softmax_l2.yaml", SPECS / "homework" / "seed000_averaged_twice.yaml"]
    _, fast = run_json("--jobs", "1", *specs)
    _, naive = run_json("--jobs", "1", "--engine", "naive", *specs)

    def verdicts(report: dict) -> list[list[str]]:
        return [[p["status"] for p in s["parameters"]] + [k["status"] for k in s["derivation"]]
                for s in report["specs"]]

    assert verdicts(fast) == verdicts(naive)
