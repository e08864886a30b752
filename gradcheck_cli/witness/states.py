"""The witness of a derivation's dh<l> and dc<l>: dE/dh_t (or an LSTM's dE/dc_t) for every step t,
the total through every path, from forward passes only.

The state is moved right after step t computes it, and the recurrence runs on from there: the
moved h_t reaches the loss through the layer's output at t *and* through h_(t+1), h_(t+2), ...;
a moved c_t through h_t = o tanh(c_t) and c_(t+1). The central difference of E is then the total
derivative that BPTT's dh_t and dc_t mean, and a backward that drops the path through the next
step disagrees with it from the second-to-last step down.

As for dz<l> and da<l> (``quantities.py``), unit j at step t is moved for every sample at once, each
by its own step, and each sample's own loss read, unless a later layer mixes the samples: then
each entry is moved alone and E read as a whole. The copies of one step (each unit moved up and
down) run as one stack through the rest of the recurrence and the layers after it.
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.network.layers.recurrent import Recurrent
from gradcheck_cli.network.network import (
    Network,
    Params,
    layer_params,
)
from gradcheck_cli.witness.central import Witness, quotients, roundoff_error, step_sizes
from gradcheck_cli.witness.quantities import crossed_members, groups_per_stack, rest_of_network

Array = np.ndarray


def state_witness(net: Network, params: Params, y: Array, kind: str, layer: int, a: Array, eps: float) -> Witness:
    """Numerical dE/d``kind``^``layer`` (N x T x H) of the recurrent layer ``layer``, whose input is ``a``."""
    rec = net.layers[layer - 1]
    assert isinstance(rec, Recurrent) and kind in rec.STATES
    p = layer_params(params, rec, layer)
    out, (_, _, steps) = rec.forward(a, p)
    value = steps.h if kind == "h" else steps.inner[kind]
    base_pass, base_losses, base_sides = rest_of_network(net, params, y, "a", layer, out)
    inner_sides = rec.sides(steps)
    h = step_sizes(value, eps)
    gradient, step, left, right = (np.empty_like(value) for _ in range(4))
    kink = np.zeros(value.shape, dtype=bool)
    N, T, H = value.shape
    mixing = any(later.MIXES_SAMPLES for later in net.layers[layer:])
    entries = [(i, j) for i in range(N) for j in range(H)] if mixing else [(slice(None), j) for j in range(H)]
    chunk = groups_per_stack(net, layer, value.size, N)
    for t in range(T):
        for start in range(0, len(entries), chunk):
            group = entries[start : start + chunk]
            n = len(group)
            deltas = np.zeros((2 * n, N, H))
            for k, (i, j) in enumerate(group):
                deltas[k, i, j], deltas[n + k, i, j] = h[i, t, j], -h[i, t, j]
            moved, sides = rec.rerun_from(t, kind, deltas, a, p, steps)
            _, losses, later_sides = rest_of_network(net, params, y, "a", layer, moved)
            after_t = [s[:, t + 1 :] for s in inner_sides] if t + 1 < T else []  # no step after the last
            crossed = (crossed_members(sides, after_t, 2 * n, N)
                       | crossed_members(later_sides, base_sides, 2 * n, N))
            for k, (i, j) in enumerate(group):
                plus, minus, base = losses[k][i], losses[n + k][i], base_losses[i]
                cross = crossed[k][i] | crossed[n + k][i]
                if mixing:  # every sample's loss moved: E as a whole
                    plus, minus, base = losses[k].sum(), losses[n + k].sum(), base_losses.sum()
                    cross = crossed[k].any() | crossed[n + k].any()
                old = value[i, t, j]
                (gradient[i, t, j], step[i, t, j], left[i, t, j],
                 right[i, t, j]) = quotients(plus, minus, base, old, old + h[i, t, j], old - h[i, t, j])
                kink[i, t, j] = cross
    name = f"{kind}{layer}"
    return Witness(gradient={name: gradient}, step={name: step}, expected={name: roundoff_error(base_pass.E, step)},
                   kink={name: kink}, left={name: left}, right={name: right},
                   checked={name: np.ones(value.shape, dtype=bool)})
