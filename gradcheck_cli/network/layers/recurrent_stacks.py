"""What the witnesses exploit in a recurrent layer: the recurrence runs once for a whole stack of
perturbed copies.

The layered witness (``witness/layered.py``) moves an entry of Wx, b, Wh or h0 in each copy; the
witness of dh<l> and dc<l> (``witness/states.py``) moves a state right after its step and reruns the
steps after it. Both use forward quantities only. A mixin of ``Recurrent``: it reads the
recurrence's own pieces (``input_part``, ``hidden_part``, ``initial``, ``run``, ``output``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradcheck_cli.network.layers.base import Array, stacked
from gradcheck_cli.network.layers.recurrent_steps import Hidden, Inputs, Steps


class RecurrentStacks:
    """The layered witness's stacks of perturbed copies, and the state witness's moved states."""

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        return self.perturbed_with_sides(symbol, index, deltas, a, p, z, channel)[0]

    def perturbed_with_sides(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array,
                             p: dict[str, Array], z: Array, channel: int | None = None) -> tuple[Array, list[Array]]:
        """The outputs of P copies of the layer, entry ``index[k]`` of ``symbol`` moved by ``deltas[k]``,
        by one recurrence over the stack: an entry of Wx or b changes one column of every xw_t (by
        delta x_t[i], or delta), an entry of Wh one column of every hw_t (by delta h_(t-1)[i], from
        the copy's own h), an entry of h0 one number of the copy's h_0. Forward quantities only."""
        members = np.arange(len(deltas))
        xw = self.input_part(a, p)  # (N, T, G): shared by the copies, broadcast against their own hw_t
        h0 = stacked(self.initial(a, p), deltas)  # (P, N, H)
        base: Hidden = lambda h: self.hidden_part(h, p)  # noqa: E731
        xw_at: Inputs = lambda t: xw[:, t]  # noqa: E731
        hidden = base
        if symbol in ("Wx", self.INPUT_BIAS):
            def xw_at(t: int) -> Array:  # each copy's own column of xw_t
                moved = stacked(xw[:, t], deltas)
                change = deltas[:, None] * (a[:, t, index[0]].T if symbol == "Wx" else 1)
                moved[members, :, index[-1]] += change
                return moved
        elif symbol == "h0_":
            h0[members, index[0], index[1]] += deltas
        elif symbol == "Wh":
            def hidden(h: Array) -> Array:
                hw = base(h)
                hw[members, :, index[1]] += deltas[:, None] * h[members, :, index[0]]
                return hw
        elif symbol == self.HIDDEN_BIAS:
            def hidden(h: Array) -> Array:
                hw = base(h)
                hw[members, :, index[0]] += deltas[:, None]
                return hw
        steps = self.run(xw_at, h0, hidden, keep=self.SIDES)
        return self.output(steps), self.sides(steps)

    # --- what the witness of dh<l> and dc<l> (witness/states.py) moves: a state right after its step

    def moved(self, kind: str, h: Array, state: dict[str, Array], delta: Array) -> tuple[Array, dict[str, Array]]:
        """h_t and step t's quantities with the state ``kind`` moved by ``delta`` once the step computed it."""
        return h + delta, state

    def rerun_from(self, t: int, kind: str, deltas: Array, a: Array, p: dict[str, Array],
                   steps: Steps) -> tuple[Array, list[Array]]:
        """The outputs of a stack of copies of the layer (``deltas``: P x N x H) whose state ``kind`` at
        step t (0-based) is moved by the copy's delta right after the step, the recurrence run on from
        there; and the kink sides of the steps after t. Forward quantities only."""
        xw = self.input_part(a, p)  # shared by the copies
        h, state = self.moved(kind, steps.h[:, t], {k: v[:, t] for k, v in steps.inner.items()}, deltas)
        before = np.broadcast_to(steps.h[:, : t + 1], deltas.shape[:1] + steps.h[:, : t + 1].shape).copy()
        before[..., t, :] = h
        if t + 1 == self.steps:
            return self.output(Steps(steps.h0, before, {})), []
        later = self.run(lambda s: xw[:, s], h, lambda h: self.hidden_part(h, p), keep=self.SIDES, start=t + 1,
                         state=state)
        return self.output(Steps(steps.h0, np.concatenate([before, later.h], axis=-2), {})), self.sides(later)

    def sides(self, steps: Steps) -> list[Array]:
        """Which side of its kink every pre-activation inside the recurrence lies on (rnn with relu)."""
        return []

    def input_sides(self, cache: Any) -> list[Array]:
        return self.sides(cache[2])
