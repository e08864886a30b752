"""The witness of a derivation's dE/dz^l and dE/da^l: central differences one unit at a time across
the whole batch, from forward passes only.

Every layer of the network acts on each sample alone and the loss is a sum of per-sample losses
(the L2 term does not depend on z or a). So moving the entry (sample i, unit j) of z^l changes only
sample i's loss, and

    dE/dz^l_ij ~ (l_i(z + h e_ij) - l_i(z - h e_ij)) / (2 h_ij) / R

where R is m for ``reduction: mean``, else 1. Moving unit j of *every* sample at once, each by its
own step, and reading each sample's own loss gives the whole column of unit j from two forward
passes: 2 x units passes instead of 2 x units x samples, with the same steps
(``numeric.step_sizes``), the same expected round-off (from |E|, so on the safe side: one sample's
difference carries less rounding than the whole sum's), the same one-sided slopes, and kinks flagged
per sample. The plain per-entry loop, ``numeric.central_differences``, is what a test compares this
with.
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.network.network import ForwardPass, Network, Params, batch_divisor, forward_from, per_sample_losses
from gradcheck_cli.witness.central import Witness, quotients, roundoff_error, step_sizes

Array = np.ndarray


def quantity_witness(net: Network, params: Params, y: Array, kind: str, layer: int, value: Array,
                     eps: float) -> Witness:
    """Numerical dE/d``kind``^``layer`` (kind "z" or "a") at ``value``, entry by entry."""
    name, units_axis = f"{kind}{layer}", net.layout.unit_axis % 2
    base_value = np.array(value, dtype=np.float64)
    base, base_losses, base_sides = _run(net, params, y, kind, layer, base_value)
    steps = step_sizes(base_value, eps)
    gradient, step, left, right = (np.empty_like(base_value) for _ in range(4))
    kink = np.zeros(base_value.shape, dtype=bool)
    for unit in range(base_value.shape[units_axis]):
        column = _unit(units_axis, unit)
        moved = []
        for sign in (1, -1):
            perturbed = base_value.copy()
            perturbed[column] += sign * steps[column]
            _, losses, sides = _run(net, params, y, kind, layer, perturbed)
            moved.append((perturbed[column], losses, sides))
        (upper, plus, plus_sides), (lower, minus, minus_sides) = moved
        gradient[column], step[column], left[column], right[column] = quotients(
            plus, minus, base_losses, base_value[column], upper, lower)
        kink[column] = _crossed(base_sides, plus_sides, units_axis) | _crossed(base_sides, minus_sides, units_axis)
    return Witness(gradient={name: gradient}, step={name: step}, expected={name: roundoff_error(base.E, step)},
                   kink={name: kink}, left={name: left}, right={name: right},
                   checked={name: np.ones(base_value.shape, dtype=bool)})


def _run(net: Network, params: Params, y: Array, kind: str, layer: int,
         value: Array) -> tuple[ForwardPass, Array, list[Array]]:
    """The rest of the network from ``value``: the forward pass, each sample's share of E, and the side
    of its kink that every pre-activation of a kinked activation lies on (z^l itself included)."""
    fp = forward_from(net, params, y, layer, **{kind: value})
    with np.errstate(all="ignore"):
        losses = per_sample_losses(net, fp.z[-1] if fp.z else None, fp.a[-1], y) / batch_divisor(net, fp.a[-1])
    first = layer if kind == "z" else layer + 1
    sides = [z > 0 for layer_l, z in zip(net.layers[first - 1:], fp.z, strict=False) if layer_l.activation.kinked]
    return fp, losses, sides


def _crossed(base: list[Array], moved: list[Array], units_axis: int) -> Array | bool:
    """Per sample: whether any of its pre-activations changed side of a kink."""
    changes = [np.any(before != after, axis=units_axis) for before, after in zip(base, moved, strict=True)]
    return np.logical_or.reduce(changes) if changes else False


def _unit(units_axis: int, unit: int) -> tuple[slice | int, ...]:
    """The index of one unit's entries for every sample, in an array of the network's layout."""
    return (unit, slice(None)) if units_axis == 0 else (slice(None), unit)
