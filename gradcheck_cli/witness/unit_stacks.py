"""The dense engine's evaluation of one unit's perturbations as a stack of networks.

A step of W^l[i, j] (or b^l[i]) changes unit i of z^l by the step times a^(l-1)_j (or by the step):
given those changes for many perturbations at once (a ``Stack``), ``UnitStacks`` computes E for
each, by the exact rank-1 change of the next layer's pre-activation and the rest of the network run
for the whole stack in chunks, or by the per-sample loss fitted by a polynomial where nothing after
the layer has a kink (see ``fast.py`` for the whole method). ``fast_engine.Engine`` decides which
entries form a unit's stack and turns the values into quotients.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.network.network import (
    Network,
    Params,
    batch_divisor,
    forward,
    layer_params,
    per_sample_losses,
    weight_penalty,
)
from gradcheck_cli.witness import loss_fit

Array = np.ndarray
CHUNK_ELEMENTS = 1 << 19  # numbers in the largest array of one stack (4 MiB: measured fastest here)
FIT_MIN = 4 * len(loss_fit.POINTS)  # fewer perturbations of a unit than this: running each is as cheap


@dataclass(frozen=True)
class Stack:
    """Perturbations of one unit of one layer: the applied steps and their parameters' entries."""

    deltas: Array  # (P,) the step actually applied (w+h rounded, minus w), 0 for the base copy
    vectors: Array  # (P, m) what one unit's pre-activation changes by, per unit of step
    reach: Array  # (m,) at least the largest |vectors| of each sample: how far a step can move it

    def __getitem__(self, part: slice) -> Stack:
        return Stack(self.deltas[part], self.vectors[part], self.reach)

    def __len__(self) -> int:
        return len(self.deltas)


