"""Losses: one entry each, the per-sample value and its gradient side by side.

``per_sample(a, y, axis)`` returns one loss value per sample (summed over the unit ``axis``);
``gradient(a, y, axis)`` returns dl/da for every entry of ``a``, the gradient of the *sum* of the
per-sample values. The batch reduction (sum or mean over samples) and the L2 term are applied by
the network, once, for every loss.

``y`` always has the shape of ``a``: class labels arrive here already one-hot.
``targets`` says what targets suit the loss, so the spec builder can check them and generate them:
``real`` (any finite numbers), ``class`` (one-hot or probability rows that sum to 1, or integer
labels), ``binary`` (numbers in [0, 1]).

``from_logits`` gives the same per-sample value computed from the output layer's pre-activation
z, for the losses on probabilities: once a = sigmoid(z) rounds to 1, ln(1 - a) has lost every
digit and E(theta) becomes a staircase that no finite difference can follow. The forward pass uses
this exact form of the same function when the output activation matches; the backward pass still
goes through dl/da and the activation's own derivative, as a derivation does.
Every value accepts complex input as well (the complex-step witness); the activations module says how.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from gradcheck_cli.network.activations import log1pexp, softmax

Array = np.ndarray


@dataclass(frozen=True)
class Loss:
    name: str
    value: str  # the per-sample formula, as `gradcheck list` prints it
    derivative: str
    per_sample: Callable[[Array, Array, int], Array]
    gradient: Callable[[Array, Array, int], Array]
    targets: str  # "real" | "class" | "binary"
    needs_probabilities: bool = False  # outputs must lie in (0, 1): a sigmoid or softmax layer
    from_logits: Mapping[str, Callable[[Array, Array, int], Array]] = field(default_factory=dict)
    # dl/dz at the output's pre-activation for the same pairs: the seeds' fused "y_p - y_t", exact where
    # a rounds to 0 or 1 and dl/da * da/dz would be 0/0. Arguments (a, y, axis).
    delta_from_logits: Mapping[str, Callable[[Array, Array, int], Array]] = field(default_factory=dict)


def _log_softmax(a: Array, axis: int) -> Array:
    shifted = a - a.real.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _squared_error(a: Array, y: Array) -> Array:
    """(a - y)^2, squared in place: the witness evaluates this on stacks of thousands of networks."""
    d = a - y
    return np.multiply(d, d, out=d)


def _xlogy(y: Array, p: Array) -> Array:
    """y * ln(p) with 0 * ln(0) = 0, so exact zeros in the targets cost nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, 0.0, y * np.log(p))


HALF_SSE = Loss(
    name="half_sse",
    value="l = 1/2 sum_k (a_k - y_k)^2",
    derivative="dl/da = a - y",
    per_sample=lambda a, y, axis: 0.5 * _squared_error(a, y).sum(axis=axis),
    gradient=lambda a, y, axis: a - y,
    targets="real",
)

SSE = Loss(
    name="sse",
    value="l = sum_k (a_k - y_k)^2",
    derivative="dl/da = 2 (a - y)",
    per_sample=lambda a, y, axis: _squared_error(a, y).sum(axis=axis),
    gradient=lambda a, y, axis: 2 * (a - y),
    targets="real",
)

MSE = Loss(
    name="mse",
    value="l = 1/K sum_k (a_k - y_k)^2   (K outputs)",
    derivative="dl/da = 2 (a - y) / K",
    per_sample=lambda a, y, axis: _squared_error(a, y).mean(axis=axis),
    gradient=lambda a, y, axis: 2 * (a - y) / a.shape[axis],
    targets="real",
)

CROSS_ENTROPY = Loss(
    name="cross_entropy",
    value="l = -sum_k y_k ln a_k   (a are probabilities)",
    derivative="dl/da = -y / a",
    per_sample=lambda a, y, axis: -_xlogy(y, a).sum(axis=axis),
    gradient=lambda a, y, axis: -y / a,
    targets="class",
    needs_probabilities=True,
    from_logits={
        "softmax": lambda z, y, axis: -(y * _log_softmax(z, axis)).sum(axis=axis),
        "sigmoid": lambda z, y, axis: (y * log1pexp(-z)).sum(axis=axis),  # -ln sigmoid(z)
    },
    delta_from_logits={
        "softmax": lambda a, y, axis: a * y.sum(axis=axis, keepdims=True) - y,  # a - y: rows of y sum to 1
        "sigmoid": lambda a, y, axis: y * (a - 1),
    },
)

SOFTMAX_CROSS_ENTROPY = Loss(
    name="softmax_cross_entropy",
    value="l = -sum_k y_k ln softmax(a)_k   (a are logits)",
    derivative="dl/da = softmax(a) sum_k(y_k) - y   (softmax(a) - y when the targets sum to 1)",
    per_sample=lambda a, y, axis: -(y * _log_softmax(a, axis)).sum(axis=axis),
    # exact for any targets: rows that sum to 1 only up to rounding (float32 data) would make
    # softmax(a) - y off by softmax(a) (sum(y) - 1), which is all there is near convergence
    gradient=lambda a, y, axis: softmax(a, axis) * y.sum(axis=axis, keepdims=True) - y,
    targets="class",
)

BINARY_CROSS_ENTROPY = Loss(
    name="binary_cross_entropy",
    value="l = -sum_k [y_k ln a_k + (1 - y_k) ln(1 - a_k)]",
    derivative="dl/da = (a - y) / (a (1 - a))",
    per_sample=lambda a, y, axis: -(_xlogy(y, a) + _xlogy(1 - y, 1 - a)).sum(axis=axis),
    gradient=lambda a, y, axis: (a - y) / (a * (1 - a)),
    targets="binary",
    needs_probabilities=True,
    from_logits={  # -ln sigmoid(z) = softplus(-z), -ln(1 - sigmoid(z)) = softplus(z)
        "sigmoid": lambda z, y, axis: (y * log1pexp(-z) + (1 - y) * log1pexp(z)).sum(axis=axis),
    },
    delta_from_logits={"sigmoid": lambda a, y, axis: a - y},
)

LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (HALF_SSE, SSE, MSE, CROSS_ENTROPY, SOFTMAX_CROSS_ENTROPY, BINARY_CROSS_ENTROPY)
}
