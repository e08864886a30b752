"""What one pass of a recurrence keeps and what backpropagation through time gives back, and the
arithmetic every recurrent type's cell shares: the rnn, lstm and gru modules, the recurrence
(``recurrent.py``), its witness stacks and its classic mistakes all read them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradcheck_cli.network.layers.base import Array

Hidden = Callable[[Array], Array]  # h_(t-1) -> its recurrent part hw_t (with a stack's own changes)
Inputs = Callable[[int], Array]  # t -> the input part xw_t (with a stack's own changes, or shared by it)


@dataclass(frozen=True)
class Steps:
    """What one pass of the recurrence keeps: every h_t (h[:, t] is h_(t+1): h_0 is ``h0``) and each
    step's own quantities (gates, cell states, pre-activations) stacked over t on axis -2."""

    h0: Array
    h: Array  # (..., N, T, H)
    inner: dict[str, Array]


@dataclass(frozen=True)
class Bptt:
    """What backpropagation through time gives: dE/dxw_t and dE/dhw_t for every t (N x T x G), dE/dh_0,
    and the total dE/d(state)_t of every state (dh, and an LSTM's dc: N x T x H)."""

    dxw: Array
    dhw: Array
    dh0: Array
    states: dict[str, Array]


def earlier(first: Array, sequence: Array) -> Array:
    """The sequence one step later: ``first`` at t = 1, then sequence[t - 1] (h_(t-1), c_(t-1))."""
    return np.concatenate([first[..., None, :], sequence[..., :-1, :]], axis=-2)


def gate(v: Array, out: Array | None = None) -> Array:
    """The sigmoid of a gate, 1 / (1 + exp(-v)), computed in ``out`` (v itself, where the caller owns
    it) or in one new array. A recurrence evaluates it on every step of every perturbed copy, and one
    exponential pass measured several times faster than tanh (``activations.sigmoid``'s stable form
    takes a logarithm as well); an LSTM gets its tanh block from it too, tanh(u) = 2 sigmoid(2u) - 1.
    exp(-v) overflows to inf only where the gate is 0 to the last digit, and 1 / inf is that 0; the
    error is a few eps in absolute terms; complex v (the complex step) works as it is: it is analytic."""
    t = np.negative(v, out=out)
    with np.errstate(over="ignore"):
        np.exp(t, out=t)
    t += 1
    return np.reciprocal(t, out=t)
