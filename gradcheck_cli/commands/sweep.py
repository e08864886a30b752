"""``gradcheck sweep``: how the finite-difference error depends on the step, per parameter.

For steps from 1e-1 down to 1e-11, and gradcheck's default step, it computes the witness and the norm ratio
||a - n|| / (||a|| + ||n||) of every parameter against the analytic gradient. The curve is the
classic V: truncation error falls as h^2 until round-off, which grows as 1/h, takes over. No
floor is applied here: the point is to see the raw error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck_cli.network.network import backward, forward
from gradcheck_cli.reading.build import Problem
from gradcheck_cli.witness.methods import DEFAULT_EPS, WitnessMaker

STEPS = tuple(sorted({*(10.0 ** -k for k in range(1, 12)), DEFAULT_EPS["central"]}, reverse=True))


@dataclass(frozen=True)
class Sweep:
    name: str
    path: str
    steps: tuple[float, ...]
    errors: dict[str, list[float]]  # parameter -> norm ratio at each step
    default_step: float


def sweep(problem: Problem, path: str, steps: tuple[float, ...] = STEPS) -> Sweep:
    net = problem.network
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    x, y = problem.x.astype(np.float64), problem.y.astype(np.float64)
    analytic = backward(net, params, forward(net, params, x, y), y)
    errors: dict[str, list[float]] = {name: [] for name in params}
    maker = WitnessMaker(net, params, x, y, "fast")
    for h in steps:
        witness = maker.central(h, progress=False)
        for name, a in analytic.items():
            n = witness.gradient[name]
            denominator = float(np.linalg.norm(a) + np.linalg.norm(n))
            errors[name].append(float(np.linalg.norm(a - n)) / denominator if denominator else 0.0)
    return Sweep(problem.spec.name or path, path, steps, errors, DEFAULT_EPS["central"])
