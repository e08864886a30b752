"""The witness of one layer's backward: the numerical vector-Jacobian product of a forward function,
from forward calls only (what cs231n's ``eval_numerical_gradient_array`` computes, with gradcheck's
steps, expected errors and kink detection).

With an upstream gradient dout_k for each output out_k of the forward, the backward's gradient of
an input X is the gradient of L = sum_k <out_k, dout_k>, and entry by entry

    dL/dX_i ~ (L(X + h_i e_i) - L(X - h_i e_i)) / (2 h_i),    h_i = eps max(|X_i|, s)   (central.step_sizes)

every other input as given. Each call gets fresh copies of the arrays, so a forward that writes into
its inputs cannot change the point it is evaluated at. The expected error is the round-off of L,
whose size is sum |out_k dout_k|.

A forward here is a black box (a student's, or a registry layer's), so a kink is recognised from
outside: where the one-sided slopes (L(X) - L(X - h)) / h and (L(X + h) - L(X)) / h differ by more
than 1 % of the larger and by far more than the round-off. For a smooth function they differ by
h f'', a few millionths of the slope; across a relu's 0 or a max-pool's tie, by the jump itself. Such
entries are judged by the interval between the slopes, as kinks are everywhere (verdict/compare.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradcheck_cli.witness.central import Witness, quotients, roundoff_error, step_sizes

Array = np.ndarray
Forward = Callable[[dict[str, Array]], list[Array]]  # inputs by name -> the outputs, float64
KINK_SLOPES = 1e-2  # one-sided slopes further apart than this fraction of the larger: a kink
KINK_NOISE = 100.0  # ... and than this many times the expected error


def vjp_witness(forward: Forward, arrays: dict[str, Array], wrt: list[str], douts: list[Array],
                eps: float) -> Witness:
    """Numerical dL/dX for every input X named in ``wrt``, stored under ``d`` + its name."""

    def L(args: dict[str, Array]) -> tuple[float, float]:  # L, and the size of its round-off
        outs = forward({name: value.copy() for name, value in args.items()})
        terms = [o * d for o, d in zip(outs, douts, strict=True)]
        return float(sum(np.sum(t) for t in terms)), float(sum(np.sum(np.abs(t)) for t in terms))

    base, size = L(arrays)
    witness = Witness()
    for name in wrt:
        x = np.array(arrays[name], dtype=np.float64)
        flat, args = x.reshape(-1), {**arrays, name: x}  # writing flat[i] moves the entry the forward reads
        h = step_sizes(flat, eps)
        gradient, step, left, right = (np.empty(flat.size) for _ in range(4))
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h[i]
            upper, (up, _) = flat[i], L(args)
            flat[i] = old - h[i]
            lower, (down, _) = flat[i], L(args)
            flat[i] = old
            gradient[i], step[i], left[i], right[i] = quotients(up, down, base, old, upper, lower)
        expected = roundoff_error(size, step)
        kink = (np.abs(right - left) > KINK_SLOPES * np.maximum(np.abs(left), np.abs(right))) & (
            np.abs(right - left) > KINK_NOISE * expected)
        key = f"d{name}"
        for field, value in (("gradient", gradient), ("step", step), ("expected", expected), ("kink", kink),
                             ("left", left), ("right", right)):
            getattr(witness, field)[key] = value.reshape(x.shape)
        witness.checked[key] = np.ones(x.shape, dtype=bool)
    return witness
