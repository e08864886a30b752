"""The verdict: the witness is independent, correct gradients pass at any loss scale, wrong ones fail."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import SPECS, without_backward
from gradcheck_cli.network import activations
from gradcheck_cli.network.network import backward, forward, loss_and_kinks
from gradcheck_cli.run.one_spec import check_problem, load_problem
from gradcheck_cli.verdict.compare import SLICE, compare_parameter, make_rule
from gradcheck_cli.verdict.results import Status
from gradcheck_cli.witness.central import CENTRAL_EPS, Witness, central_differences, roundoff_error

# A small cousin of seed 004's first network: ReLU, no bias, row layout, sum of squares, randn
# weights of scale 10, so the loss is about 1e8 and one finite difference carries ~1e-2 of
# round-off. One input feature is scaled down 1e4 (an unnormalised input), so the row of dW1 that
# it feeds is small: the entries where a fixed absolute tolerance breaks down.
BIG_LOSS_SPEC = """
    version: 1
    seed: 4
    layout: row
    input: 60
    layers:
      - {units: 12, activation: relu, bias: none}
      - {units: 4, bias: none}
    loss: sse
    data: {batch: 16}
    init: {weights: 10.0}
"""


def big_loss_problem(write_spec):
    problem = load_problem(write_spec(BIG_LOSS_SPEC))
    problem.x[:, 0] *= 1e-4
    return problem


def witness_and_gradients(problem, eps: float = CENTRAL_EPS):
    net = problem.network
    fp = forward(net, problem.params, problem.x, problem.y)
    analytic = backward(net, problem.params, fp, problem.y)
    rule = make_rule(problem.spec.dtype, fp.E, eps)
    witness = central_differences(lambda p: loss_and_kinks(net, p, problem.x, problem.y), problem.params, rule.eps)
    return fp.E, analytic, witness, rule


def verdicts(gradients, witness, rule) -> dict[str, Status]:
    return {n: compare_parameter(n, g, witness, rule).status for n, g in gradients.items()}


def test_witness_never_touches_the_backward_code(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = load_problem(SPECS / "seed000_three_layer_mean.yaml")
    _, _, before, _ = witness_and_gradients(problem)
    net = without_backward(problem.network, monkeypatch)
    after = central_differences(lambda p: loss_and_kinks(net, p, problem.x, problem.y), problem.params, CENTRAL_EPS)
    for name in before.gradient:
        np.testing.assert_array_equal(before.gradient[name], after.gradient[name])


def test_correct_gradient_passes_at_a_loss_of_1e7_and_wrong_ones_fail(write_spec) -> None:
    E, analytic, witness, rule = witness_and_gradients(big_loss_problem(write_spec))
    assert E > 1e7

    assert set(verdicts(analytic, witness, rule).values()) == {Status.PASS}
    for wrong in (
        {n: g / 2 for n, g in analytic.items()},  # half_sse's derivative used for sse
        {n: g * 1.001 for n, g in analytic.items()},  # off by 0.1 %
        {n: -g for n, g in analytic.items()},
    ):
        assert set(verdicts(wrong, witness, rule).values()) == {Status.FAIL}


def test_fixed_absolute_tolerance_would_reject_that_correct_gradient(write_spec) -> None:
    """Why the floor scales with E: torch.autograd.gradcheck's rule (atol 1e-5, rtol 1e-3, eps 1e-6)
    flags this correct gradient, because round-off alone exceeds its atol."""
    _, analytic, witness, _ = witness_and_gradients(big_loss_problem(write_spec))
    rejected = [not np.allclose(analytic[n], witness.gradient[n], rtol=1e-3, atol=1e-5) for n in analytic]
    assert any(rejected)


def test_entries_at_a_relu_kink_are_judged_by_the_one_sided_slopes() -> None:
    """Seed 004's spiral puts a point at the origin; with zero biases its hidden pre-activations are
    exactly 0, so every b1 entry straddles the ReLU kink. Either convention for relu'(0) lies between
    the one-sided slopes and passes; a value outside that interval warns; a wrong gradient fails.
    (At a step of 1e-6: the one-sided slopes err by O(h), and the full check re-checks kinks with a
    1000 times smaller step, see the next test.)"""
    problem = load_problem(SPECS / "seed004_spiral_softmax_l2.yaml")
    E, analytic, witness, rule = witness_and_gradients(problem, eps=1e-6)
    result = compare_parameter("b1", analytic["b1"], witness, rule)  # relu'(0) = 0: the left slope
    assert result.kink_entries == analytic["b1"].size and result.kink_unresolved == 0
    assert result.status is Status.PASS
    right = witness.right["b1"]  # relu'(0) = 1: the right slope
    assert compare_parameter("b1", right, witness, rule).status is Status.PASS
    beyond = right + 3 * (right - witness.left["b1"])
    outside = compare_parameter("b1", beyond, witness, rule)
    assert outside.status is Status.WARN and 0 < outside.kink_unresolved <= outside.kink_entries
    for factor in (2.0, 0.5, -1.0):
        # every b1 entry is at the kink: a wrong b1 can only warn ("cannot decide"), never pass ...
        wrong_b1 = compare_parameter("b1", analytic["b1"] * factor, witness, rule)
        assert wrong_b1.status is Status.WARN and wrong_b1.kink_unresolved > 0
        # ... while a parameter with entries off the kink fails as usual
        assert compare_parameter("W2", analytic["W2"] * factor, witness, rule).status is Status.FAIL


def test_kink_entries_are_rechecked_with_a_smaller_step() -> None:
    """At the default step (6e-6) the one-sided slopes of 3 b1 entries of seed 004 err by more than the
    interval's margin; the re-check at a step 1000 times smaller settles all of them."""
    problem = load_problem(SPECS / "seed004_spiral_softmax_l2.yaml")
    _, analytic, witness, rule = witness_and_gradients(problem)
    assert compare_parameter("b1", analytic["b1"], witness, rule).kink_unresolved > 0
    b1 = next(p for p in check_problem(problem, "seed004").params if p.name == "b1")
    assert b1.status is Status.PASS and b1.kink_entries == 100 and b1.kink_unresolved == 0


