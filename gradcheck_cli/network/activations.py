"""Activation functions: one entry each, its value and its local derivative side by side.

Each entry maps a pre-activation ``z`` to ``a = f(z)`` (``forward``) and carries the backward rule
``dz = backward(da, z, a)``, the gradient of the loss with respect to ``z`` given the gradient
``da`` with respect to ``a``. For element-wise functions that is ``da * f'(z)``; softmax couples
the units of a sample, so its backward applies the full Jacobian (``diag(a) - a a^T``) along the
unit axis.

``Options.axis`` is the unit axis of the layout (0 in column layout, 1 in row layout); only
softmax uses it. ``Options.alpha`` is the slope/scale of leaky_relu and elu.

Conventions at non-differentiable points (documented because a checker must state them):
relu'(0) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha (the left derivative).

Every forward also accepts complex input, for the complex-step witness (``--method complex``): each
function is complex-analytic, or piecewise so with the piece chosen by the sign of the real part
(relu, leaky_relu, elu), and the overflow guards shift by real parts only.
Adding an activation is one entry here plus its test, which is generated from this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Options:
    """Per-layer settings an activation may read."""

    alpha: float
    axis: int


@dataclass(frozen=True)
class Activation:
    name: str
    value: str  # the formula, as `gradcheck list` prints it
    derivative: str
    forward: Callable[[Array, Options], Array]
    backward: Callable[[Array, Array, Array, Options], Array]  # (da, z, a, options) -> dz
    default_alpha: float | None = None  # None: the activation takes no alpha
    kinked: bool = False  # has points where it is not differentiable


def log1pexp(z: Array) -> Array:
    """ln(1 + e^z) (softplus) without overflow: numpy's logaddexp for real z; for complex z the same
    split by the sign of the real part, z + ln(1 + e^-z) or ln(1 + e^z)."""
    if not np.iscomplexobj(z):
        return np.logaddexp(0.0, z)
    positive = z.real > 0
    return np.where(positive, z, 0.0) + np.log1p(np.exp(np.where(positive, -z, z)))


def sigmoid(z: Array) -> Array:
    """Logistic function without overflow: exp(-ln(1 + e^-z)) = 1 / (1 + e^-z)."""
    return np.exp(-log1pexp(-z))


def softmax(z: Array, axis: int) -> Array:
    """Softmax along ``axis``, shifted by the (real) maximum so that exp never overflows."""
    e = np.exp(z - z.real.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _relu(z: Array) -> Array:
    """max(z, 0). np.maximum is branch-free (8-14 times faster than np.where on mixed signs, where the
    fast numerical engine spends its time); for complex z (the complex step) the sign of the real
    part decides, as np.maximum would order complex numbers with a zero real part by their
    imaginary part."""
    return np.where(z.real > 0, z, 0.0) if np.iscomplexobj(z) else np.maximum(z, 0.0)


def _elu(z: Array, alpha: float) -> Array:
    """z for z > 0, alpha (e^z - 1) below; e^z is only taken where it is used, so it cannot overflow."""
    positive = z.real > 0
    return np.where(positive, z, alpha * np.expm1(np.where(positive, 0.0, z)))


IDENTITY = Activation(
    name="identity",
    value="a = z",
    derivative="da/dz = 1",
    forward=lambda z, o: z,
    backward=lambda da, z, a, o: da,
)

SIGMOID = Activation(
    name="sigmoid",
    value="a = 1 / (1 + exp(-z))",
    derivative="da/dz = a (1 - a)",
    forward=lambda z, o: sigmoid(z),
    backward=lambda da, z, a, o: da * a * (1 - a),
)

TANH = Activation(
    name="tanh",
    value="a = tanh(z)",
    derivative="da/dz = 1 - a^2",
    forward=lambda z, o: np.tanh(z),
    backward=lambda da, z, a, o: da * (1 - a * a),
)

RELU = Activation(
    name="relu",
    value="a = max(z, 0)",
    derivative="da/dz = 1 if z > 0 else 0",
    forward=lambda z, o: _relu(z),
    backward=lambda da, z, a, o: da * (z > 0),
    kinked=True,
)

LEAKY_RELU = Activation(
    name="leaky_relu",
    value="a = z if z > 0 else alpha z",
    derivative="da/dz = 1 if z > 0 else alpha",
    forward=lambda z, o: np.where(z.real > 0, z, o.alpha * z),
    backward=lambda da, z, a, o: da * np.where(z > 0, 1.0, o.alpha),
    default_alpha=0.01,
    kinked=True,
)

ELU = Activation(
    name="elu",
    value="a = z if z > 0 else alpha (exp(z) - 1)",
    derivative="da/dz = 1 if z > 0 else a + alpha",
    forward=lambda z, o: _elu(z, o.alpha),
    backward=lambda da, z, a, o: da * np.where(z > 0, 1.0, a + o.alpha),
    default_alpha=1.0,
    kinked=True,  # smooth only when alpha == 1
)

SOFTPLUS = Activation(
    name="softplus",
    value="a = ln(1 + exp(z))",
    derivative="da/dz = sigmoid(z)",
    forward=lambda z, o: log1pexp(z),
    backward=lambda da, z, a, o: da * sigmoid(z),
)

SOFTMAX = Activation(
    name="softmax",
    value="a_i = exp(z_i) / sum_j exp(z_j)   (over the units of each sample)",
    derivative="dz = a * (da - sum(da * a))   (full Jacobian diag(a) - a a^T)",
    forward=lambda z, o: softmax(z, o.axis),
    backward=lambda da, z, a, o: a * (da - (da * a).sum(axis=o.axis, keepdims=True)),
)

def tex_name(activation: str) -> str:
    """How LaTeX writes an activation's name (``explain --latex``): sigma, tanh, else upright text."""
    escaped = activation.replace("_", "\\_")
    return {"sigmoid": r"\sigma", "tanh": r"\tanh"}.get(activation, r"\mathrm{" + escaped + "}")


PROBABILITY_OUTPUTS = ("sigmoid", "softmax")  # the activations whose outputs are probabilities

ACTIVATIONS: dict[str, Activation] = {
    act.name: act for act in (IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SOFTPLUS, SOFTMAX)
}
