"""Every registered activation's and loss's derivative against a high-accuracy numerical reference.

The tests are generated from the registries, so a new entry cannot ship untested. The reference
is a fourth-order central difference (error O(h^4), about 1e-12 at h = 1e-3 in float64), far more
accurate than what the check itself needs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gradcheck_cli.network.activations import ACTIVATIONS, Activation, Options
from gradcheck_cli.network.losses import LOSSES, Loss

RNG_SEED = 1234


def fourth_order_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """d f / d x_i by the five-point stencil (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h."""
    def at(i: tuple[int, ...], t: float) -> float:
        shifted = x.copy()
        shifted[i] += t
        return f(shifted)

    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        grad[i] = (-at(i, 2 * h) + 8 * at(i, h) - 8 * at(i, -h) + at(i, -2 * h)) / (12 * h)
    return grad


def away_from_kinks(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Values in [-2, -0.1] U [0.1, 2], so no stencil point crosses 0."""
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_matches_reference(name: str, axis: int) -> None:
    act: Activation = ACTIVATIONS[name]
    rng = np.random.default_rng(RNG_SEED)
    options = Options(alpha=0.3 if act.default_alpha is not None else 0.0, axis=axis)
    z = away_from_kinks((4, 3), rng)
    da = rng.standard_normal(z.shape)  # a random upstream gradient, so no term can cancel out

    analytic = act.backward(da, z, act.forward(z, options), options)
    reference = fourth_order_gradient(lambda q: float(np.sum(da * act.forward(q, options))), z)

    np.testing.assert_allclose(analytic, reference, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_wrong_activation_derivative_is_caught_by_the_reference(name: str) -> None:
    """The reference test above can fail: a derivative off by 10 % does not pass it."""
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(RNG_SEED)
    options = Options(alpha=0.3, axis=0)
    z = away_from_kinks((4, 3), rng)
    da = rng.standard_normal(z.shape)
    wrong = 1.1 * act.backward(da, z, act.forward(z, options), options)
    reference = fourth_order_gradient(lambda q: float(np.sum(da * act.forward(q, options))), z)
    assert not np.allclose(wrong, reference, rtol=1e-8, atol=1e-10)


def targets_for(loss: Loss, shape: tuple[int, int], axis: int, rng: np.random.Generator) -> np.ndarray:
    if loss.targets == "class":
        labels = rng.integers(0, shape[axis], size=shape[1 - axis])
        onehot = np.eye(shape[axis])[labels]
        return onehot.T if axis == 0 else onehot
    if loss.targets == "binary":
        return rng.uniform(0, 1, size=shape)
    return rng.standard_normal(shape)


def outputs_for(loss: Loss, shape: tuple[int, int], axis: int, rng: np.random.Generator) -> np.ndarray:
    if loss.name == "cross_entropy":  # probabilities that sum to 1 over the units
        p = rng.uniform(0.2, 1.0, size=shape)
        return p / p.sum(axis=axis, keepdims=True)
    if loss.needs_probabilities:
        return rng.uniform(0.2, 0.8, size=shape)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradient_matches_reference(name: str, axis: int) -> None:
    loss = LOSSES[name]
    rng = np.random.default_rng(RNG_SEED)
    shape = (3, 5) if axis == 0 else (5, 3)  # 3 units, 5 samples
    a, y = outputs_for(loss, shape, axis, rng), targets_for(loss, shape, axis, rng)

    per_sample = loss.per_sample(a, y, axis)
    reference = fourth_order_gradient(lambda q: float(loss.per_sample(q, y, axis).sum()), a, h=1e-4)

    assert per_sample.shape == (5,)
    np.testing.assert_allclose(loss.gradient(a, y, axis), reference, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    ("name", "a", "y", "expected"),
    [
        ("half_sse", [1.0, 2.0], [0.0, 0.0], 2.5),
        ("sse", [1.0, 2.0], [0.0, 0.0], 5.0),
        ("mse", [1.0, 2.0], [0.0, 0.0], 2.5),
        ("cross_entropy", [0.25, 0.75], [0.0, 1.0], -np.log(0.75)),
        ("softmax_cross_entropy", [0.0, 0.0], [1.0, 0.0], np.log(2.0)),
        ("binary_cross_entropy", [0.5, 0.9], [1.0, 0.0], -np.log(0.5) - np.log(0.1)),
    ],
)
def test_loss_values_follow_their_formulas(name: str, a: list[float], y: list[float], expected: float) -> None:
    column = LOSSES[name].per_sample(np.array(a)[:, None], np.array(y)[:, None], 0)
    assert column == pytest.approx([expected], rel=1e-12)


def test_stable_forms_do_not_overflow() -> None:
    big = np.array([[1000.0], [-1000.0]])
    assert np.all(np.isfinite(ACTIVATIONS["sigmoid"].forward(big, Options(0.0, 0))))
    assert np.all(np.isfinite(ACTIVATIONS["softmax"].forward(big, Options(0.0, 0))))
    assert np.isfinite(LOSSES["softmax_cross_entropy"].per_sample(big, np.array([[0.0], [1.0]]), 0)).all()


def logits_case(loss_name: str, activation: str) -> tuple[Loss, Activation, Options, np.ndarray, np.ndarray]:
    """A loss and its output activation, with logits z (3 units x 5 samples) and suitable targets y."""
    loss, act = LOSSES[loss_name], ACTIVATIONS[activation]
    rng = np.random.default_rng(RNG_SEED)
    z = rng.standard_normal((3, 5))
    return loss, act, Options(alpha=0.0, axis=0), z, targets_for(loss, (3, 5), 0, rng)


@pytest.mark.parametrize(
    ("loss_name", "activation"),
    [(name, act) for name, loss in sorted(LOSSES.items()) for act in sorted(loss.from_logits)],
)
def test_loss_from_logits_is_the_same_function_but_exact_at_saturation(loss_name: str, activation: str) -> None:
    loss, act, options, z, y = logits_case(loss_name, activation)
    np.testing.assert_allclose(loss.from_logits[activation](z, y, 0), loss.per_sample(act.forward(z, options), y, 0),
                               rtol=1e-12)
    saturated = z * 100  # probabilities round to exactly 0 or 1 here
    assert np.all(np.isfinite(loss.from_logits[activation](saturated, y, 0)))


@pytest.mark.parametrize(
    ("loss_name", "activation"),
    [(name, act) for name, loss in sorted(LOSSES.items()) for act in sorted(loss.delta_from_logits)],
)
def test_fused_output_delta_is_the_derivative_of_the_loss_on_logits(loss_name: str, activation: str) -> None:
    loss, act, options, z, y = logits_case(loss_name, activation)
    reference = fourth_order_gradient(lambda q: float(loss.from_logits[activation](q, y, 0).sum()), z)
    np.testing.assert_allclose(loss.delta_from_logits[activation](act.forward(z, options), y, 0), reference,
                               rtol=1e-8, atol=1e-10)
    saturated = act.forward(z * 100, options)  # outputs that round to exactly 0 or 1
    assert np.all(np.isfinite(loss.delta_from_logits[activation](saturated, y, 0)))