def _synthetic(n: np.ndarray, E: float = 0.5) -> Witness:
    """A witness with central differences at h = 1e-6: expected error 8 eps |E| / h = 1.8e-9 at E = 0.5."""
    return Witness(gradient={"p": n}, step={"p": np.full(n.shape, 1e-6)}, kink={"p": np.zeros(n.shape, bool)},
                   left={"p": n}, right={"p": n}, expected={"p": roundoff_error(E, np.full(n.shape, 1e-6))})


@pytest.mark.parametrize(
    ("analytic", "numeric", "expected", "below", "loose"),
    [  # at E = 0.5 and h = 1e-6 the expected error e is 1.8e-9: resolved to rtol 1e-6 from 1.8e-3, to 1e-2 from 1.8e-7
        ([1.0, -2.0], [1.0, -2.0], Status.PASS, 0, 0),
        ([1.0, -2.0], [1.0 + 2e-7, -2.0], Status.PASS, 0, 0),  # within rtol 1e-6
        ([1.0, -2.0], [1.0 + 1e-5, -2.0], Status.WARN, 0, 0),  # between 1e-6 and 1e-4
        ([1.0, -2.0], [1.001, -2.0], Status.FAIL, 0, 0),
        ([2.0, -2.0], [1.0, -2.0], Status.FAIL, 0, 0),  # factor 2 on one entry
        ([1.0, 3e-12], [1.0, 1e-12], Status.PASS, 1, 0),  # the second entry is below the noise floor ...
        ([3e-12, 1.0], [1e-12, 1.0], Status.PASS, 1, 0),  # ... counted, not judged, wherever it is
        ([3e-12, -2e-12], [1e-12, -1e-12], Status.INCONCLUSIVE, 2, 0),  # every entry below the floor: no verdict
        ([2e-10, 4e-10], [1e-10, 2e-10], Status.INCONCLUSIVE, 2, 0),  # wrong by a factor 2, unresolvable: no PASS
        ([1.0, 2e-6], [1.0, 1e-6], Status.FAIL, 0, 0),  # factor 2 above the floor
        ([1.0, 2e-8], [1.0, 1e-8], Status.FAIL, 0, 0),  # factor 2, unresolved at rtol, but 5x beyond e
        ([1.0, 5e-7], [1.0, 5e-7 + 1e-9], Status.PASS, 0, 1),  # within e, resolved to 1e-2 only: counted
        ([1.0, np.nan], [1.0, 0.5], Status.FAIL, 0, 0),  # an analytic value that is not finite
        ([1.0, 0.5], [1.0, np.nan], Status.PASS, 1, 0),  # a witness that is not finite there: counted
        ([0.5], [np.nan], Status.INCONCLUSIVE, 1, 0),  # ... and with nothing else to judge, no verdict
        ([0.0, 0.0], [0.0, 0.0], Status.PASS, 0, 0),  # identical
    ],
)
def test_control_matrix(analytic, numeric, expected, below, loose) -> None:
    rule = make_rule("float64", 0.5, eps=1e-6)
    result = compare_parameter("p", np.array(analytic), _synthetic(np.array(numeric)), rule)
    assert (result.status, result.noise_limited, result.loose_entries) == (expected, below, loose)


