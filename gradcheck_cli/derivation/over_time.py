"""What a failed dh<l> or dc<l> got wrong, step by step.

BPTT computes dh_T first and walks back to t = 1, so the last step at which a dh<l> is wrong says
where the derivation broke: "right for t >= 3, wrong at t = 2" means the output's own gradient is
right and what comes back from step t + 1 is not. The candidate mistakes are the layer type's
(``Recurrent.mistakes``, run on the numerical dE/dz of the layer's output) and a shift by one step
of the numerical dE/d(state) itself.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def first_broken_step(failing: Array) -> str:
    """Where ``failing`` (N x T x H, per entry) starts, counting t = 1..T from the last step down."""
    wrong = np.flatnonzero(failing.reshape(failing.shape[0], failing.shape[1], -1).any(axis=(0, 2)))
    if not wrong.size:
        return ""
    T, t = failing.shape[1], int(wrong.max()) + 1
    if t == T:
        return f"wrong from the last step on (t = {T}, which only the output's gradient feeds)"
    return f"right for t >= {t + 1}, wrong at t = {t}"


def shifted(numeric: Array, name: str, state: str) -> list[tuple[Array, str]]:
    """The state's gradient moved one step later or earlier in time."""
    late, early = np.zeros_like(numeric), np.zeros_like(numeric)
    late[:, :-1], early[:, 1:] = numeric[:, 1:], numeric[:, :-1]
    return [(late, f"off by one step: {name}[:, t] holds dE/d{state}_(t+1); index the steps as the forward did"),
            (early, f"off by one step: {name}[:, t] holds dE/d{state}_(t-1); index the steps as the forward did")]
