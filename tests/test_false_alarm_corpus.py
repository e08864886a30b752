"""The false-alarm corpus: 252 random correct networks, none of which may FAIL, with every --method.

Every activation and loss, both layouts, sum and mean, float32 and float64, with weight scales
from tiny (1e-4) through saturating (3) to huge (30); ReLU-type networks with a sample at the
origin and zero biases, so pre-activations sit exactly on the kink; and near-converged networks
whose targets are their own outputs. A PASS, an INCONCLUSIVE or a WARN (each with its reason) is
fine; a FAIL of a correct gradient is a false alarm.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from gradcheck_cli.network.activations import softmax
from gradcheck_cli.network.network import forward
from gradcheck_cli.reading.build import build_problem
from gradcheck_cli.reading.loader import SourceMap
from gradcheck_cli.reading.model import parse_spec
from gradcheck_cli.run.one_spec import Overrides, check_problem
from gradcheck_cli.verdict.results import Status
from gradcheck_cli.witness.methods import METHODS

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"]
LOSSES = [("half_sse", "identity"), ("sse", "tanh"), ("mse", "sigmoid"), ("cross_entropy", "softmax"),
          ("softmax_cross_entropy", "identity"), ("binary_cross_entropy", "sigmoid")]
REGIMES = ["tiny", "normal", "saturated", "huge", "kink", "converged"]
SCALES = {"tiny": 1e-4, "normal": "lecun", "saturated": 3.0, "huge": 30.0, "kink": "lecun", "converged": "lecun"}


def corpus() -> list[tuple[int, str, str, str]]:
    rng = np.random.default_rng(2026)
    cases = []
    for i, (regime, (loss, _)) in enumerate(itertools.product(REGIMES, LOSSES)):
        for k in range(7):  # 6 regimes x 6 losses x 7 = 252 networks
            hidden = "relu" if regime == "kink" and k % 2 == 0 else ACTIVATIONS[(i + k) % len(ACTIVATIONS)]
            if regime == "kink" and hidden not in ("relu", "leaky_relu", "elu"):
                hidden = "leaky_relu"
            cases.append((int(rng.integers(0, 10_000)), regime, loss, hidden))
    return cases


def build(seed: int, regime: str, loss: str, hidden: str):
    output = dict(LOSSES)[loss]
    spec = {
        "version": 1, "seed": seed, "dtype": "float32" if seed % 3 == 0 else "float64",
        "layout": "row" if seed % 2 else "column", "input": 3,
        "layers": [{"units": 4, "activation": hidden}, {"units": 3, "activation": output}],
        "loss": {"name": loss, "reduction": "mean" if seed % 4 < 2 else "sum"}, "l2": 0.01 * (seed % 3),
        "data": {"batch": 5},
        "init": {"weights": SCALES[regime], "biases": 0.0 if regime == "kink" else 0.1},
    }
    source = SourceMap("<corpus>")
    problem = build_problem(parse_spec(spec, source), source)
    if regime == "kink":  # a sample at the origin: with zero biases its pre-activations are exactly 0
        x = problem.x.copy()
        np.moveaxis(x, problem.network.layout.sample_axis, 0)[0] = 0.0
        problem = replace(problem, x=x)
    if regime == "converged":  # the targets are the network's own predictions (valid targets for the loss)
        a = forward(problem.network, problem.params, problem.x, problem.y).a[-1].astype(np.float64)
        if loss == "softmax_cross_entropy":  # outputs are logits: the predicted probabilities are softmax(a)
            a = softmax(a, problem.network.layout.unit_axis)
        elif problem.network.loss.targets == "class":
            a = a / a.sum(axis=problem.network.layout.unit_axis, keepdims=True)
        problem = replace(problem, y=np.clip(a, 0.0, 1.0).astype(problem.y.dtype)
                          if problem.network.loss.targets != "real" else a.astype(problem.y.dtype))
    return problem


CASES = corpus()
outcomes: dict[tuple[str, int], Status] = {}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{r}-{l}-{h}-{s}" for s, r, l, h in CASES])
def test_no_false_alarm(index: int, method: str) -> None:
    seed, regime, loss, hidden = CASES[index]
    result = check_problem(build(seed, regime, loss, hidden), f"corpus-{index}", Overrides(method=method))
    outcomes[method, index] = result.status
    failed = [(p.name, p.max_rel_error, p.worst_analytic, p.worst_numeric) for p in result.params
              if p.status is Status.FAIL]
    assert result.status is not Status.FAIL, (CASES[index], result.message, failed)


def test_zz_corpus_counts_are_printed(capsys: pytest.CaptureFixture[str]) -> None:
    if len(outcomes) < len(CASES) * len(METHODS):
        pytest.skip("runs after the corpus (select the whole file)")
    for method in METHODS:
        statuses = [status for (m, _), status in outcomes.items() if m == method]
        counts = {status.value: statuses.count(status) for status in Status}
        with capsys.disabled():
            print(f"\nfalse-alarm corpus, {method}: {len(statuses)} correct networks: {counts['pass']} pass, "
                  f"{counts['inconclusive']} inconclusive, {counts['warn']} warn, {counts['fail']} fail")
        assert len(statuses) >= 200 and counts["fail"] == 0