def test_the_report_states_the_expected_error_next_to_the_observed_one() -> None:
    rule = make_rule("float64", 0.5, eps=1e-6)
    result = compare_parameter("p", np.array([1.0, 2e-6]), _synthetic(np.array([1.0, 1e-6])), rule)
    assert result.worst_index == (1,) and result.worst_error == pytest.approx(1e-6)
    assert result.worst_expected == pytest.approx(roundoff_error(0.5, 1e-6) + 8 * np.finfo(float).eps * 1.0)
    assert result.reason == "disagrees"


def test_a_parameter_larger_than_a_slice_is_judged_as_a_whole() -> None:
    """The verdict works slice by slice: what it finds in any slice is counted, located and summed
    over the whole parameter."""
    rng = np.random.default_rng(3)
    numeric = rng.uniform(0.5, 2.0, size=(3 * SLICE // 17 + 2, 17))  # three slices and a shorter fourth
    size = numeric.size
    analytic = numeric.copy()
    analytic.flat[5], numeric.flat[5] = 3e-12, 1e-12  # below the noise floor, in the first slice ...
    analytic.flat[SLICE + 9], numeric.flat[SLICE + 9] = -1e-12, -2e-12  # ... and in the second
    analytic.flat[2 * SLICE + 3] *= 1.5  # wrong, in the third
    analytic.flat[size - 1] *= 1 + 1e-5  # slightly wrong, in the last, shorter one
    result = compare_parameter("p", analytic, _synthetic(numeric), make_rule("float64", 0.5, eps=1e-6))
    assert result.status is Status.FAIL and result.noise_limited == 2
    assert result.worst_index == np.unravel_index(2 * SLICE + 3, numeric.shape)
    assert result.worst_error == pytest.approx(0.5 * abs(numeric.flat[2 * SLICE + 3]))
    assert np.flatnonzero(result.disagreeing).tolist() == [2 * SLICE + 3, size - 1]
    assert np.flatnonzero(result.below_floor).tolist() == [5, SLICE + 9]
    assert result.max_abs_error == pytest.approx(np.max(np.abs(analytic - numeric)))
    assert result.norm_ratio == pytest.approx(np.linalg.norm(analytic - numeric)
                                              / (np.linalg.norm(analytic) + np.linalg.norm(numeric)))
    assert result.rel_error.shape == numeric.shape and result.rel_error.flat[size - 1] == pytest.approx(1e-5, rel=1e-3)


def test_float32_spec_runs_in_float32_with_a_float64_witness() -> None:
    problem = load_problem(SPECS / "functions" / "loss_half_sse_float32.yaml")
    fp = forward(problem.network, problem.params, problem.x, problem.y)
    assert fp.z[0].dtype == np.float32 and fp.a[-1].dtype == np.float32
    result = check_problem(problem, "f32")
    assert result.rule.dtype == "float32" and result.rule.rtol == 1e-3
    assert all(p.numeric.dtype == np.float64 for p in result.params)
    assert result.status is Status.PASS


def test_overflow_is_reported_with_its_place(write_spec) -> None:
    problem = load_problem(write_spec("""
        version: 1
        input: 1
        layers: [{units: 1, activation: tanh}, {units: 1}]
        loss: half_sse
        data: {x: [[1.0e300]], y: [[0.0]]}
        parameters: {W1: [[1.0e10]], b1: [0.0]}
    """))
    result = check_problem(problem, "overflow")
    assert result.status is Status.FAIL
    assert result.message == "the forward pass overflows: z1 (layer 1) is not finite"


def test_saturated_sigmoid_with_binary_cross_entropy_is_no_false_alarm(write_spec) -> None:
    """At z = +-24, 1 - sigmoid(z) is 4e-11 and keeps only 5 digits, so ln(1 - a) turns E into a
    staircase where the targets say 0; the loss is evaluated from the logits instead, and the
    correct gradient is no false alarm: W1 passes, and b1, whose true gradient is exactly 0 by symmetry,
    passes where the analytic sum cancels exactly and is below the noise floor where numpy's summation
    order leaves 1e-16 (numpy 1.x)."""
    problem = load_problem(write_spec("""
        version: 1
        input: 2
        layers: [{units: 2, activation: sigmoid}]
        loss: binary_cross_entropy
        data: {x: [[1.0, -1.0], [-1.0, 1.0]], y: [[0, 1], [1, 0]]}  # confidently wrong outputs
        parameters: {W1: [[12.0, -12.0], [-12.0, 12.0]], b1: [0.0, 0.0]}
    """))
    result = check_problem(problem, "saturated")
    assert result.status in (Status.PASS, Status.INCONCLUSIVE)
    assert {p.name: p.status for p in result.params}["W1"] is Status.PASS


def test_self_test_catches_broken_gradients_on_real_specs() -> None:
    from conftest import run_json

    code, report = run_json("--jobs", "1", "--self-test", SPECS / "seed002_two_layer_sigmoid.yaml",
                            SPECS / "seed000_three_layer_mean.yaml")
    assert code == 0
    assert all(spec["self_test"] == {"zeros": True, "times 1.001": True} for spec in report["specs"])


def test_self_test_fails_loudly_where_the_gate_cannot_fail(write_spec) -> None:
    """At a perfect fit every gradient is 0: a zero 'broken' gradient is right too, so nothing can fail."""
    from conftest import PERFECT_FIT, run, run_json

    spec = write_spec(PERFECT_FIT)
    assert run("check", "--jobs", "1", spec).exit_code == 0
    code, report = run_json("--jobs", "1", "--self-test", spec)
    assert code == 1 and report["specs"][0]["self_test"]["zeros"] is False
    assert "zeros NOT CAUGHT" in run("check", "--jobs", "1", "--self-test", spec).stdout


SATURATED_FLOAT32 = {"version": 1, "seed": 0, "dtype": "float32", "layout": "row", "input": 3,
                     "layers": [{"units": 4}, {"units": 3, "activation": "tanh"}], "loss": "sse",
                     "data": {"batch": 5}, "init": {"weights": 3.0}}


def test_float32_rounding_is_reported_as_precision_not_a_bug() -> None:
    """Saturated tanh outputs: float32 loses 1 - a^2; the same backward pass in float64 agrees."""
    import gradcheck_cli

    result = gradcheck_cli.check(SATURATED_FLOAT32)
    noted = [p for p in result.params if p.note]
    assert result.status is Status.WARN and noted
    assert all(p.status is Status.WARN and p.note.startswith("precision, not a bug") for p in noted)
    assert gradcheck_cli.check({**SATURATED_FLOAT32, "dtype": "float64"}).status is Status.PASS


def test_a_wrong_float32_gradient_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    import gradcheck_cli

    wrong = dataclasses.replace(activations.TANH, backward=lambda da, z, a, o: da * (1 - a))  # not 1 - a^2
    monkeypatch.setitem(activations.ACTIVATIONS, "tanh", wrong)
    result = gradcheck_cli.check(SATURATED_FLOAT32)
    assert result.status is Status.FAIL and any(p.status is Status.FAIL and not p.note for p in result.params)
