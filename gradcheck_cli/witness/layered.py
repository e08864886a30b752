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

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.network.layers.base import feature_slice, stacked
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
from gradcheck_cli.witness.fields import Fields

Array = np.ndarray
CHUNK_ELEMENTS = 1 << 19  # numbers in the largest array of one stack (4 MiB: a recurrence's steps stay in cache)


@dataclass(frozen=True)
class Chunk:
    """A chunk of one parameter's witness at one step: how many entries it completes (counted at the
    first step only), the computation of their values (forward passes only: in any thread, or in a
    forked worker process), and where they go."""

    size: int
    values: Callable[[], tuple[Array, ...]]
    out: Fields
    index: tuple

    def write(self, values: tuple[Array, ...]) -> None:
        self.out.write(self.index, values)

    def run(self) -> None:
        self.write(self.values())


class LayeredEngine:
    def __init__(self, net: Network, params: Params, y: Array, fp: ForwardPass) -> None:
        self.net, self.params, self.y, self.fp = net, params, y, fp
        self.penalty = weight_penalty(net, params)

    def tasks(self, name: str, mask: Array, epsilons: Sequence[float], scale: float,
              out: list[Fields]) -> Iterator[Chunk]:
        """The work of parameter ``name``'s witness at each relative step, chunk by chunk, each filling
        its entries of ``out`` (one ``Fields`` per step; the others stay NaN). Half steps
        eps * max(|w|, scale), as ``central.step_sizes``. The chunks are independent: the caller may
        compute them in threads or worker processes, in any order."""
        l = self.net.layer_of(name)
        l2 = self.net.l2 if self.net.parameters()[name].l2 else 0.0
        chunks = list(self._chunks(name, mask, members_per_entry=2))
        for k, eps in enumerate(epsilons):
            for channel, index in chunks:
                size = (index[0].size if index else 1) if k == 0 else 0
                values = functools.partial(self._central, name, l, l2, eps, scale, channel, index)
                yield Chunk(size, values, out[k], index)

    def _central(self, name: str, l: int, l2: float, eps: float, scale: float, channel: int | None,
                 index: tuple) -> tuple[Array, ...]:
        """One chunk's central differences, each entry moved up and down (plus one unperturbed member):
        gradient, step, left and right slopes, and kink crossings of its entries."""
        p, symbol = self.params[name], name[: -len(str(l))]
        n, w = index[0].size if index else 1, p[index]
        h = eps * np.maximum(np.abs(w), scale)
        upper, lower = w + h, w - h
        deltas = np.concatenate([np.ravel(upper - w), np.ravel(lower - w), [0.0]])
        members = tuple(np.concatenate([i, i, i[:1]]) for i in index)
        E, crossed = self._energies(l, symbol, members, deltas, channel)
        if l2:  # the L2 term of each member: its one entry of the parameter changed
            E[:-1] += 0.5 * l2 * (np.concatenate([np.ravel(upper), np.ravel(lower)]) ** 2
                                  - np.tile(np.ravel(w) ** 2, 2))
        shape = np.shape(w)  # (entries,), or () for a single number (a shared bias)
        gradient, step, left, right = quotients(E[:n].reshape(shape), E[n : 2 * n].reshape(shape), E[-1], w,
                                                upper, lower)
        return gradient, step, left, right, (crossed[:n] | crossed[n : 2 * n]).reshape(shape)

    def _chunks(self, name: str, mask: Array, members_per_entry: int) -> Iterator[tuple[int | None, tuple]]:
        """The entries ``mask`` selects, in chunks that bound a stack's memory: (the one feature of z^l
        they all change, or None, and their index into the parameter). Entries that change one
        feature each are grouped by it (``Layer.channel_of``)."""
        p, l = self.params[name], self.net.layer_of(name)
        layer = self.net.layers[l - 1]
        flat = np.flatnonzero(mask)
        index = np.unravel_index(flat, p.shape) if p.ndim else ()
        channels = layer.channel_of(name[: -len(str(l))], index) if flat.size else None
        groups = ([(int(c), flat[channels == c]) for c in np.unique(channels)] if channels is not None
                  else [(None, flat)])
        own = math.prod(self.fp.z[l - 1].shape) // (layer.out_shape[0] if channels is not None else 1)
        per_member = max([own] + [math.prod(z.shape) for z in self.fp.z[l:]])  # the largest array of a member
        chunk = max(1, CHUNK_ELEMENTS // per_member // members_per_entry)
        for channel, entries in groups:
            for start in range(0, entries.size, chunk):
                yield channel, np.unravel_index(entries[start : start + chunk], p.shape) if p.ndim else ()

    def complex_step(self, name: str, mask: Array, eps: float, scale: float) -> tuple[Array, Array]:
        """Im E(theta_k + i h_k) / h_k for the entries ``mask`` selects (the others NaN), and the half
        steps: each entry's imaginary step is a member of a stack, as the central differences' are."""
        net, p = self.net, self.params[name]
        l = net.layer_of(name)
        symbol = name[: -len(str(l))]
        l2 = net.l2 if net.parameters()[name].l2 else 0.0
        gradient, step = np.full(p.shape, np.nan), np.full(p.shape, np.nan)
        for channel, index in self._chunks(name, mask, members_per_entry=1):
            w = p[index]
            h = eps * np.maximum(np.abs(w), scale)
            members = tuple(np.concatenate([i, i[:1]]) for i in index)
            E, _ = self._energies(l, symbol, members, np.concatenate([np.ravel(1j * h), [0.0]]), channel)
            w_flat, h_flat = np.ravel(w), np.ravel(h)
            if l2:  # the L2 term of each member: its one entry moved by i h
                E[:-1] += 0.5 * l2 * ((w_flat + 1j * h_flat) ** 2 - w_flat ** 2)
            gradient[index], step[index] = (E[:-1].imag / h_flat).reshape(np.shape(w)), h
        return gradient, step

    def _energies(self, l: int, symbol: str, index: tuple[Array, ...], deltas: Array,
                  channel: int | None) -> tuple[Array, Array]:
        """E of every member of the stack (its last member unperturbed) and which cross a kink: a
        member whose kink sides differ from the unperturbed member's. With ``channel``, the stack
        holds only that feature of z^l (``rest``)."""
        layer = self.net.layers[l - 1]
        with np.errstate(all="ignore"):
            z, sides = layer.perturbed_with_sides(symbol, index, deltas, self.fp.a[l - 1],
                                                  layer_params(self.params, layer, l), self.fp.z[l - 1], channel)
        kept = None if channel is None else slice(channel, channel + 1)  # the features the stack holds
        losses, crossed = self.rest(l, z=z, kept=kept, sides=sides)
        return losses.sum(axis=-1) + 0.5 * self.net.l2 * self.penalty, crossed.any(axis=-1)

    def rest(self, first: int, *, z: Array | None = None, a: Array | None = None, kept: slice | None = None,
             sides: Sequence[Array] = ()) -> tuple[Array, Array]:
        """Run a stack of copies (its last member unperturbed) from z^first, or from ``a``, the input of
        layer ``first``, to the loss: each member's and sample's share of E (P x N, divided by m for a
        mean; no L2 term) and whether that sample's kinks changed side (P x N), ``sides`` (kinks
        already passed) included.

        With ``kept``, the stack holds only those features, and keeps only the features that depend
        on them for as long as the layers act on each feature alone (activations, pooling,
        batchnorm, dropout, flatten); a layer linear in its input (conv2d, dense) then adds the
        change of those features to its unperturbed z, and from there the stack is whole."""
        net, fp = self.net, self.fp
        column = net.layout.name == "column"
        stack = z if z is not None else a
        assert stack is not None
        crossed = np.zeros((len(stack), net.samples_in(fp.a[-1])), dtype=bool) | _from_base(list(sides), column)
        with np.errstate(all="ignore"):
            for k in range(first, len(net.layers) + 1):
                layer = net.layers[k - 1]
                p = layer_params(self.params, layer, k)
                if k == first and z is not None:
                    pass  # z^first is given
                elif kept is not None and layer.CHANNEL_LOCAL:
                    z, cache, kept = layer.forward_channels(a, p, kept)
                    crossed |= _from_base(layer.input_sides(cache), column)
                else:
                    change = None if kept is None else layer.change_from(a - a[-1:], kept, p)
                    if change is not None:  # a linear layer (no kinks of its own): the stack is whole again
                        z, kept = fp.z[k - 1][None] + change, None
                    else:
                        if kept is not None:  # the whole input, the kept features replaced
                            whole = stacked(fp.a[k - 1], a)  # in a's type: complex for the complex step
                            feature_slice(whole, len(layer.in_shape), kept)[...] = a
                            a, kept = whole, None
                        z, cache = layer.forward(a, p)
                        crossed |= _from_base(layer.input_sides(cache), column)
                if layer.activation.kinked:
                    crossed |= _from_base([z.real > 0], column)
                if kept is not None and (layer.activation.name == "softmax" or k == len(net.layers)):
                    # softmax couples the features, and the loss takes them all: the stack whole again
                    whole = stacked(fp.z[k - 1], z)
                    feature_slice(whole, len(layer.out_shape), kept)[...] = z
                    z, kept = whole, None
                a = layer.activation.forward(z, layer.options)
            losses = per_sample_losses(net, z, a, self.y)
        return losses / batch_divisor(net, fp.a[-1]), crossed


def _from_base(sides: list[Array], column: bool) -> Array | bool:
    """Per member of a stack and sample (P x N): whether any of its kink sides differs from the last
    (unperturbed) member's. The samples follow the stack's axis in row layout, and end the array in
    column layout (where only dense layers are, here for the complex step)."""
    differs: Array | bool = False
    for side in sides:
        changed = side != side[-1:]
        if column:
            changed = np.moveaxis(changed, -1, 1)
        differs = differs | changed.reshape(changed.shape[0], changed.shape[1], -1).any(axis=2)
    return differs
