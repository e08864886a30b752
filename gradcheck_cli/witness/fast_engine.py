"""The fast witness's dense engine: which entries form each unit's stack, and their quotients.

``fast.py`` hands it the entries of one parameter of the network's dense tail; here they are
grouped by the unit of z^l they change (``entries``), each group's steps become a stack of
perturbations evaluated by ``unit_stacks.UnitStacks``, and the values become central differences
and one-sided slopes (``group``), written into ``Fields``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from gradcheck_cli.witness.central import quotients
from gradcheck_cli.witness.fields import Fields
from gradcheck_cli.witness.unit_stacks import Stack, UnitStacks

Array = np.ndarray


class Engine(UnitStacks):
    """The dense tail's witness, one unit's entries at a time (``UnitStacks`` evaluates them)."""

    def entries(self, name: str, mask: Array) -> Iterator[tuple[tuple, Array]]:
        """Groups of entries that change the same unit: (index into the parameter, their values);
        only the entries ``mask`` selects. A generator: a layer of millions of units is never listed."""
        p = self.params[name]
        if p.ndim == 0:
            if mask:
                yield (), p
            return
        if name.startswith("b"):  # a per-unit bias: one group, a stack for each unit it selects
            units = np.nonzero(mask)
            if units[0].size:
                yield units, p[units]
            return
        for unit in range(p.shape[0] if self.column else p.shape[1]):  # W^l: a row (column layout) per unit
            selected = mask[unit, :] if self.column else mask[:, unit]
            inputs: slice | Array = slice(None) if selected.all() else np.flatnonzero(selected)  # a view if all
            if selected.any():
                index = (unit, inputs) if self.column else (inputs, unit)
                yield index, p[index]

    # ------------------------------------------------------------------ evaluation

    def group(self, name: str, index: tuple, w: Array, hs: list[Array], results: list[Fields]) -> None:
        """Evaluate a group at every step and write its quotients into ``results`` (one per step).

        Runs in a worker thread, quotients included: the main thread only waits, so it does not
        contend with the workers for the GIL between their numpy calls (that cost the 101k witness
        a third of its time). All steps go in one stack whose entries repeat once per step, except
        for a shared bias (a single number), which takes one stack per step."""
        uppers, lowers = [w + h for h in hs], [w - h for h in hs]  # the perturbed values, as stored
        if np.ndim(w) == 0 or len(hs) == 1:
            evaluated = [self.evaluate(name, index, upper - w, lower - w)
                         for upper, lower in zip(uppers, lowers, strict=True)]
        else:
            every = np.arange(np.size(w))  # what a slice(None) in the index selects: all the group's entries
            repeated = tuple(np.tile(every if isinstance(i, slice) else i, len(hs)) if not isinstance(i, int) else i
                             for i in index)
            w_all = np.tile(w, len(hs))
            e_plus, e_minus, e_base, crossed = self.evaluate(name, repeated, np.concatenate(uppers) - w_all,
                                                             np.concatenate(lowers) - w_all)
            n = np.size(w)
            evaluated = [(e_plus[k * n:(k + 1) * n], e_minus[k * n:(k + 1) * n], e_base, crossed[k * n:(k + 1) * n])
                         for k in range(len(hs))]
        for (e_plus, e_minus, e_base, crossed), upper, lower, r in zip(evaluated, uppers, lowers, results, strict=True):
            r.write(index, (*quotients(e_plus, e_minus, e_base, w, upper, lower), crossed))

    def evaluate(self, name: str, index: tuple, up: Array, down: Array) -> tuple[Array, Array, float, Array]:
        """E(theta_k + up_k), E(theta_k + down_k), E(theta), and kink crossings, for a group of entries."""
        l = int(name[1:])
        if self.params[name].ndim == 0:  # shared bias: every unit moves
            deltas = np.array([up, down, 0.0])
            z = self.fp.z[l - 1]
            losses, crossed = self._losses(l, z=z[None] + deltas[:, None, None])
            E = self._total(losses.sum(axis=-1), None)
            return E[0], E[1], float(E[2]), crossed[0] | crossed[1]
        if name.startswith("b"):  # per-unit bias: one entry per unit, a stack for each unit
            e_plus, e_minus, crossed = np.empty(up.shape), np.empty(up.shape), np.zeros(up.shape, dtype=bool)
            e_base = 0.0
            ones = np.ones((3, self._samples()))  # a bias moves every sample by the step
            units = index[0] if self.column else index[1]  # b^l is (units, 1) or (1, units)
            for k, unit in enumerate(units):
                stack = Stack(np.array([up[k], down[k], 0.0]), ones, ones[0])
                E, c = self._unit(l, int(unit), stack)
                e_plus[k], e_minus[k], e_base = E[0], E[1], float(E[2])
                crossed[k] = c[0] | c[1]
            return e_plus, e_minus, e_base, crossed
        unit, selected = index if self.column else index[::-1]
        inputs = self._inputs[l - 1][selected]  # (selected inputs, m)
        n = np.size(up)
        deltas = np.concatenate([up, down, [0.0]])
        vectors = np.concatenate([inputs, inputs, np.zeros((1, inputs.shape[1]))])
        w = self.params[f"W{l}"][index]
        penalty = np.concatenate([self.penalty - w * w + (w + up) ** 2, self.penalty - w * w + (w + down) ** 2,
                                  [self.penalty]])
        E, c = self._unit(l, unit, Stack(deltas, vectors, self._reach[l - 1]), penalty)
        return E[:n], E[n : 2 * n], float(E[-1]), c[:n] | c[n : 2 * n]

