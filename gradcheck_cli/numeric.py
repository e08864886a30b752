"""The independent witness: central differences, entry by entry, from forward passes only.

``central_differences`` receives nothing but a function that maps parameters to the loss E (and
the kink pattern of the forward pass); it cannot reach the backward pass or anything it computed.
For every entry theta_i it evaluates

    dE/dtheta_i ~ (E(theta_i + h_i) - E(theta_i - h_i)) / (2 h_i),    h_i = eps * max(1, |theta_i|)

whose truncation error is O(h^2) and whose round-off error is about machine-eps * |E| / h. The
denominator uses the two perturbed values as actually stored, so the rounding of theta_i +- h_i
does not bias the quotient. This is the plain loop, one entry at a time: simple enough to trust.

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

from gradcheck_cli.network import Params


@dataclass
class Witness:
    """Per parameter: the numerical gradient, the step used, the entries that crossed a kink, and the
    one-sided slopes on either side of each entry."""

    gradient: Params = field(default_factory=dict)
    step: Params = field(default_factory=dict)
    kink: dict[str, np.ndarray] = field(default_factory=dict)
    left: Params = field(default_factory=dict)
    right: Params = field(default_factory=dict)
    checked: dict[str, np.ndarray] = field(default_factory=dict)  # entries evaluated (all, unless sampled)


PROGRESS_EVERY = 2000  # entries between two progress reports


def quotients(e_plus: Any, e_minus: Any, e_base: Any, old: Any, upper: Any, lower: Any) -> tuple[Any, Any, Any, Any]:
    """From E at theta + h, theta - h and theta (and the values as stored): the central difference,
    the half step actually taken, and the left and right one-sided slopes. Scalars or arrays."""
    return ((e_plus - e_minus) / (upper - lower), (upper - lower) / 2,
            (e_base - e_minus) / (old - lower), (e_plus - e_base) / (upper - old))


def central_differences(loss: Callable[[Params], tuple[float, bytes]], params: Params, eps: float,
                        progress: Callable[[int, int], None] | None = None,
                        picks: dict[str, np.ndarray] | None = None) -> Witness:
    """Central differences of ``loss`` for every entry of every parameter, in float64.

    ``picks`` limits it to some entries (flat indices) per parameter, for ``--sample``; the others
    stay NaN and unchecked. ``progress(done, total)`` is called every few thousand entries.
    """
    work = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    e_base, pattern = loss(work)
    witness = Witness()
    chosen = {name: np.arange(p.size) if picks is None else picks[name] for name, p in work.items()}
    total, done = sum(len(c) for c in chosen.values()), 0
    for name, p in work.items():
        flat = p.reshape(-1)  # a view: writing flat[i] perturbs the parameter the loss reads
        grad, step, kink = np.full(flat.size, np.nan), np.full(flat.size, np.nan), np.zeros(flat.size, dtype=bool)
        left, right = np.full(flat.size, np.nan), np.full(flat.size, np.nan)
        checked = np.zeros(flat.size, dtype=bool)
        checked[chosen[name]] = True
        for i in chosen[name]:
            old = flat[i]
            h = eps * max(1.0, abs(old))
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
        witness.kink[name], witness.checked[name] = kink.reshape(p.shape), checked.reshape(p.shape)
        witness.left[name], witness.right[name] = left.reshape(p.shape), right.reshape(p.shape)
    return witness
