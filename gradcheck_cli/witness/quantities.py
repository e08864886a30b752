"""The witness of a derivation's dE/dz^l and dE/da^l: central differences of E from forward passes
only, one feature at a time across the whole batch where the samples are independent.

When every layer after the quantity acts on each sample alone (and the loss is a sum of per-sample
losses; the L2 term does not depend on z or a), moving the entry (sample i, feature j) of z^l
changes only sample i's loss, and

    dE/dz^l_ij ~ (l_i(z + h e_ij) - l_i(z - h e_ij)) / (2 h_ij) / R

where R is m for ``reduction: mean``, else 1. Moving feature j of *every* sample at once, each by its
own step, and reading each sample's own loss gives feature j for the whole batch from two forward
passes, with the same steps (``step_sizes``), the same expected round-off (from |E|, so on the safe
side), the same one-sided slopes, and kinks flagged per sample. A feature is a unit of a dense
layer, or one (channel, row, column) position of a convolutional one.

A layer that mixes the samples (batchnorm) breaks that premise: moving sample i changes every
sample's loss. Where such a layer follows, every entry is moved alone and E read as a whole, the
plain per-entry loop. ``tests/test_quantity_witness.py`` compares both with that loop.

The features (or entries), each moved up and down, run through the rest of the network as stacks
of copies, a chunk at a time. A 4-D quantity's copies hold only the channel they move, for as long
as the layers after it act on each channel alone, and the next convolution (or dense layer) adds
that channel's change to its unperturbed output, as the parameters' layered witness does: on
LeNet a convolution's work shrinks by its input channels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradcheck_cli.network.network import (
    ForwardPass,
    Network,
    Params,
    batch_divisor,
    forward_from,
    kink_sides,
    per_sample_losses,
)
from gradcheck_cli.witness.central import Witness, quotients, roundoff_error, step_sizes
from gradcheck_cli.witness.layered import CHUNK_ELEMENTS, LayeredEngine

Array = np.ndarray


def quantity_witness(net: Network, params: Params, y: Array, kind: str, layer: int, value: Array,
                     eps: float) -> Witness:
    """Numerical dE/d``kind``^``layer`` (kind "z" or "a") at ``value``, entry by entry. The groups
    (a feature for the whole batch, or one entry where samples mix), each moved up and down, run
    through the rest of the network as stacks of copies, a chunk of groups at a time."""
    name, axis = f"{kind}{layer}", net.layout.batch_axis
    base_value = np.array(value, dtype=np.float64)
    base, base_losses, base_sides = rest_of_network(net, params, y, kind, layer, base_value)
    steps = step_sizes(base_value, eps)
    gradient, step, left, right = (np.empty_like(base_value) for _ in range(4))
    kink = np.zeros(base_value.shape, dtype=bool)
    # samples first, as views: writing into them fills the arrays above
    out = [np.moveaxis(array, axis, 0) for array in (gradient, step, left, right, kink)]
    values, step_of = np.moveaxis(base_value, axis, 0), np.moveaxis(steps, axis, 0)
    mixing = any(later.MIXES_SAMPLES for later in net.layers[layer:])  # the layers after z^l / a^l
    by_channel = not mixing and base_value.ndim == 4 and (kind == "z" or layer < len(net.layers))
    moves = (_channel_stacks(net, params, y, kind, layer, base, values, step_of) if by_channel else
             _whole_stacks(net, params, y, kind, layer, base_value, step_of, base_losses, base_sides, mixing))
    for index, upper, lower, plus, minus, base_of, cross in moves:
        if mixing:  # every sample's loss moved: E as a whole
            plus, minus, base_of, cross = plus.sum(), minus.sum(), base_of.sum(), cross.any()
        for array, result in zip(out, quotients(plus, minus, base_of, values[index], upper, lower), strict=False):
            array[index] = result
        out[4][index] = cross
    return Witness(gradient={name: gradient}, step={name: step}, expected={name: roundoff_error(base.E, step)},
                   kink={name: kink}, left={name: left}, right={name: right},
                   checked={name: np.ones(base_value.shape, dtype=bool)})


Moved = tuple[tuple, Array, Array, Array, Array, Array, Array]  # index, upper, lower, l+, l-, l0, crossed


def _whole_stacks(net: Network, params: Params, y: Array, kind: str, layer: int, base_value: Array,
                  step_of: Array, base_losses: Array, base_sides: list[Array], mixing: bool) -> Iterator[Moved]:
    """Each group (samples first: a feature of every sample, or one entry) moved up and down in a
    stack of whole copies of z^l or a^l, and each sample's loss and kink crossings."""
    axis, m = net.layout.batch_axis, step_of.shape[0]
    groups = ([(i,) + f for f in np.ndindex(step_of.shape[1:]) for i in range(m)] if mixing
              else [(slice(None),) + f for f in np.ndindex(step_of.shape[1:])])
    chunk = groups_per_stack(net, layer, base_value.size, m)
    for start in range(0, len(groups), chunk):
        group = groups[start : start + chunk]
        n = len(group)
        stack = np.repeat(base_value[None], 2 * n, axis=0)  # copy k moves group k up, copy n + k down
        members = np.moveaxis(stack, axis if axis < 0 else axis + 1, 1)  # each copy samples first: views
        for k, index in enumerate(group):
            members[k][index] += step_of[index]
            members[n + k][index] -= step_of[index]
        _, losses, sides = rest_of_network(net, params, y, kind, layer, stack)
        crossed = crossed_members(sides, base_sides, 2 * n, m, axis)
        for k, index in enumerate(group):
            yield (index, members[k][index], members[n + k][index], losses[k], losses[n + k], base_losses,
                   crossed[k] | crossed[n + k])