class UnitStacks:
    """The unperturbed network's quantities, and E for stacks of one unit's perturbations."""

    def __init__(self, net: Network, params: Params, x: Array, y: Array, fit: bool = True) -> None:
        self.net, self.params, self.y, self.fit = net, params, y, fit
        self.fp = forward(net, params, x, y)
        self.penalty = weight_penalty(net, params)
        self.column = net.layout.name == "column"
        self.base_losses = per_sample_losses(net, self.fp.z[-1], self.fp.a[-1], y)  # unperturbed, per sample
        self._tolerance = loss_fit.tolerance(self.fp.E, batch_divisor(net, self.fp.a[-1]))  # of the fitted loss
        self._local = threading.local()  # per-thread scratch arrays, reused: fresh large arrays cost page faults
        # a^(l-1) with one row per input unit, contiguous: its rows are what a weight's step scales (in row
        # layout a^(l-1) is transposed once here, not for every unit: copying a transpose is slow)
        # (only the dense tail's inputs are read: a layer of any other type is witnessed by layered.py)
        self._inputs = [np.ascontiguousarray(a if self.column else a.T) if a.ndim == 2 else a for a in self.fp.a[:-1]]
        self._reach = [np.abs(inputs).max(axis=0, initial=0.0) for inputs in self._inputs]  # per sample

    def _scratch(self, slot: str, shape: tuple[int, ...], perturbations_inner: bool = False) -> Array:
        """A reusable array of ``shape`` for this thread (its contents are overwritten by the caller);
        with ``perturbations_inner`` its first axis is the one that varies fastest in memory."""
        buffers: dict[str, Array] = self._local.__dict__.setdefault("buffers", {})
        size = math.prod(shape)
        if slot not in buffers or buffers[slot].size < size:
            buffers[slot] = np.empty(size)
        if perturbations_inner:
            return np.moveaxis(buffers[slot][:size].reshape(shape[1:] + shape[:1]), -1, 0)
        return buffers[slot][:size].reshape(shape)

    # ------------------------------------------------------------------ evaluation of one unit's stack

    def _samples(self) -> int:
        return self.fp.a[-1].shape[self.net.layout.sample_axis]

    def _unit(self, l: int, unit: int, stack: Stack, penalty: Array | None = None) -> tuple[Array, Array]:
        """E for every perturbation of one unit's pre-activation, in chunks that bound memory: large
        chunks through the fitted loss where it applies (``_unit_fitted``), else chunks of
        the stack that the rest of the network runs on."""
        if self.fit and self._fits(l) and len(stack) >= FIT_MIN:
            chunk = max(FIT_MIN, CHUNK_ELEMENTS // self._samples())
            return self._in_chunks(chunk, stack, penalty, lambda part, p: self._unit_fitted(l, unit, part, p))
        return self._unit_exact(l, unit, stack, penalty)

    def _unit_exact(self, l: int, unit: int, stack: Stack, penalty: Array | None) -> tuple[Array, Array]:
        """E for perturbations of one unit, each running the rest of the network for real."""
        sizes = [layer.out_shape[0] for layer in self.net.layers]
        full = self.net.layers[l - 1].activation.name == "softmax" or l == len(sizes)
        widest = max(sizes[l - 1:] if full else sizes[l:]) * self._samples()  # what one perturbation makes
        chunk = max(1, CHUNK_ELEMENTS // widest)
        return self._in_chunks(chunk, stack, penalty, lambda part, p: self._unit_chunk(l, unit, part, p))

    @staticmethod
    def _in_chunks(chunk: int, stack: Stack, penalty: Array | None,
                   evaluate: Callable[[Stack, Array | None], tuple[Array, Array]]) -> tuple[Array, Array]:
        E_parts, crossed_parts = [], []
        for start in range(0, len(stack), chunk):
            part = slice(start, start + chunk)
            E, crossed = evaluate(stack[part], None if penalty is None else penalty[part])
            E_parts.append(E)
            crossed_parts.append(crossed)
        return np.concatenate(E_parts), np.concatenate(crossed_parts)

    def _unit_chunk(self, l: int, unit: int, stack: Stack, penalty: Array | None) -> tuple[Array, Array]:
        net, fp = self.net, self.fp
        layer = net.layers[l - 1]
        z_new, crossed = self._perturbed_unit(l, unit, stack)
        if layer.activation.name == "softmax" or l == len(net.layers):  # rebuild z^l in full, run from layer l
            z_full = np.repeat(fp.z[l - 1][None], len(stack), axis=0)
            self._set_unit(z_full, unit, z_new)
            losses, more = self._losses(l, z=z_full, skip_kinks_of_first=True)
            return self._total(losses.sum(axis=-1), penalty), crossed | more
        # elementwise: only unit `unit` of a^l changes; it enters z^(l+1) as an exact rank-1 term
        delta_a = self._activation_change(l, unit, z_new)
        # samples whose a does not move at all (a ReLU unit off on both sides) keep their forward
        # values bit for bit, so only the samples that move are run; the rest add their base losses
        moved = np.flatnonzero((delta_a != 0).any(axis=0))
        # When only the output layer's activation and the loss follow (elementwise work and sums), the
        # stack is stored with the perturbations innermost: numpy's loops then run over hundreds of
        # perturbations instead of a handful of output units (2.2 times faster measured on seed
        # 004's network, whose output has 10 units). Where a product with W follows, it stays in
        # the order the product wants.
        inner = l + 1 == len(net.layers)
        z_next = self._into_next_layer(l, unit, delta_a[:, moved], moved, inner)
        losses, more = self._losses(l + 1, z=z_next, samples=moved)
        return self._total(self._moved_plus_rest(losses.sum(axis=-1), moved), penalty), crossed | more

    def _unit_fitted(self, l: int, unit: int, stack: Stack, penalty: Array | None) -> tuple[Array, Array]:
        """E for many perturbations of one unit of an elementwise layer with only smooth layers after it.

        Each sample's loss depends on a perturbation of unit j of layer l only through one number, the
        change Da_j of that sample's activation, computed exactly as in ``_unit_chunk``. The rest of
        the network runs for real at 9 values of Da_j spanning the range the steps reach (|Da| <= R),
        and a polynomial fitted to those loss values (``loss_fit``) gives every perturbation's loss.
        When no polynomial reproduces them to within a share of the round-off (huge weights, large
        steps, a loss near a singularity), the chunk runs ``_unit_exact`` instead, so the result never
        rests on a poor fit. The gain is where the rest of the network is wide: per perturbation, a
        polynomial in each sample instead of N x (units after layer l) activations and more."""
        z_new, crossed = self._perturbed_unit(l, unit, stack)
        delta_a = self._activation_change(l, unit, z_new)
        radius = np.abs(delta_a).max(axis=0)  # R per sample
        moved = np.flatnonzero(radius > 0)
        points = loss_fit.POINTS[:, None] * radius[None, moved]  # (9, moved)
        losses, _ = self._losses(l + 1, z=self._into_next_layer(l, unit, points, moved, inner=False), samples=moved)
        change = losses - self.base_losses[moved][None, :]  # (9, moved): loss values minus the unperturbed ones
        coefficients = loss_fit.fit(change, self._tolerance)  # (degree + 1, moved)
        if coefficients is None:
            return self._unit_exact(l, unit, stack, penalty)
        t = delta_a[:, moved] * (1 / radius[moved])[None, :]
        return self._total(self.base_losses.sum() + loss_fit.summed_change(t, coefficients), penalty), crossed

    def _fits(self, l: int) -> bool:
        """Whether ``_unit_fitted`` applies to layer l: elementwise, and smooth everything after."""
        layers = self.net.layers
        return (l < len(layers) and layers[l - 1].activation.name != "softmax"
                and not any(layer.activation.kinked for layer in layers[l:]))

    def _perturbed_unit(self, l: int, unit: int, stack: Stack) -> tuple[Array, Array]:
        """z^l of one unit for each perturbation (P, m), and which perturbations cross a kink there.

        Only samples within twice the stack's reach of the kink are looked at: a step moves the
        others by less than half their distance to it, which no rounding can turn into a crossing."""
        layer = self.net.layers[l - 1]
        z_unit = self._unit_of(self.fp.z[l - 1], unit)  # (m,)
        z_new = np.multiply(stack.deltas[:, None], stack.vectors, out=self._scratch("z_new", stack.vectors.shape))
        z_new += z_unit[None, :]  # (P, m): the unit's pre-activation, perturbed
        crossed = np.zeros(len(stack), dtype=bool)
        if layer.activation.kinked and len(stack):
            with np.errstate(all="ignore"):
                near = np.flatnonzero(~(np.abs(z_unit) > 2 * np.abs(stack.deltas).max() * stack.reach))
            crossed |= ((z_new[:, near] > 0) != (z_unit[near] > 0)[None, :]).any(axis=1)
        return z_new, crossed

    def _activation_change(self, l: int, unit: int, z_new: Array) -> Array:
        """Da (P, m): how one unit's activation moves when its pre-activation becomes ``z_new``."""
        layer = self.net.layers[l - 1]
        a_new = layer.activation.forward(z_new, layer.options)
        return np.subtract(a_new, self._unit_of(self.fp.a[l], unit)[None, :], out=self._scratch("delta_a", a_new.shape))

    def _into_next_layer(self, l: int, unit: int, delta_a: Array, moved: Array, inner: bool) -> Array:
        """z^(l+1) of the ``moved`` samples for each change ``delta_a`` (P, moved) of unit ``unit`` of
        a^l: the unperturbed z^(l+1) plus the exact rank-1 term (``inner``: perturbations innermost)."""
        W_next = self.params[f"W{l + 1}"]
        z_next = self._take(self.fp.z[l], moved)
        z_new_next = self._scratch("z_next", (len(delta_a),) + z_next.shape, perturbations_inner=inner)
        if inner:
            delta_a = np.ascontiguousarray(delta_a.T).T  # the same values, perturbations innermost
        if self.column:  # z^(l+1) = W a + b: column `unit` of W meets row `unit` of a
            np.multiply(W_next[:, unit][None, :, None], delta_a[:, None, :], out=z_new_next)
        else:  # z^(l+1) = a W + b: column `unit` of a meets row `unit` of W
            np.multiply(delta_a[:, :, None], W_next[unit, :][None, None, :], out=z_new_next)
        z_new_next += z_next[None]
        return z_new_next

    def _unit_of(self, array: Array, unit: int) -> Array:
        return array[..., unit, :] if self.column else array[..., unit]

    def _set_unit(self, array: Array, unit: int, values: Array) -> None:
        if self.column:
            array[:, unit, :] = values
        else:
            array[:, :, unit] = values

    def _take(self, array: Array, samples: Array) -> Array:
        return np.take(array, samples, axis=self.net.layout.sample_axis)

    def _losses(self, l: int, z: Array, skip_kinks_of_first: bool = False,
                samples: Array | None = None) -> tuple[Array, Array]:
        """Per-sample losses (P, samples) of a stack of networks whose z^l is given, running layers
        l..L and the loss for real, and which members cross a kink. With ``samples``, z holds only
        those samples."""
        net = self.net
        crossed = np.zeros(z.shape[0], dtype=bool)
        y = self.y if samples is None else self._take(self.y, samples)
        with np.errstate(all="ignore"):
            a = z  # replaced by f_l(z^l) in the first pass of the loop
            for k in range(l, len(net.layers) + 1):
                layer = net.layers[k - 1]
                if k > l:
                    z, _ = layer.forward(a, layer_params(self.params, layer, k))
                if layer.activation.kinked and not (k == l and skip_kinks_of_first):
                    base = self.fp.z[k - 1] if samples is None else self._take(self.fp.z[k - 1], samples)
                    crossed |= ((z > 0) != (base > 0)[None]).any(axis=(1, 2))
                a = layer.activation.forward(z, layer.options)
            return per_sample_losses(net, z, a, y), crossed

    def _moved_plus_rest(self, data: Array, moved: Array) -> Array:
        """The summed losses of the ``moved`` samples plus the base losses of all the others."""
        rest = np.ones(self.base_losses.shape, dtype=bool)
        rest[moved] = False
        return data + self.base_losses[rest].sum()

    def _total(self, data: Array, penalty: Array | None) -> Array:
        """E from the losses summed over all samples: the reduction, and the L2 term of each member."""
        weights = self.penalty if penalty is None else penalty
        with np.errstate(all="ignore"):
            return data / batch_divisor(self.net, self.fp.a[-1]) + 0.5 * self.net.l2 * weights
