"""Backpropagation through time, checked link by link: the witness of dh<l> and dc<l> against an
independent numpy recurrence, the homework's BPTT code (correct answers pass every link, each wrong
one FAILs with its diagnosis and the first broken step), and the names dh<l>, dc<l> refused where the
network has no such state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SPECS, run, run_json
from gradcheck_cli.network.network import forward
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.witness.central import CENTRAL_EPS, step_sizes
from gradcheck_cli.witness.states import state_witness

BPTT = SPECS / "homework" / "bptt"


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _rnn_loss(q: dict, x: np.ndarray, y: np.ndarray, f, moved: tuple[int, np.ndarray]) -> tuple[float, list]:  # noqa: ANN001
    """rnn.yaml written out by hand: h_t = f(x_t Wx + h_(t-1) Wh + b), h_t moved after step ``moved[0]``,
    a dense layer at every step, softmax cross-entropy summed over steps and averaged over samples."""
    h, hs, signs = q["h0_1"], [], []
    for t in range(x.shape[1]):
        s = x[:, t] @ q["Wx1"] + h @ q["Wh1"] + q["b1"]
        signs.append(s > 0)
        h = f(s) + (moved[1] if t == moved[0] else 0)
        hs.append(h)
    z = np.stack(hs, axis=1) @ q["W2"] + q["b2"]
    return float(-(y * _log_softmax(z)).sum() / x.shape[0]), signs


@pytest.mark.parametrize(("activation", "eps"), [("tanh", CENTRAL_EPS), ("relu", 0.05)])  # relu: steps that cross
def test_dh_is_the_total_derivative_of_an_independent_rnn(activation: str, eps: float, write_spec) -> None:  # noqa: ANN001
    text = (SPECS / "layers" / "rnn.yaml").read_text().replace("activation: tanh", f"activation: {activation}")
    problem = load_problem(write_spec(text))
    net, q, x, y = problem.network, problem.params, problem.x, problem.y
    f = np.tanh if activation == "tanh" else (lambda s: np.maximum(s, 0))
    witness = state_witness(net, q, y, "h", 1, x, eps)
    h = forward(net, q, x, y).caches[0][2].h
    steps = step_sizes(h, eps)
    base, base_signs = _rnn_loss(q, x, y, f, (-1, 0))
    expected = np.empty_like(h)
    crossed = np.zeros(h.shape, dtype=bool)
    for i, t, j in np.ndindex(h.shape):
        one = np.zeros(h.shape[::2])
        one[i, j] = steps[i, t, j]
        (up, up_signs), (down, down_signs) = (_rnn_loss(q, x, y, f, (t, sign * one)) for sign in (1, -1))
        expected[i, t, j] = (up - down) / (2 * steps[i, t, j])
        moved = up_signs + down_signs
        crossed[i, t, j] = any((a != b).any() for a, b in zip(moved, base_signs * 2, strict=True))
    np.testing.assert_array_equal(witness.kink["h1"], crossed)
    smooth = ~crossed
    np.testing.assert_allclose(witness.gradient["h1"][smooth], expected[smooth], rtol=1e-6, atol=1e-9)
    assert activation == "tanh" or crossed.any()  # the relu case does exercise the kink flags
    assert not np.allclose(witness.gradient["h1"][:, :-1], forward_only_path(problem)[:, :-1])


def forward_only_path(problem) -> np.ndarray:  # noqa: ANN001
    """dE/dh_t through step t's own output alone: what the total must differ from before the last step."""
    from gradcheck_cli.witness.quantities import quantity_witness

    net, q, x, y = problem.network, problem.params, problem.x, problem.y
    z1 = forward(net, q, x, y).z[0]
    return quantity_witness(net, q, y, "z", 1, z1, CENTRAL_EPS).gradient["z1"]


