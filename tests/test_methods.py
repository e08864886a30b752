"""The witness's methods (central, richardson, complex), its step, its re-checks and the INCONCLUSIVE verdict."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_SPEC, SMALL_SPECS, SPECS, run, run_json, without_backward
from gradcheck_cli.network.network import backward, forward
from gradcheck_cli.run.one_spec import Overrides, check_problem, load_problem
from gradcheck_cli.verdict.compare import compare_parameter, make_rule
from gradcheck_cli.verdict.results import Status
from gradcheck_cli.witness.central import step_sizes
from gradcheck_cli.witness.methods import DEFAULT_EPS, METHODS, WitnessMaker, complex_step

CORRECT = [p for p in SMALL_SPECS if "homework" not in p.parts]


def maker_and_gradient(path: Path) -> tuple[WitnessMaker, dict[str, np.ndarray], float]:
    problem = load_problem(path)
    net = problem.network
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    x, y = problem.x.astype(np.float64), problem.y.astype(np.float64)
    fp = forward(net, params, x, y)
    return WitnessMaker(net, params, x, y), backward(net, params, fp, y), fp.E


@pytest.mark.parametrize("spec", CORRECT, ids=lambda p: p.name)
def test_complex_step_agrees_to_machine_precision_on_every_correct_spec(spec: Path) -> None:
    """Every activation and loss of the registry appears in these specs: all of them take a complex step."""
    result = check_problem(load_problem(spec), spec.name, Overrides(method="complex"))
    assert result.status is Status.PASS and result.rule.method == "complex" and result.rule.eps == 1e-20
    if result.rule.dtype == "float64":
        for p in result.params:
            assert p.noise_limited == 0 and p.loose_entries == 0, p.name
            assert np.max(np.abs(p.analytic - p.numeric)) <= 1e-12 * max(1.0, np.max(np.abs(p.numeric))), p.name


def test_complex_step_at_a_relu_kink_reads_the_piece_at_the_point() -> None:
    """Seed 004's spiral puts pre-activations exactly at 0: an imaginary step crosses no kink, and relu
    takes its piece from the real part's sign, so the witness is relu'(0) = 0, as the analytic pass."""
    result = check_problem(load_problem(SPECS / "seed004_spiral_softmax_l2.yaml"), "seed004",
                           Overrides(method="complex"))
    b1 = next(p for p in result.params if p.name == "b1")
    assert b1.status is Status.PASS and b1.kink_entries == 0 and b1.max_rel_error < 1e-12


def test_complex_witness_is_forward_only(monkeypatch: pytest.MonkeyPatch) -> None:
    maker, _, _ = maker_and_gradient(SPECS / "seed000_three_layer_mean.yaml")
    before = complex_step(maker.net, maker.params, maker.x, maker.y, 1e-20)
    net = without_backward(maker.net, monkeypatch)
    after = complex_step(net, maker.params, maker.x, maker.y, 1e-20)
    for name in before.gradient:
        np.testing.assert_array_equal(before.gradient[name], after.gradient[name])


def test_richardson_cancels_the_truncation_and_its_estimate_covers_the_error() -> None:
    """At a step of 1e-2, central differences err by h^2 f'''/6; Richardson's extrapolation removes
    that term, and its expected error bounds what it actually errs by (measured against the correct
    analytic gradient, which is what makes this a test of the estimate)."""
    maker, analytic, _ = maker_and_gradient(SPECS / "seed001_deep_sigmoid.yaml")
    central, extrapolated = maker.central(1e-2), maker.richardson(1e-2)
    for name, a in analytic.items():
        central_error = np.abs(central.gradient[name] - a)
        error = np.abs(extrapolated.gradient[name] - a)
        assert np.max(error) < np.max(central_error) / 100, name
        assert np.all(error <= extrapolated.expected[name]), name


def test_a_step_far_too_large_does_not_fail_a_correct_gradient() -> None:
    """Plain central differences at 0.1 fail the demo's correct gradient; the re-check sees the
    truncation and resolves the entries only as far as its estimate allows: PASS, counted."""
    demo = SPECS / "demos" / "step_too_large.yaml"
    maker, analytic, E = maker_and_gradient(demo)
    plain = maker.central(0.1)
    rule = make_rule("float64", E, 0.1)
    assert any(compare_parameter(n, g, plain, rule).status is Status.FAIL for n, g in analytic.items())
    result = check_problem(load_problem(demo), "demo")
    assert result.status is Status.PASS and all(p.loose_entries > 0 for p in result.params)
    assert all(p.worst_expected > 10 * plain.expected[p.name].max() for p in result.params)  # truncation counted


def test_the_step_follows_the_parameter_scale() -> None:
    theta = np.array([0.0, 1e-3, 2.0, -3000.0])
    rms = float(np.sqrt(np.mean(theta**2)))
    np.testing.assert_allclose(step_sizes(theta, 1e-6), 1e-6 * np.array([rms, rms, rms, 3000.0]))
    np.testing.assert_allclose(step_sizes(np.array([1e-4, -2e-4]), 1e-6), [1e-6, 1e-6])  # scale at least 1
    assert DEFAULT_EPS["central"] == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))


def test_method_from_the_spec_and_from_the_command_line(write_spec) -> None:
    spec = write_spec(SMALL_SPEC + "    check: {method: richardson}\n")
    _, report = run_json(spec)
    assert report["specs"][0]["rule"]["method"] == "richardson" and report["specs"][0]["rule"]["eps"] == 1e-4
    tuned = write_spec(SMALL_SPEC + "    check: {eps: 1.0e-5}\n", name="tuned.yaml")
    _, report = run_json("--method", "complex", tuned)  # a step tuned for central differences is not complex's
    assert report["specs"][0]["rule"] == {**report["specs"][0]["rule"], "method": "complex", "eps": 1e-20}
    _, report = run_json(tuned)
    assert report["specs"][0]["rule"]["eps"] == 1e-5
    assert run("check", "--method", "secant", spec).exit_code == 2


@pytest.mark.parametrize("method", METHODS)
def test_every_method_still_fails_every_homework_bug(method: str) -> None:
    code, report = run_json("--jobs", "1", "--method", method, SPECS / "homework")
    assert code == 0
    gates = {Path(s["path"]).name: s["gate"] for s in report["specs"]}
    assert all(gate == "xfail" for name, gate in gates.items() if "correct" not in name and "kink_mask" not in name)


SHIFTED_SOFTMAX = """
    version: 1
    seed: 2
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 3, activation: softmax, bias: shared}
    loss: cross_entropy
    data: {batch: 4}
"""


def test_a_gradient_below_the_noise_floor_is_inconclusive_not_pass(write_spec) -> None:
    """A bias shared by a softmax's inputs shifts them all: E does not depend on it, dE/db2 is exactly
    0 and the witness sees only round-off. Neither PASS nor FAIL: INCONCLUSIVE, with its reason; the
    gate passes unless --fail-on warn."""
    spec = write_spec(SHIFTED_SOFTMAX)
    code, report = run_json("--jobs", "1", spec)
    b2 = next(p for p in report["specs"][0]["parameters"] if p["name"] == "b2")
    assert code == 0 and report["specs"][0]["status"] == "inconclusive"
    assert b2["status"] == "inconclusive" and b2["reason"] == "below the noise floor" and b2["noise_limited"] == 1
    assert b2["worst_error"] <= b2["worst_expected_error"]
    assert run("check", "--jobs", "1", "--fail-on", "warn", spec).exit_code == 1
    table = run("check", "--jobs", "1", spec).stdout
    assert "INCONCLUSIVE" in table and "1 spec: 0 pass, 1 inconclusive -> INCONCLUSIVE" in table
    junit = run("check", "--jobs", "1", "--format", "junit", spec).stdout
    assert "INCONCLUSIVE: below the noise floor: none of 1 entries can be resolved" in junit
    github = run("check", "--jobs", "1", "--format", "github", spec).stdout
    assert "::warning file=" in github and "b2 INCONCLUSIVE" in github


@pytest.mark.parametrize("spec", ["layers/lenet.yaml", "layers/batchnorm.yaml", "layers/flatten.yaml",
                                  "seed004_spiral_softmax_l2.yaml", "seed002_two_layer_sigmoid.yaml"])
def test_the_stacked_complex_step_is_the_plain_one(spec: str) -> None:
    """The imaginary steps as stacks of networks (conv, pooling, batchnorm, a shared bias, L2) give the
    plain loop's complex-step derivatives to round-off; on LeNet a sample of each parameter's entries."""
    problem = load_problem(SPECS / spec)
    net, x, y = problem.network, problem.x, problem.y
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    rng = np.random.default_rng(0)
    masks = {n: rng.random(p.shape) < (0.02 if "lenet" in spec else 1.0) for n, p in params.items()}
    plain = complex_step(net, params, x, y, 1e-20, masks)
    stacked = complex_step(net, params, x, y, 1e-20, masks, stacked=True)
    for name, mask in masks.items():
        g, s = plain.gradient[name][mask], stacked.gradient[name][mask]
        assert np.all(np.abs(g - s) <= 1e-12 * np.maximum(np.abs(g), 1.0)), name
        np.testing.assert_array_equal(stacked.checked[name], mask)
