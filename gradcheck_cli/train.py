"""Gradient descent on a spec's network: ``gradcheck step``.

theta <- theta - lr * dE/dtheta for every trainable parameter, ``steps`` times, with the
gradients of gradcheck's own backward pass (the one ``gradcheck check`` verifies) computed at the
current parameters before any of them is updated, as in the seeds' worked example.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradcheck_cli.build import Problem
from gradcheck_cli.network import Params, backward, forward


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


def gradient_descent(problem: Problem, path: str, lr: float, steps: int) -> StepResult:
    net = problem.network
    frozen = [name for name in net.parameter_names() if not problem.spec.trainable.get(name, True)]
    params = {name: value.copy() for name, value in problem.params.items()}
    before = forward(net, params, problem.x, problem.y).E
    for _ in range(steps):
        fp = forward(net, params, problem.x, problem.y)
        grads = backward(net, params, fp, problem.y)
        for name, grad in grads.items():
            if name not in frozen:
                params[name] = params[name] - lr * grad
    after = forward(net, params, problem.x, problem.y).E
    return StepResult(name=problem.spec.name or path, path=path, lr=lr, steps=steps, loss_before=before,
                      loss_after=after, params_before=dict(problem.params), params_after=params, frozen=frozen)
