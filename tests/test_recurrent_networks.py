"""Recurrent networks through the whole check: sequences in and out, per-step losses, the witness
catching a broken backpropagation through time, and one clear line for each bad sequence spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import gradcheck_cli
from conftest import SPECS, run
from gradcheck_cli.network.layers.lstm import Lstm
from gradcheck_cli.network.layers.rnn import Rnn

STACK = SPECS / "layers" / "recurrent_stack.yaml"


def _spec(path: Path, **changes: object) -> dict:
    return {**yaml.safe_load(path.read_text()), **changes}


@pytest.mark.parametrize("name", ["rnn.yaml", "lstm.yaml", "gru.yaml", "embedding.yaml", "recurrent_stack.yaml"])
def test_every_recurrent_example_passes_and_every_entry_is_compared(name: str) -> None:
    report = gradcheck_cli.check(SPECS / "layers" / name)
    assert report.status == "pass"
    assert all(np.isfinite(p.numeric).all() and p.numeric.size == p.analytic.size for p in report.params)


def test_a_mean_loss_divides_by_the_samples_not_the_steps() -> None:
    summed = gradcheck_cli.check(_spec(STACK, loss={"name": "softmax_cross_entropy", "reduction": "sum"}))
    mean = gradcheck_cli.check(_spec(STACK, loss={"name": "softmax_cross_entropy", "reduction": "mean"}))
    assert mean.loss == pytest.approx(summed.loss / 3, rel=1e-12)  # batch 3, 5 steps


def test_class_labels_per_step_are_one_hot_targets_per_step() -> None:
    spec = _spec(SPECS / "layers" / "rnn.yaml")
    one_hot = np.eye(3)[spec["data"]["y"]].tolist()
    arrays = gradcheck_cli.check({**spec, "data": {**spec["data"], "y": one_hot}})
    assert gradcheck_cli.check(spec).loss == arrays.loss


def test_the_witness_fails_a_bptt_without_the_recurrent_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The classic BPTT mistake in gradcheck's own backward: each step's gradient from its own output only."""
    right = Rnn.bptt
    monkeypatch.setattr(Rnn, "bptt", lambda self, dh_out, steps, p, **_: right(self, dh_out, steps, p, carry=False))
    report = gradcheck_cli.check(SPECS / "layers" / "rnn.yaml")
    statuses = {p.name: p.status for p in report.params}
    assert report.status == "fail" and statuses["Wh1"] == statuses["Wx1"] == "fail"
    assert statuses["W2"] == statuses["b2"] == "pass"  # the layer after the recurrence is still right


def test_the_witness_fails_an_lstm_gradient_in_another_gate_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """dv's blocks stacked i, f, g, o (torch's order) where the layer's are i, f, o, g."""
    right = Lstm.bptt
    monkeypatch.setattr(Lstm, "bptt", lambda self, dh_out, steps, p, **_: right(self, dh_out, steps, p,
                                                                                 order=(0, 1, 3, 2)))
    report = gradcheck_cli.check(SPECS / "layers" / "lstm.yaml")
    statuses = {p.name: p.status for p in report.params}
    assert report.status == "fail" and statuses["Wx1"] == statuses["Wh1"] == statuses["b1"] == "fail"


@pytest.mark.parametrize(("change", "line", "says"), [
    ({"layout": "column"}, 8, "needs layout: row"),
    ({"layers": [{"type": "flatten"}, {"type": "rnn", "units": 3}, {"units": 3}]}, 9,
     "a rnn layer takes one sequence of T steps x D features per sample, but its input is 20"),
    ({"input": [5, 4, 2]}, 8, "cannot follow a convolution"),
    ({"layers": [{"type": "rnn", "units": 3}, {"type": "layernorm"}, {"units": 3}]}, 9,
     "a layernorm layer cannot normalise a sequence (5 steps x 3 features per sample) yet"),
    ({"layers": [{"type": "batchnorm"}, {"type": "rnn", "units": 3}, {"units": 3}]}, 9,
     "a batchnorm layer cannot normalise a sequence (5 steps x 4 features per sample) yet"),
])
def test_a_recurrent_layer_where_it_cannot_go_is_one_line(write_spec, change: dict, line: int, says: str) -> None:
    data = _spec(STACK, **change)
    data.pop("name"), data.pop("description")
    path = write_spec(yaml.safe_dump(data, sort_keys=False, default_flow_style=None))
    result = run("check", path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) >= 1
    assert says in result.stderr and result.stderr.startswith(f"{path}:")


@pytest.mark.parametrize(("data", "says"), [
    ("{x: [[1, 6, 0, 2]], y: [[0, 1, 2, 3]]}", "data.x[0, 1] is 6, not an index of the vocabulary"),
    ("{x: [[1, 2, 0, 2]], y: [[0, 1, 2, 6]]}", "class label 6 is out of range"),
    ("{x: [[1, 2, 0, 2]], y: [0]}", "data.y has shape 1, expected 1x4x6 (samples x steps x outputs)"),
    ("{x: [[1, 2, 0, 2]], y: [[0, 1, 2]]}", "data.y has labels of shape 1x3, expected 1x4 (samples x steps)"),
])
def test_bad_sequence_data_is_one_line_at_its_place(write_spec, data: str, says: str) -> None:
    path = write_spec(f"""
        version: 1
        layout: row
        input: [4]
        layers:
          - {{type: embedding, vocab: 6, dim: 3}}
          - {{type: gru, units: 2}}
          - {{units: 6}}
        loss: softmax_cross_entropy
        data: {data}
    """)
    result = run("check", path)
    assert result.exit_code == 2 and result.stderr.splitlines()[0].startswith(f"{path}:9: error: {says}")


def test_an_embedding_after_another_layer_names_the_fix(write_spec) -> None:
    path = write_spec("version: 1\nlayout: row\ninput: [4, 2]\nlayers:\n  - {type: rnn, units: 3}\n"
                      "  - {type: embedding, vocab: 5, dim: 2}\nloss: sse\n")
    result = run("check", path)
    assert result.exit_code == 2
    assert "must be the first layer" in result.stderr and "move it to the top" in result.stderr