def _lstm_loss(q: dict, x: np.ndarray, y: np.ndarray, kind: str, moved: tuple[int, np.ndarray]) -> float:
    """lstm.yaml by hand (gates i, f, o, g; only h_T to a dense layer; half squared error, summed)."""
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    N, H = x.shape[0], q["Wh1"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(x.shape[1]):
        v = x[:, t] @ q["Wx1"] + h @ q["Wh1"] + q["b1"]
        i, f, o, g = sigmoid(v[:, :H]), sigmoid(v[:, H : 2 * H]), sigmoid(v[:, 2 * H : 3 * H]), np.tanh(v[:, 3 * H :])
        c = f * c + i * g + (moved[1] if kind == "c" and t == moved[0] else 0)
        h = o * np.tanh(c) + (moved[1] if kind == "h" and t == moved[0] else 0)
    out = h @ q["W2"] + q["b2"]
    return float(0.5 * ((out - y) ** 2).sum())


@pytest.mark.parametrize("kind", ["h", "c"])
def test_dh_and_dc_are_the_total_derivatives_of_an_independent_lstm(kind: str) -> None:
    problem = load_problem(SPECS / "layers" / "lstm.yaml")
    net, q, x, y = problem.network, problem.params, problem.x, problem.y
    witness = state_witness(net, q, y, kind, 1, x, CENTRAL_EPS)
    steps = forward(net, q, x, y).caches[0][2]
    state = steps.h if kind == "h" else steps.inner["c"]
    h = step_sizes(state, CENTRAL_EPS)
    expected = np.empty_like(state)
    for i, t, j in np.ndindex(state.shape):
        one = np.zeros(state.shape[::2])
        one[i, j] = h[i, t, j]
        up, down = _lstm_loss(q, x, y, kind, (t, one)), _lstm_loss(q, x, y, kind, (t, -one))
        expected[i, t, j] = (up - down) / (2 * h[i, t, j])
    np.testing.assert_allclose(witness.gradient[f"{kind}1"], expected, rtol=1e-6, atol=1e-10)
    assert np.abs(expected[:, :-1]).max() > 1e-3  # many-to-one: the earlier steps matter only through the recurrence


def _links(spec: Path, code: Path) -> tuple[int, dict[str, dict]]:
    status, report = run_json("--jobs", "1", spec, "--backward", code)
    return status, {link["name"]: link for link in report["specs"][0]["derivation"]}


@pytest.mark.parametrize(("code", "spec", "states"), [
    ("rnn_correct.py", "rnn.yaml", ["dh1"]), ("lstm_correct.py", "lstm.yaml", ["dh1", "dc1"]),
    ("gru_correct.py", "gru.yaml", ["dh1"]),
    ("embedding_correct.py", "embedding.yaml", ["dh2"]),  # indexes W1 with q["x"]: the indices are integers
])
def test_correct_bptt_code_passes_every_link(code: str, spec: str, states: list[str]) -> None:
    status, links = _links(SPECS / "layers" / spec, BPTT / code)
    assert status == 0 and all(link["status"] == "pass" for link in links.values())
    assert set(states) <= set(links)


WRONG = [  # (file, spec, link, what its diagnosis must say)
    ("rnn_recurrent_path_dropped.py", "rnn.yaml", "dh1",
     "right for t >= 5, wrong at t = 4: the path through h_(t+1) is missing"),
    ("rnn_recurrent_path_dropped.py", "rnn.yaml", "dWh1", "the path through h_(t+1) is missing"),
    ("rnn_dWh_last_step_only.py", "rnn.yaml", "dWh1", "dWh1 is taken from the last step only"),
    ("rnn_dWh_time_shift.py", "rnn.yaml", "dWh1", "off by one step: dWh1 pairs step t's gradient with h_t"),
    ("rnn_tanh_prime_one_step_early.py", "rnn.yaml", "dh1", "wrong at t = 4: tanh' is taken one step early"),
    ("rnn_tanh_prime_one_step_early.py", "rnn.yaml", "dWx1", "tanh' is taken one step early"),
    ("lstm_forget_gate_on_c_t.py", "lstm.yaml", "dc1", "wrong at t = 5: the forget gate is applied to c_t"),
    ("lstm_forget_gate_on_c_t.py", "lstm.yaml", "db1", "the forget gate is applied to c_t"),
    ("lstm_gate_order_ifgo.py", "lstm.yaml", "dWx1",
     "the gates' gradients are stacked as i, f, g, o; the layer stacks the gates as i, f, o, g"),
    ("lstm_cell_path_dropped.py", "lstm.yaml", "dc1", "wrong at t = 5: the path through c_(t+1) is dropped"),
    ("embedding_overwritten.py", "embedding.yaml", "dW1", "a repeated index keeps only one of its gradients"),
]


@pytest.mark.parametrize(("code", "spec", "link", "says"), WRONG)
def test_each_wrong_bptt_fails_with_its_diagnosis(code: str, spec: str, link: str, says: str) -> None:
    status, links = _links(SPECS / "layers" / spec, BPTT / code)
    assert status == 1 and links[link]["status"] == "fail"
    assert says in links[link]["diagnosis"]


def test_every_homework_bptt_file_is_exercised() -> None:
    files = {path.name for path in BPTT.glob("*.py")}
    assert files == {code for code, *_ in WRONG} | {"rnn_correct.py", "lstm_correct.py", "gru_correct.py",
                                                     "embedding_correct.py"}


def test_a_derivation_that_drops_the_recurrent_path_names_the_step_it_breaks_at() -> None:
    status, report = run_json("--jobs", "1", SPECS / "homework" / "rnn_output_path_only.yaml")
    links = {link["name"]: link for link in report["specs"][0]["derivation"]}
    assert status == 0 and report["specs"][0]["gate"] == "xfail"
    assert links["dz2"]["status"] == links["dW2"]["status"] == "pass" and links["dh1"]["status"] == "fail"
    assert links["dh1"]["diagnosis"].startswith("right for t >= 5, wrong at t = 4: the path through h_(t+1)")


@pytest.mark.parametrize(("formula", "says"), [
    ("dc1", "dc1: layer 1 (rnn) has no state c at every step"),
    ("dh2", "dh2: layer 2 (dense) has no state h at every step"),
    ("d_h1", "'d_h1' looks like a checked gradient but is none"),
])
def test_state_names_the_network_lacks_are_refused(write_spec, formula: str, says: str) -> None:  # noqa: ANN001
    text = (SPECS / "layers" / "rnn.yaml").read_text() + f"derivation:\n  {formula}: h1 * 0\n"
    result = run("check", write_spec(text))
    assert result.exit_code == 2 and says in result.output


MIXING = """
    version: 1
    layout: row
    seed: 5
    input: [3, 2]
    layers:
      - {type: gru, units: 3}
      - {type: flatten}
      - {type: batchnorm}
      - {units: 2}
    loss: half_sse
    data: {batch: 3}
"""


@pytest.mark.parametrize("spec", ["gru", "batchnorm after the recurrence"])
def test_dh_agrees_with_a_plain_loop_that_moves_h_t_inside_the_network_forward(spec: str, write_spec,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """The plain reference: the network's own forward pass, its cell patched to add a step to h_t, one entry
    at a time, E read whole. A batchnorm after the recurrence mixes the samples, so the witness moves
    each entry alone there too."""
    path = SPECS / "layers" / "gru.yaml" if spec == "gru" else write_spec(MIXING)
    problem = load_problem(path)
    net, q, x, y = problem.network, problem.params, problem.x, problem.y
    gru = type(net.layers[0])
    cell = gru.cell

    def loss_with(t: int, delta: np.ndarray) -> float:
        calls = []

        def moved_cell(self, xw, hw, h, state):  # noqa: ANN001, ANN202
            h_t, quantities = cell(self, xw, hw, h, state)
            calls.append(None)
            return (h_t + delta if len(calls) == t + 1 else h_t), quantities

        with monkeypatch.context() as patch:
            patch.setattr(gru, "cell", moved_cell)
            return forward(net, q, x, y).E

    h = forward(net, q, x, y).caches[0][2].h
    steps = step_sizes(h, CENTRAL_EPS)
    expected = np.empty_like(h)
    for i, t, j in np.ndindex(h.shape):
        one = np.zeros(h.shape[::2])
        one[i, j] = steps[i, t, j]
        expected[i, t, j] = (loss_with(t, one) - loss_with(t, -one)) / (2 * steps[i, t, j])
    witness = state_witness(net, q, y, "h", 1, x, CENTRAL_EPS)
    np.testing.assert_allclose(witness.gradient["h1"], expected, rtol=1e-6, atol=1e-10)


def test_the_readme_quotes_the_diagnosis_as_it_is() -> None:
    _, report = run_json("--jobs", "1", SPECS / "homework" / "rnn_output_path_only.yaml")
    dh1 = next(link for link in report["specs"][0]["derivation"] if link["name"] == "dh1")
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert f"  dh1: {dh1['diagnosis']}\n" in readme
