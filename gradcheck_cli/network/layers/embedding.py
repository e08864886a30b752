"""embedding: word embeddings, a lookup of one row of W per index (cs231n's ``word_embedding_*``).

    z[n, t] = W[x[n, t]]          x: N x T integers in [0, V),  W: V x D

It takes the network's input, so it is the first layer, with ``input: [T]``. Backward: each row of
dW is the sum of dz over every place its index occurs, so an index repeated in the batch
accumulates (``np.add.at``; ``dW[x] = dz`` would keep only the last occurrence, the classic
mistake). Integer inputs have no gradient: dE/dx is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gradcheck_cli.network.layers.base import (
    Array,
    Equation,
    Layer,
    LayerProblem,
    Mistake,
    Notation,
    Parameter,
    Place,
    PositiveInt,
    Shape,
    SpecModel,
    stacked,
)

TYPE = "embedding"
SYMBOLS = ("W",)
LAYOUTS = ("row",)


class EmbeddingSpec(SpecModel):
    """``{type: embedding, vocab: 20, dim: 4}``."""

    type: Literal["embedding"]
    vocab: PositiveInt
    dim: PositiveInt


SPEC = EmbeddingSpec


def reference_keys(shapes: dict[str, tuple[int, ...]]) -> dict[str, object]:
    """vocab and dim, from the array given for W (``gradcheck layer``'s reference)."""
    return {"vocab": shapes["W"][0], "dim": shapes["W"][1]} if len(shapes.get("W", ())) == 2 else {}


def build(spec: EmbeddingSpec, in_shape: Shape, place: Place) -> Embedding:
    if place.l != 1:
        raise LayerProblem("an embedding looks up the network's integer input, so it must be the first layer",
                           "move it to the top of layers:")
    if len(in_shape) != 1:
        raise LayerProblem(f"an embedding takes T indices per sample, but the input is "
                           f"{' x '.join(map(str, in_shape))}", "give input: [T], the number of steps")
    return Embedding(in_shape, place.layout, place.activation, place.options, vocab=spec.vocab, dim=spec.dim)


@dataclass(frozen=True)
class Embedding(Layer):
    TYPE = TYPE
    vocab: int
    dim: int

    @property
    def out_shape(self) -> Shape:
        return (self.in_shape[0], self.dim)

    def parameters(self) -> tuple[Parameter, ...]:
        return (Parameter("W", (self.vocab, self.dim), "weights", fan_in=1, l2=True,
                          shape_hint="an embedding's W is vocab x dim, one row per index"),)

    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, Array]:
        x = a.real.astype(np.intp)
        return p["W"][x], x

    def backward(self, dz: Array, cache: Array) -> tuple[Array, dict[str, Array]]:
        dW = np.zeros((self.vocab, self.dim), dtype=dz.dtype)
        np.add.at(dW, cache, dz)
        return np.zeros(cache.shape), {"W": dW}

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        """W[v, k] moves feature k of every step whose index is v: all entries at once."""
        out = stacked(z, deltas)
        rows, features = index
        hits = a.real.astype(np.intp) == rows[:, None, None]  # (P, N, T): where each member's row is read
        out[np.arange(len(deltas)), ..., features] += deltas[:, None, None] * hits
        return out

    def inputs_from(self, rng: np.random.Generator, m: int) -> Array:
        return rng.integers(0, self.vocab, size=(m,) + self.in_shape).astype(float)

    def input_as_given(self, x: Array) -> Array:
        return x.real.astype(np.int64)

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        """dW[x] = dz (or dW[x] += dz, which numpy buffers): a repeated index keeps one of its gradients."""
        overwritten = np.zeros((self.vocab, self.dim))
        overwritten[a.real.astype(np.intp)] = dz
        return [Mistake("W", overwritten, "a repeated index keeps only one of its gradients: dW[x] = dz and "
                        "dW[x] += dz both overwrite; accumulate with np.add.at(dW, x, dz)")]

    def input_problem(self, x: Array) -> tuple[str, str] | None:
        outside = (x != np.round(x)) | (x < 0) | (x >= self.vocab)
        if outside.any():
            where = tuple(int(i) for i in np.argwhere(outside)[0])
            return (f"data.x{list(where)} is {x[where]:g}, not an index of the vocabulary",
                    f"an embedding's inputs are whole numbers in 0..{self.vocab - 1}")
        return None

    def forward_equation(self, l: int, n: Notation) -> Equation:
        return Equation(f"z{l}", f"W{l}[x]", rf"z^{{[{l}]}}_{{n,t}} = W^{{[{l}]}}_{{x_{{n,t}}}}", n.shape(l))

    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        penalty = f" + l2 * W{l}" if l2 else ""
        latex = (rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}_v}} = "
                 rf"\sum_{{x_{{n,t}} = v}} \delta^{{[{l}]}}_{{n,t}}")
        return [Equation(f"# dW{l}", f"row v: sum of dz{l}[n, t] over every (n, t) with x[n, t] == v{penalty}",
                         latex, f"{self.vocab} x {self.dim}")]
