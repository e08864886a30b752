"""Gradient descent on a spec's network: ``gradcheck step``.

theta <- theta - lr * dE/dtheta for every trainable parameter, ``steps`` times, with the
gradients of gradcheck's own backward pass (the one ``gradcheck check`` verifies) computed at the
current parameters before any of them is updated, as in the seeds' worked example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck_cli.network.network import Params, backward, forward
from gradcheck_cli.reading.build import Problem


@dataclass(frozen=True)
class StepResult:
    name: str
    path: str
    lr: float
    steps: int
    loss_before: float
    loss_after: float
    params_before: Params
    params_after: Params
    frozen: list[str]
    diverged_at: int | None = None  # the step after which E was no longer finite (the descent stopped there)


def gradient_descent(problem: Problem, path: str, lr: float, steps: int) -> StepResult:
    net = problem.network
    frozen = [name for name in net.parameter_names() if not problem.spec.trainable.get(name, True)]
    params = {name: value.copy() for name, value in problem.params.items()}
    before = forward(net, params, problem.x, problem.y).E
    diverged_at, done = None, 0
    with np.errstate(all="ignore"):  # an overflow is reported as divergence, not as numpy's warning
        for done in range(1, steps + 1):
            fp = forward(net, params, problem.x, problem.y)
            grads = backward(net, params, fp, problem.y)
            for name, grad in grads.items():
                if name not in frozen:
                    params[name] = params[name] - lr * grad
            if not (np.isfinite(forward(net, params, problem.x, problem.y).E)
                    and all(np.all(np.isfinite(value)) for value in params.values())):
                diverged_at = done
                break
        after = forward(net, params, problem.x, problem.y).E
    return StepResult(name=problem.spec.name or path, path=path, lr=lr, steps=done, loss_before=before,
                      loss_after=after, params_before=dict(problem.params), params_after=params, frozen=frozen,
                      diverged_at=diverged_at)
