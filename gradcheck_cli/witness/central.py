"""The independent witness: central differences, entry by entry, from forward passes only.

``central_differences`` receives nothing but a function that maps parameters to the loss E (and
the kink pattern of the forward pass); it cannot reach the backward pass or anything it computed.
For every entry theta_i it evaluates

    dE/dtheta_i ~ (E(theta_i + h_i) - E(theta_i - h_i)) / (2 h_i),    h_i = eps * max(|theta_i|, s)

where s = max(1, rms(theta)) is the scale of the whole parameter (``step_sizes``). The truncation
error is O(h^2) and the round-off error about machine-eps * |E| / h; the default eps, the cube root
of float64's machine epsilon (6.1e-6), balances the two (the witness always runs in float64, so
that is the dtype that sets it). The denominator uses the two perturbed values as actually stored,
so the rounding of theta_i +- h_i does not bias the quotient. This is the plain loop, one entry at
a time: simple enough to trust.

An entry whose two evaluations leave a ReLU-type pre-activation on different sides of its kink
(than the unperturbed point) is flagged: there the central quotient mixes two one-sided slopes and
is no witness of the derivative. For those entries the one-sided slopes
(E(theta + h) - E(theta)) / h and (E(theta) - E(theta - h)) / h are kept as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gradcheck_cli.network.network import Params

EPS64 = float(np.finfo(np.float64).eps)
CENTRAL_EPS = EPS64 ** (1 / 3)  # 6.1e-6: truncation h^2 and round-off eps/h balance for a smooth E
ROUNDOFF_FACTOR = 8.0  # safety factor on the round-off estimate (measured worst case: 0.6 of eps |E| / h)
Masks = dict[str, np.ndarray]  # per parameter, which entries to evaluate


@dataclass
class Witness:
    """Per parameter: the numerical gradient, the step used, its expected error (round-off, plus the
    truncation where it was estimated), the entries that crossed a kink, and the one-sided slopes on
    either side of each entry."""

    gradient: Params = field(default_factory=dict)
    step: Params = field(default_factory=dict)
    expected: Params = field(default_factory=dict)  # expected |error| of each entry of ``gradient``
    kink: dict[str, np.ndarray] = field(default_factory=dict)
    left: Params = field(default_factory=dict)
    right: Params = field(default_factory=dict)
    checked: dict[str, np.ndarray] = field(default_factory=dict)  # entries evaluated (all, unless sampled)


PROGRESS_EVERY = 2000  # entries between two progress reports


def selected(params: Params, masks: Masks | None) -> Masks:
    """The entries a witness evaluates: every entry of every parameter, or those ``masks`` selects
    (the parameters ``masks`` leaves out are not evaluated at all)."""
    if masks is None:
        return {name: np.ones(np.shape(p), dtype=bool) for name, p in params.items()}
    return {name: masks[name] for name in params if name in masks}


def parameter_scale(theta: np.ndarray) -> float:
    """s = max(1, rms(theta)): the size of a step that means the same to every entry of a parameter,
    so that an entry near 0 in a parameter of scale 1e3 is not probed with a step 1000 times finer."""
    return max(1.0, float(np.sqrt(np.mean(np.square(theta))))) if np.size(theta) else 1.0


def step_sizes(theta: np.ndarray, eps: float, scale: float | None = None) -> np.ndarray:
    """h_i = eps * max(|theta_i|, s): relative to the parameter's scale, and to the entry itself where
    it is larger (theta_i + h_i must differ from theta_i in the last digits)."""
    s = parameter_scale(theta) if scale is None else scale
    return eps * np.maximum(np.abs(theta), s)


def roundoff_error(E: float, h: Any) -> Any:
    """Expected round-off error of a central difference of E with half step h: both evaluations of E
    carry about eps |E| of rounding, divided by 2h (with the safety factor)."""
    return ROUNDOFF_FACTOR * EPS64 * max(abs(E), 1.0) / h


def quotients(e_plus: Any, e_minus: Any, e_base: Any, old: Any, upper: Any, lower: Any) -> tuple[Any, Any, Any, Any]:
    """From E at theta + h, theta - h and theta (and the values as stored): the central difference,
    the half step actually taken, and the left and right one-sided slopes. Scalars or arrays."""
    return ((e_plus - e_minus) / (upper - lower), (upper - lower) / 2,
            (e_base - e_minus) / (old - lower), (e_plus - e_base) / (upper - old))


def central_differences(loss: Callable[[Params], tuple[float, bytes]], params: Params, eps: float,
                        progress: Callable[[int, int], None] | None = None, masks: Masks | None = None) -> Witness:
    """Central differences of ``loss`` for every entry of every parameter, in float64.

    ``masks`` limits it to some entries per parameter (``--sample``, re-checks); the others stay NaN
    and unchecked. ``progress(done, total)`` is called every few thousand entries.
    """
    work = {name: np.array(value, dtype=np.float64, order="C") for name, value in params.items()}  # flat views below
    e_base, pattern = loss(work)
    witness = Witness()
    chosen = {name: np.flatnonzero(mask) for name, mask in selected(work, masks).items()}
    total, done = sum(len(c) for c in chosen.values()), 0
    for name in chosen:
        p = work[name]
        flat = p.reshape(-1)  # a view: writing flat[i] perturbs the parameter the loss reads
        grad, step, kink = np.full(flat.size, np.nan), np.full(flat.size, np.nan), np.zeros(flat.size, dtype=bool)
        left, right = np.full(flat.size, np.nan), np.full(flat.size, np.nan)
        checked = np.zeros(flat.size, dtype=bool)
        checked[chosen[name]] = True
        steps = step_sizes(flat, eps)
        for i in chosen[name]:
            old = flat[i]
            h = steps[i]
            flat[i] = old + h
            upper, (e_plus, pattern_plus) = flat[i], loss(work)
            flat[i] = old - h
            lower, (e_minus, pattern_minus) = flat[i], loss(work)
            flat[i] = old
            grad[i], step[i], left[i], right[i] = quotients(e_plus, e_minus, e_base, old, upper, lower)
            kink[i] = pattern_plus != pattern or pattern_minus != pattern
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, total)
        witness.gradient[name], witness.step[name] = grad.reshape(p.shape), step.reshape(p.shape)
        witness.expected[name] = roundoff_error(e_base, witness.step[name])
        witness.kink[name], witness.checked[name] = kink.reshape(p.shape), checked.reshape(p.shape)
        witness.left[name], witness.right[name] = left.reshape(p.shape), right.reshape(p.shape)
    return witness
