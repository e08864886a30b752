"""The classic mistakes of backpropagation through time, for ``diagnose`` and ``gradcheck layer``.

Each is the layer type's own BPTT (``Recurrent.bptt``) run with one thing wrong on the *numerical*
dE/dz of the layer's output, never on gradcheck's backward of it, and gives a wrong value to dE/dx,
to every parameter and to every state's dE/d(state)_t (dh<l>, an LSTM's dc<l>):

- the recurrent path dropped: dh_t from step t's own output only;
- the gates' gradients stacked in another order than the layer's (torch's i, f, g, o for an LSTM);
- each type's own (``own_mistakes``: tanh' misplaced, the forget gate on c_t, the cell path dropped);
- dWx or dWh from the last step only, and h_t where h_(t-1) belongs in dWh (off by one step).
"""

from __future__ import annotations

import itertools
from typing import Any

from gradcheck_cli.network.layers.base import Array, Mistake
from gradcheck_cli.network.layers.recurrent_steps import Bptt, Steps


class BpttMistakes:
    """A mixin of ``Recurrent``: it runs the layer's own ``bptt`` and ``gradients`` with one thing wrong."""

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        """The classic BPTT mistakes, each run on the numerical dz (``Layer.mistakes``)."""
        return _bptt_mistakes(self, l, dz, a, p)

    def own_mistakes(self, dh_out: Array, steps: Steps, p: dict[str, Array]) -> list[tuple[Bptt, str]]:
        """A type's own classic mistakes: ``bptt`` with one thing wrong, and what it is."""
        return []


def _bptt_mistakes(layer: Any, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
    _, (_, _, steps) = layer.forward(a, p)
    dh_out = layer.full_dh(dz)
    out = _all_of(layer, a, p, steps, layer.bptt(dh_out, steps, p, carry=False),
                  f"the path through h_(t+1) is missing: dh_t also gets {layer.THROUGH} from step t + 1")
    for order in itertools.permutations(range(layer.BLOCKS)):
        if list(order) != sorted(order):
            out += _all_of(layer, a, p, steps, layer.bptt(dh_out, steps, p, order=order),
                           f"the gates' gradients are stacked as {', '.join(layer.GATES[k] for k in order)}; "
                           f"the layer stacks the gates as {', '.join(layer.GATES)}")
    for wrong, says in layer.own_mistakes(dh_out, steps, p):
        out += _all_of(layer, a, p, steps, wrong, says)
    right = layer.bptt(dh_out, steps, p)
    H, G = layer.units, right.dhw.shape[-1]
    return out + [
        Mistake("Wx", a[:, -1].T @ right.dxw[:, -1], f"dWx{l} is taken from the last step only; it sums the "
                "products of every step t = 1..T"),
        Mistake("Wh", layer.previous(steps)[:, -1].T @ right.dhw[:, -1], f"dWh{l} is taken from the last step "
                "only; it sums h_(t-1)^T times each step's gradient over t = 1..T"),
        Mistake("Wh", steps.h.reshape(-1, H).T @ right.dhw.reshape(-1, G), f"off by one step: dWh{l} pairs "
                "step t's gradient with h_t; the recurrence multiplies h_(t-1) (h_0 at t = 1)")]


def _all_of(layer: Any, a: Array, p: dict[str, Array], steps: Steps, wrong: Bptt, says: str) -> list[Mistake]:
    """One mistake as the value it gives to dE/dx, every parameter and every state's dE/d(state)_t."""
    da, grads = layer.gradients(a, p, steps, wrong)
    return ([Mistake("a", da, says)] + [Mistake(symbol, value, says) for symbol, value in grads.items()]
            + [Mistake(state, value, says) for state, value in wrong.states.items()])
