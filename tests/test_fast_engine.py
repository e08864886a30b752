"""The fast engine is the same witness as the plain loop, up to round-off, on every example spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SMALL_SPECS, SPECS, assert_same_witness, run_json, without_backward
from gradcheck_cli.network import network
from gradcheck_cli.network.network import forward, loss_and_kinks
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.witness import loss_fit
from gradcheck_cli.witness import unit_stacks as engine  # its constants: CHUNK_ELEMENTS, FIT_MIN
from gradcheck_cli.witness.central import central_differences
from gradcheck_cli.witness.fast import fast_central_differences, fast_central_differences_at

EXAMPLES = SMALL_SPECS


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
    assert_same_witness(naive, fast)


def count_fits(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the engine fitted a loss polynomial, and how often none was good enough."""
    counts = {"fitted": 0, "gave way": 0}
    original = loss_fit.fit

    def counted(values, tolerance):
        coefficients = original(values, tolerance)
        counts["fitted" if coefficients is not None else "gave way"] += 1
        return coefficients

    monkeypatch.setattr(loss_fit, "fit", counted)
    return counts


def fitted_layers(net: network.Network) -> list[int]:
    """The layers whose perturbations a fitted loss may stand for: dense with only dense layers after
    them (the dense engine's part), elementwise, not the last, and nothing kinked after them (said
    here again, independently of the engine)."""
    layers = net.layers
    return [l for l in range(1, len(layers)) if layers[l - 1].activation.name != "softmax"
            and all(not layer.activation.kinked for layer in layers[l:])
            and all(layer.TYPE == "dense" for layer in layers[l - 1:])]


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.name)
def test_the_fitted_loss_agrees_with_the_plain_loop_wherever_it_applies(
        spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The example networks are too small for the fitted loss to pay; with its threshold at one
    perturbation it stands for every unit it may, and must still be the same witness."""
    monkeypatch.setattr(engine, "FIT_MIN", 1)
    counts = count_fits(monkeypatch)
    E, naive, fast = witnesses(spec)
    assert_same_witness(naive, fast)
    if fitted_layers(load_problem(spec).network):
        assert counts["fitted"] > 0 and counts["gave way"] == 0
    else:
        assert counts == {"fitted": 0, "gave way": 0}


def test_the_fitted_loss_gives_way_to_the_exact_stack_where_no_polynomial_fits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With a step of 0.2 a tanh unit moves far along its curve: no low-degree polynomial reproduces
    the loss to round-off, so the exact stack runs, and the witness is still the plain loop's."""
    monkeypatch.setattr(engine, "FIT_MIN", 1)
    counts = count_fits(monkeypatch)
    problem = load_problem(SPECS / "functions" / "activation_tanh.yaml")
    net, x, y = problem.network, problem.x, problem.y
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    naive = central_differences(lambda p: loss_and_kinks(net, p, x, y), params, 0.2)
    fast = fast_central_differences(net, params, x, y, 0.2)
    assert_same_witness(naive, fast)
    assert counts["gave way"] > 0


@pytest.mark.parametrize("fit", [True, False], ids=["fast", "stack"])
def test_the_101k_network_agrees_with_the_plain_loop(fit: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed 004's network, where the fitted loss runs by default (``--engine stack`` turns it off):
    every entry of two units of W1 (2,000 entries) and 30 of W2, against the plain loop on the same
    entries."""
    problem = load_problem(SPECS / "seed004_relu_no_bias_row.yaml")
    net, x, y = problem.network, problem.x, problem.y
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    masks = {name: np.zeros(p.shape, dtype=bool) for name, p in params.items()}
    masks["W1"][:, [0, 57]] = True  # W1 is inputs x units (row layout): two units, all their inputs
    masks["W2"].flat[::33] = True
    naive = central_differences(lambda p: loss_and_kinks(net, p, x, y), params, 1e-6, masks=masks)
    counts = count_fits(monkeypatch)
    fast = fast_central_differences(net, params, x, y, 1e-6, masks=masks, fit=fit)
    assert_same_witness(naive, fast)
    assert counts == ({"fitted": 2, "gave way": 0} if fit else {"fitted": 0, "gave way": 0})


def test_fast_engine_is_forward_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """With every piece of backward code raising, the fast engine (the fitted loss included, forced
    onto every unit it may stand for) gives the same witness, bit for bit."""
    monkeypatch.setattr(engine, "FIT_MIN", 1)
    counts = count_fits(monkeypatch)
    for spec in ("seed004_spiral_softmax_l2.yaml", "seed001_deep_sigmoid.yaml", "layers/batchnorm.yaml",
                 "layers/maxpool2d.yaml"):
        problem = load_problem(SPECS / spec)
        params = {k: v.astype(np.float64) for k, v in problem.params.items()}
        before = fast_central_differences(problem.network, params, problem.x, problem.y, 1e-6)
        with monkeypatch.context() as patched:
            net = without_backward(problem.network, patched)
            with pytest.raises(AssertionError, match="backward code"):
                network.backward(net, params, forward(net, params, problem.x, problem.y), problem.y)
            after = fast_central_differences(net, params, problem.x, problem.y, 1e-6)
        for name in params:
            np.testing.assert_array_equal(before.gradient[name], after.gradient[name])
    assert counts["fitted"] > 0


def test_every_engine_gives_the_same_verdicts_through_the_cli() -> None:
    specs = [SPECS / "seed004_spiral_softmax_l2.yaml", SPECS / "homework" / "seed000_averaged_twice.yaml"]
    reports = {engine: run_json("--jobs", "1", "--engine", engine, *specs)[1] for engine in ("fast", "stack", "naive")}

    def verdicts(report: dict) -> list[list[str]]:
        return [[p["status"] for p in s["parameters"]] + [k["status"] for k in s["derivation"]]
                for s in report["specs"]]

    assert verdicts(reports["fast"]) == verdicts(reports["stack"]) == verdicts(reports["naive"])
    assert "fail" in str(verdicts(reports["fast"]))  # the homework spec's mistake is found by each


def test_sample_checks_k_seeded_entries_including_the_largest_gradient() -> None:
    from gradcheck_cli.run.one_spec import sample_entries

    analytic = {"W": np.arange(1000.0).reshape(100, 10) - 300.0, "b": np.ones(3)}
    masks = sample_entries(analytic, 20, seed=4)
    assert masks["W"].sum() in (20, 21) and masks["W"].flat[int(np.argmax(np.abs(analytic["W"])))]
    assert masks["b"].all()  # fewer entries than K: all of them
    again = sample_entries(analytic, 20, seed=4)
    assert all(np.array_equal(masks[k], again[k]) for k in masks)  # deterministic
    assert not np.array_equal(sample_entries(analytic, 20, seed=5)["W"], masks["W"])


def test_sample_through_the_cli(write_spec) -> None:
    spec = SPECS / "seed004_spiral_softmax_l2.yaml"
    code, report = run_json("--jobs", "1", "--sample", "7", spec)
    params = {p["name"]: p for p in report["specs"][0]["parameters"]}
    assert code == 0
    assert params["W1"]["checked_entries"] in (7, 8) and params["b2"]["checked_entries"] == 3
    assert params["W1"]["grad_norm"] is None and params["b2"]["grad_norm"] is not None


def test_sample_still_catches_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from gradcheck_cli.network import losses

    wrong = dataclasses.replace(losses.SSE, gradient=lambda a, y, axis: a - y)  # the 2 forgotten
    monkeypatch.setitem(losses.LOSSES, "sse", wrong)
    code, report = run_json("--jobs", "1", "--sample", "5", SPECS / "seed004_relu_no_bias_row.yaml")
    assert code == 1 and {p["status"] for p in report["specs"][0]["parameters"]} == {"fail"}


def test_fast_mode_passes_correct_networks_along_a_direction() -> None:
    code, report = run_json("--jobs", "1", "--fast", SPECS / "seed004_relu_no_bias_row.yaml",
                            SPECS / "seed001_deep_sigmoid.yaml")
    assert code == 0
    for spec in report["specs"]:
        outcomes = {(p["mode"], p["status"], p["checked_entries"]) for p in spec["parameters"]}
        assert outcomes == {("directional", "pass", 0)}


def test_fast_mode_drills_down_into_a_wrong_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from gradcheck_cli.network import activations

    wrong = dataclasses.replace(activations.SIGMOID, backward=lambda da, z, a, o: da * a)  # a, not a (1 - a)
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", wrong)
    code, report = run_json("--jobs", "1", "--fast", SPECS / "seed001_deep_sigmoid.yaml")
    params = report["specs"][0]["parameters"]
    assert code == 1
    failed = [p for p in params if p["status"] == "fail"]
    assert failed and all(p["mode"] == "entries" and p["checked_entries"] == np.prod(p["shape"]) for p in failed)
    assert all(p["worst_numeric"] is not None for p in failed)  # the report points at entries


@pytest.mark.parametrize("spec", [SPECS / "seed004_spiral_softmax_l2.yaml",  # the dense engine's groups
                                  Path(__file__).parents[1] / "benchmarks" / "lstm.yaml"])  # the layered engine's
def test_fast_engine_is_bitwise_deterministic_whatever_the_threads(spec: Path) -> None:
    problem = load_problem(spec)
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    one = fast_central_differences(problem.network, params, problem.x, problem.y, 1e-6, workers=1)
    two = fast_central_differences(problem.network, params, problem.x, problem.y, 1e-6, workers=2)
    for name in params:
        np.testing.assert_array_equal(one.gradient[name], two.gradient[name])
        np.testing.assert_array_equal(one.kink[name], two.kink[name])


def test_fast_mode_does_not_drop_the_options_that_need_every_entry(tmp_path: Path) -> None:
    """--self-test and --backward need the full witness: with --fast they still run."""
    spec = SPECS / "seed002_two_layer_sigmoid.yaml"
    code, report = run_json("--jobs", "1", "--fast", "--self-test", spec)
    assert code == 0 and report["specs"][0]["self_test"] == {"zeros": True, "times 1.001": True}
    module = tmp_path / "bp.py"
    module.write_text("def backward(q):\n    return {'dz2': (q['a2'] - q['y']) * q['a2'] * (1 - q['a2'])}\n")
    code, report = run_json("--jobs", "1", "--fast", "--backward", module, spec)
    assert code == 0 and [k["name"] for k in report["specs"][0]["derivation"]] == ["dz2"]


@pytest.mark.parametrize("spec", ["seed004_spiral_softmax_l2.yaml", "seed002_two_layer_sigmoid_row.yaml",
                                  "functions/bias_none_and_shared.yaml"])
def test_masks_and_several_steps_in_one_pass_give_the_same_witness(spec: str) -> None:
    """The re-checks evaluate some entries at several steps in one pass: the same values as one pass per
    step over every entry, on the entries selected, and nothing elsewhere."""
    problem = load_problem(SPECS / spec)
    net = problem.network
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    rng = np.random.default_rng(0)
    masks = {name: rng.random(p.shape) < 0.3 for name, p in params.items()}
    steps = (1e-6, 1e-4, 2e-3)
    together = fast_central_differences_at(net, params, problem.x, problem.y, steps, masks=masks)
    for eps, witness in zip(steps, together, strict=True):
        alone = fast_central_differences(net, params, problem.x, problem.y, eps)
        for name, mask in masks.items():
            np.testing.assert_array_equal(witness.checked[name], mask)
            assert np.all(np.isnan(witness.gradient[name][~mask]))
            close = np.abs(witness.gradient[name] - alone.gradient[name])[mask] <= alone.expected[name][mask]
            assert close.all(), (name, eps)
            np.testing.assert_array_equal(witness.kink[name][mask], alone.kink[name][mask])


@pytest.mark.parametrize("spec", ["seed004_spiral_softmax_l2.yaml", "functions/bias_none_and_shared.yaml",
                                  "layers/conv2d.yaml", "layers/lstm.yaml"])
def test_a_compact_witness_holds_the_selected_entries_of_the_full_one(spec: str) -> None:
    """Re-checks ask for compact witnesses (only the entries selected, flat, in C order): the same
    numbers, bit for bit, as those entries of the witness of the parameters' full shape, for the dense
    engine's groups and the layered engine's chunks alike."""
    problem = load_problem(SPECS / spec)
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    rng = np.random.default_rng(1)
    masks = {name: rng.random(p.shape) < 0.2 for name, p in params.items()}
    args = (problem.network, params, problem.x, problem.y, (1e-5, 4e-5))
    full = fast_central_differences_at(*args, masks=masks)
    compact = fast_central_differences_at(*args, masks=masks, compact=True)
    for whole, small in zip(full, compact, strict=True):
        for name, mask in masks.items():
            assert small.checked[name].shape == (int(mask.sum()),) and small.checked[name].all()
            for field in ("gradient", "step", "expected", "kink", "left", "right"):
                np.testing.assert_array_equal(getattr(small, field)[name],
                                              np.asarray(getattr(whole, field)[name])[mask], err_msg=f"{name} {field}")


def test_a_network_ending_in_a_normalisation_is_witnessed_whole(write_spec) -> None:
    """gamma's step changes one feature of the last layer: the loss still takes them all (a stack kept
    to one feature must be made whole before the loss)."""
    path = write_spec("""\
        version: 1
        layout: row
        seed: 9
        input: 3
        layers:
          - {units: 4, activation: tanh}
          - {type: layernorm, activation: sigmoid}
        loss: half_sse
        data: {batch: 3}
        """.replace("        ", ""))
    E, naive, fast = witnesses(path)
    assert_same_witness(naive, fast)