def _channel_stacks(net: Network, params: Params, y: Array, kind: str, layer: int, base: ForwardPass,
                    values: Array, step_of: Array) -> Iterator[Moved]:
    """The same for a 4-D quantity (row layout: N x C x H x W), whose features of one channel run as
    stacks of that channel alone (plus an unperturbed member) for as long as the layers after it act
    on each channel alone, and whose next convolution adds only that channel's change
    (``LayeredEngine.rest``): a convolution's work shrinks by its input channels."""
    # the rest of the network's pass, indexed as a whole one's (z[k - 1] is z^k, a[k] is a^k): the
    # engine reads only the layers from ``layer`` on, so the places before are left empty
    before: list[Any] = [None] * layer
    whole = ForwardPass(E=base.E, z=before[: layer - 1 if kind == "z" else layer] + base.z, a=before + base.a)
    engine = LayeredEngine(net, params, y, whole)
    m, channels = values.shape[0], values.shape[1]
    chunk = groups_per_stack(net, layer, values.size, m)
    for c in range(channels):
        positions = list(np.ndindex(values.shape[2:]))
        for start in range(0, len(positions), chunk):
            group = positions[start : start + chunk]
            n = len(group)
            stack = np.repeat(values[None, :, c : c + 1], 2 * n + 1, axis=0)  # the last copy unperturbed
            for k, (i, j) in enumerate(group):
                stack[k, :, 0, i, j] += step_of[:, c, i, j]
                stack[n + k, :, 0, i, j] -= step_of[:, c, i, j]
            kept = slice(c, c + 1)
            losses, crossed = (engine.rest(layer, z=stack, kept=kept) if kind == "z"
                               else engine.rest(layer + 1, a=stack, kept=kept))
            for k, (i, j) in enumerate(group):
                yield ((slice(None), c, i, j), stack[k, :, 0, i, j], stack[n + k, :, 0, i, j], losses[k],
                       losses[n + k], losses[-1], crossed[k] | crossed[n + k])


def groups_per_stack(net: Network, layer: int, size: int, samples: int) -> int:
    """How many groups (each moved up and down: two copies) one stack holds, so that its largest
    array, the copies of a quantity of ``size`` numbers or of a later layer's output, stays within
    CHUNK_ELEMENTS numbers."""
    per_copy = max([size] + [samples * math.prod(later.out_shape) for later in net.layers[layer:]])
    return max(1, CHUNK_ELEMENTS // per_copy // 2)


def rest_of_network(net: Network, params: Params, y: Array, kind: str, layer: int,
                    value: Array) -> tuple[ForwardPass, Array, list[Array]]:
    """The rest of the network from ``value`` (z^l or a^l, or a stack of them): the forward pass, each
    sample's share of E (per member of a stack: P x N), and the side of every kink after it (z^l's
    activation itself included)."""
    fp = forward_from(net, params, y, layer, **{kind: value})
    with np.errstate(all="ignore"):
        losses = per_sample_losses(net, fp.z[-1] if fp.z else None, fp.a[-1], y) / batch_divisor(net, fp.a[-1])
    first = layer if kind == "z" else layer + 1
    return fp, losses, kink_sides(net, fp, first, from_z=kind == "z")


def crossed_members(moved: list[Array], base: list[Array], members: int, samples: int, batch_axis: int = 0) -> Array:
    """Per member of a stack and sample (P x N): whether any kink side in ``moved`` (stacked) differs
    from ``base`` (the unperturbed run's, unstacked). ``batch_axis``: the samples' axis of an
    unstacked array (the layout's)."""
    differs = np.zeros((members, samples), dtype=bool)
    axis = batch_axis if batch_axis < 0 else batch_axis + 1
    for after, before in zip(moved, base, strict=True):
        changed = np.moveaxis(after != before, axis, 1)
        differs |= changed.reshape(members, samples, -1).any(axis=-1)
    return differs
