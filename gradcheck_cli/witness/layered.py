"""The fast witness for the parameters of any layer type: each parameter's perturbations as a stack
of networks that reruns only the layers from the perturbed one on.

Everything before layer l is the same for every perturbation of a parameter of layer l, so a^(l-1)
is computed once. Each entry's perturbed z^l comes from the layer itself (``Layer.perturbed``:
z + h D for the affine layer types, where D is the entry's own contribution to z, else the layer's
forward per entry), a chunk of entries (each moved up and down, plus one unperturbed copy) is
stacked on a leading axis, and layers l..L and the loss run on the whole stack at once. No sample
is ever treated apart from the others, so layers that mix the samples (batchnorm) are witnessed as
they are. Kinks are compared member by member: every kinked activation's sides and every layer's
own (a max-pool's argmax), from layer l on.

The dense layers at the end of a network (its dense tail) are left to ``fast_engine.py``, which
exploits more structure there (``fast.py`` decides).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from gradcheck_cli.network.network import (
    ForwardPass,
    Network,
    Params,
    batch_divisor,
    layer_params,
    per_sample_losses,
    weight_penalty,
)
from gradcheck_cli.witness.central import quotients

Array = np.ndarray
CHUNK_ELEMENTS = 1 << 21  # numbers in the largest array of one stack (16 MiB)


class LayeredEngine:
    def __init__(self, net: Network, params: Params, y: Array, fp: ForwardPass) -> None:
        self.net, self.params, self.y, self.fp = net, params, y, fp
        self.penalty = weight_penalty(net, params)
        # each layer's kink sides in the unperturbed network, with a leading axis to meet the stacks'
        self.base_own = [[s[None] for s in layer.input_sides(cache)] for layer, cache in zip(net.layers, fp.caches,
                                                                                             strict=True)]
        self.base_activation = [(z.real > 0)[None] for z in fp.z]

    def witness(self, name: str, mask: Array, steps: Sequence[Array],
                progress: Callable[[int], None] | None = None) -> list[tuple[Array, Array, Array, Array, Array]]:
        """(gradient, step, left, right, kink) of parameter ``name`` at each array of half steps, for the
        entries ``mask`` selects (the others NaN)."""
        net, p = self.net, self.params[name]
        l = net.layer_of(name)
        symbol = name[: -len(str(l))]
        l2 = net.l2 if net.parameters()[name].l2 else 0.0
        per_member = max(math.prod(z.shape) for z in self.fp.z[l - 1:])
        chunk = max(1, CHUNK_ELEMENTS // per_member // 2)  # each entry is two members, up and down
        flat = np.flatnonzero(mask)
        out = []
        for k, h in enumerate(steps):
            gradient, step, left, right = (np.full(p.shape, np.nan) for _ in range(4))
            kink = np.zeros(p.shape, dtype=bool)
            for start in range(0, flat.size, chunk):
                index = np.unravel_index(flat[start : start + chunk], p.shape) if p.ndim else ()
                n, w = index[0].size if index else 1, p[index]
                upper, lower = w + h[index], w - h[index]
                deltas = np.concatenate([np.ravel(upper - w), np.ravel(lower - w), [0.0]])
                members = tuple(np.concatenate([i, i, i[:1]]) for i in index)
                E, crossed = self._energies(l, symbol, members, deltas)
                if l2:  # the L2 term of each member: its one entry of the parameter changed
                    E[:-1] += 0.5 * l2 * (np.concatenate([np.ravel(upper), np.ravel(lower)]) ** 2
                                          - np.tile(np.ravel(w) ** 2, 2))
                shape = np.shape(w)  # (entries,), or () for a single number (a shared bias)
                gradient[index], step[index], left[index], right[index] = quotients(
                    E[:n].reshape(shape), E[n : 2 * n].reshape(shape), E[-1], w, upper, lower)
                kink[index] = (crossed[:n] | crossed[n : 2 * n]).reshape(shape)
                if progress is not None and k == 0:
                    progress(n)
            out.append((gradient, step, left, right, kink))
        return out

    def _energies(self, l: int, symbol: str, index: tuple[Array, ...], deltas: Array) -> tuple[Array, Array]:
        """E of every member of the stack (its last member unperturbed) and which cross a kink."""
        net, fp = self.net, self.fp
        crossed = np.zeros(len(deltas), dtype=bool)
        a = fp.a[l - 1]
        with np.errstate(all="ignore"):
            layer = net.layers[l - 1]
            z = layer.perturbed(symbol, index, deltas, a, layer_params(self.params, layer, l), fp.z[l - 1])
            for k in range(l, len(net.layers) + 1):
                layer = net.layers[k - 1]
                if k > l:  # the perturbed layer's own forward did not run on the stack: only its activation
                    z, cache = layer.forward(a, layer_params(self.params, layer, k))
                    for before, after in zip(self.base_own[k - 1], layer.input_sides(cache), strict=True):
                        crossed |= _differs(before, after)
                if layer.activation.kinked:
                    crossed |= _differs(self.base_activation[k - 1], z.real > 0)
                a = layer.activation.forward(z, layer.options)
            losses = per_sample_losses(net, z, a, self.y).sum(axis=-1)
            return losses / batch_divisor(net, fp.a[-1]) + 0.5 * net.l2 * self.penalty, crossed


def _differs(before: Array, after: Array) -> Array:
    """Per member of the stack ``after``: whether any of its values differs from ``before``'s."""
    return (before != after).reshape(after.shape[0], -1).any(axis=1)
