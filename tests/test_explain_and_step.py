"""gradcheck explain (its equations check out on every bundled network) and gradcheck step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import SMALL_SPECS, SPECS, run, run_json

NETWORKS = [p for p in SMALL_SPECS if "homework" not in p.parts and "demos" not in p.parts]


@pytest.mark.parametrize("spec", NETWORKS, ids=lambda p: p.name)
def test_explained_equations_pasted_as_a_derivation_pass_every_link(spec: Path, tmp_path: Path) -> None:
    out = run("explain", spec).stdout
    block = out[out.index("derivation:\n"):]
    derivation = yaml.safe_load(block)["derivation"]
    assert derivation and all(isinstance(v, str) for v in derivation.values())
    pasted = tmp_path / spec.name
    pasted.write_text(spec.read_text() + block)
    code, report = run_json("--jobs", "1", pasted)
    links = report["specs"][0]["derivation"]
    assert code == 0, [(k["name"], k["formula"], k["message"], k["diagnosis"]) for k in links if k["status"] != "pass"]
    assert [k["name"] for k in links] == list(derivation)
    for link in links:  # a warning is allowed only where the derivative does not exist (a kink)
        assert link["status"] == "pass" or "at a ReLU kink" in link["diagnosis"], link


def test_explain_writes_shapes_and_the_batch_mean() -> None:
    out = run("explain", SPECS / "seed000_three_layer_mean.yaml").stdout
    assert "da3: (a3 - y) / m" in out
    assert "dW3: dz3 @ a2.T" in out and "# 2 x 3" in out  # W3 is 2 x 3, delta^3 is 2 x m
    assert "dz3: da3 * a3 * (1 - a3)" in out and "# 2 x m  (delta)" in out
    row = run("explain", SPECS / "seed004_spiral_softmax_l2.yaml").stdout
    assert "dW2: a1.T @ dz2 + l2 * W2" in row and "db1: sum(dz1, axis=0, keepdims=True)" in row


def test_explain_latex() -> None:
    out = run("explain", "--latex", SPECS / "seed002_two_layer_sigmoid.yaml").stdout
    assert out.splitlines()[1] == r"\begin{aligned}" and out.strip().endswith(r"\end{aligned}")
    assert r"\delta^{[2]} = \frac{\partial E}{\partial z^{[2]}}" in out
    assert r"a^{[2]} \odot (1 - a^{[2]})" in out and r"2 \times m" in out


def test_step_reproduces_seed002_published_update() -> None:
    result = run("step", SPECS / "seed002_two_layer_sigmoid.yaml", "--lr", "0.5", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    W1, W2 = report["parameters"]["W1"], report["parameters"]["W2"]
    published_w5_to_w8 = [0.35891648, 0.408666186, 0.511301270, 0.561370121]
    published_w1_to_w4 = [0.149780716, 0.19956143, 0.24975114, 0.29950229]
    assert [round(v, 9) for v in sum(W2, [])] == pytest.approx(published_w5_to_w8, abs=1e-9)
    assert [round(v, 8) for v in sum(W1, [])] == pytest.approx(published_w1_to_w4, abs=1e-8)
    assert report["parameters"]["b1"] == 0.35 and report["parameters"]["b2"] == 0.60  # frozen
    assert report["frozen"] == ["b1", "b2"]
    assert round(report["loss_before"], 9) == 0.298371109
    assert round(report["loss_after"], 8) == 0.29102777  # the article's hand-rounded 0.291027924


def test_step_many_steps_and_table() -> None:
    report = json.loads(run("step", SPECS / "seed002_two_layer_sigmoid.yaml", "--lr", "0.5", "--steps", "10000",
                            "--format", "json").stdout)
    assert report["loss_after"] == pytest.approx(3.5102e-05, rel=1e-4)
    table = run("step", SPECS / "seed002_two_layer_sigmoid.yaml", "--lr", "0.5").stdout
    assert "frozen (trainable: false)" in table and "E = 0.298371109 -> 0.291027774" in table


def test_step_and_explain_report_bad_specs_like_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninput: 2\nlayers: [{units: 1, activation: sigmod}]\nloss: sse\n")
    for args in (("step", bad, "--lr", "0.1"), ("explain", bad)):
        result = run(*args)
        assert result.exit_code == 2 and "did you mean 'sigmoid'?" in result.stderr
    unknown = tmp_path / "frozen.yaml"
    unknown.write_text("version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: sse\ntrainable: {b7: false}\n")
    assert "unknown parameter 'b7'" in run("step", unknown, "--lr", "0.1").stderr


def test_sweep_shows_the_v_shaped_error_curve() -> None:
    from gradcheck_cli.commands.sweep import STEPS, sweep
    from gradcheck_cli.run.one_spec import load_problem

    result = sweep(load_problem(SPECS / "seed002_two_layer_sigmoid.yaml"), "seed002")
    for name, errors in result.errors.items():
        best = min(range(len(errors)), key=errors.__getitem__)
        assert 0 < best < len(STEPS) - 1, name  # the smallest error is inside the range ...
        assert errors[0] > 10 * errors[best] and errors[-1] > 10 * errors[best], name  # ... with a V around it
    out = run("sweep", SPECS / "seed002_two_layer_sigmoid.yaml").stdout
    assert "<- gradcheck's default step" in out and "<- smallest error" in out and "h =   1e-11" in out
