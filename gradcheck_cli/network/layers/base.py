"""What every layer type provides, so that the network, the spec reader, the derivation names,
``explain`` and the memory guard can all treat layers alike.

A layer type is one module (see ``layers/__init__.py``) holding, side by side:

- ``TYPE``, its name in a spec's ``type:`` key, ``SPEC``, the pydantic model of its entry, and
  ``SYMBOLS``, the names its parameters can have (W, b, gamma, ...) without the layer index;
- ``LAYOUTS``, the layouts it works in (only dense has a column layout: other layers need samples
  first, NCHW);
- ``build(spec, in_shape, place)``, which checks the entry against the shape of one sample's input
  and returns the built layer, or raises :class:`LayerProblem` naming the key, the arithmetic and
  the fix;
- the built layer, a subclass of :class:`Layer`: its parameters (:class:`Parameter`), its output
  shape, ``forward(a, p) -> (z, cache)`` and ``backward(dz, cache) -> (da, grads)`` in cs231n's
  contract, and the equations ``explain`` prints.

The activation is applied by the network loop after ``forward`` (``a = f(z)``) and undone before
``backward`` (``dz = f'(z) * da``), so a layer's own code never sees it; a layer type without an
``activation:`` key gets the identity. Shapes here are per sample, without the batch axis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from gradcheck_cli.network.activations import ACTIVATIONS, Activation, Options
from gradcheck_cli.network.layouts import Layout
from gradcheck_cli.network.registry import UnknownNameError, lookup

Array = np.ndarray
Shape = tuple[int, ...]
PositiveInt = Annotated[int, Field(gt=0)]


def feature_slice(array: Array, rank: int, channels: slice) -> Array:
    """The features ``channels`` of an array whose samples have ``rank`` axes (the feature axis is the
    first of them), whatever axes lead (a stack's, the samples')."""
    return array[(Ellipsis, channels) + (slice(None),) * (rank - 1)]


def stacked(z: Array, like: Array) -> Array:
    """``len(like)`` copies of ``z`` on a new leading axis, in a type that holds both: complex where
    ``like`` (a stack's deltas, or the stack itself) carries the complex step's imaginary parts."""
    return np.repeat(z.astype(np.result_type(z, like), copy=False)[None], len(like), axis=0)


class SpecModel(BaseModel):
    """The spec format's models: strict types, no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ActivationSpec(SpecModel):
    """The keys of a layer type that takes an activation."""

    activation: str = "identity"
    alpha: Annotated[float, Field(allow_inf_nan=False)] | None = None  # leaky_relu slope / elu scale


class LayerProblem(ValueError):
    """A layer entry that cannot be built: what is wrong, how to fix it, and the key it concerns
    (None: the entry as a whole). The spec reader turns it into a SpecError at that key's line."""

    def __init__(self, message: str, hint: str = "", key: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.key = message, hint, key


def activation_of(spec: Any, layout: Layout) -> tuple[Activation, Options]:
    """The activation an entry names (identity for a type without the key), with its options."""
    name = getattr(spec, "activation", "identity")
    alpha = getattr(spec, "alpha", None)
    try:
        activation = lookup("activation", ACTIVATIONS, name)
    except UnknownNameError as exc:
        raise LayerProblem(str(exc), exc.hint, key="activation") from None
    if alpha is not None and activation.default_alpha is None:
        raise LayerProblem(f"activation {activation.name!r} takes no alpha",
                           "alpha applies to leaky_relu and elu; remove it", key="alpha")
    alpha = alpha if alpha is not None else (activation.default_alpha or 0.0)
    return activation, Options(alpha=alpha, axis=layout.unit_axis)


@dataclass(frozen=True)
class Place:
    """Where a layer is built: the network's layout, the entry's activation (checked for every entry
    first, so that all misnamed activations are reported at once), the spec's seed, the index l, and
    the batch size m (a learned initial state h0 has one row per sample)."""

    layout: Layout
    activation: Activation
    options: Options
    seed: int
    l: int
    batch: int = 1


@dataclass(frozen=True)
class Parameter:
    """One parameter of a layer. ``symbol`` is its name without the layer index (W, b, gamma), so
    W^l is called ``W<l>`` in specs, derivations and reports; ``init`` says how an entry is drawn
    from the seed when the spec gives no value ("weights": normal with the spec's weight scale, or
    1/sqrt(fan_in) for lecun; "biases": normal with the spec's bias scale; "scales": 1 plus that,
    for a normalisation's gamma: near 1 as it starts in training, but not exactly 1, so that a
    derivation which forgets to multiply by gamma cannot pass by accident)."""

    symbol: str
    shape: Shape
    init: Literal["weights", "biases", "scales"]
    fan_in: int = 1
    l2: bool = False  # whether the L2 term l2/2 ||p||^2 includes it
    shape_hint: str = ""  # what its axes are ("in row layout W is inputs x units"), for a value of the wrong shape


@dataclass(frozen=True)
class Mistake:
    """A wrong derivation of one gradient of a layer: ``of`` is "a" (dE/da^(l-1)) or a parameter's
    symbol; ``value`` what that derivation gives; ``says`` what went wrong and how to fix it."""

    of: str
    value: Array
    says: str


@dataclass(frozen=True)
class Equation:
    """One line of ``explain``: a forward quantity or a derivation name, in the formula language (so
    a student can paste it into ``derivation:``) and in LaTeX, with its shape."""

    name: str
    formula: str
    latex: str
    shape: str


@dataclass(frozen=True)
class Notation:
    """How ``explain`` writes the quantities of one network: a^0 is x, shapes with m for the batch."""

    layout: Layout
    sizes: tuple[Shape, ...]  # a^0 .. a^L, per sample

    def a(self, l: int) -> str:
        return "x" if l == 0 else f"a{l}"

    def tex(self, symbol: str, l: int) -> str:
        return "x" if symbol == "a" and l == 0 else f"{symbol}^{{[{l}]}}"

    def shape(self, l: int) -> str:
        """The shape of z^l and a^l with the batch: units x m in column layout, m x ... in row layout."""
        per_sample = " x ".join(str(d) for d in self.sizes[l])
        return f"{per_sample} x m" if self.layout.name == "column" else f"m x {per_sample}"


@dataclass(frozen=True)
class Layer(ABC):
    """A built layer: its place in the network's loop. Each layer type subclasses it."""

    TYPE: ClassVar[str]
    # whether a sample's output depends on the other samples of the batch (batchnorm): then no
    # witness may move one entry of every sample at once and read each sample's own loss
    MIXES_SAMPLES: ClassVar[bool] = False
    QUANTITIES: ClassVar[tuple[str, ...]] = ()  # what ``quantities`` names, without the layer index
    STATES: ClassVar[tuple[str, ...]] = ()  # a recurrence's states (h, c): d<state><l> checks dE/d(state) per step
    in_shape: Shape
    layout: Layout
    activation: Activation
    options: Options

    @property
    @abstractmethod
    def out_shape(self) -> Shape: ...

    def parameters(self) -> tuple[Parameter, ...]:
        return ()

    def input_sides(self, cache: Any) -> list[Array]:
        """The layer's own kinks, from its forward's cache: which side of each one its input lies on
        (a max-pool window's argmax). Two evaluations whose sides differ straddle a point where E is
        not differentiable. The activation's kinks are the network loop's (z > 0)."""
        return []

    def inputs_from(self, rng: np.random.Generator, m: int) -> Array:
        """Generated inputs, when this is the first layer: m samples drawn from the seed's stream."""
        return rng.standard_normal((m,) + self.in_shape)

    def input_as_given(self, x: Array) -> Array:
        """The network's input as a derivation and ``--backward`` read it, when this is the first layer
        (an embedding's indices: integers, ready to index with)."""
        return x

    def input_problem(self, x: Array) -> tuple[str, str] | None:
        """What is wrong with explicit inputs this first layer cannot take, and the fix (an embedding's
        indices outside its vocabulary); None when they fit."""
        return None

    def quantities(self, l: int, cache: Any) -> dict[str, Array]:
        """Named arrays of its forward that a derivation or ``--backward`` may read besides z<l> and
        a<l> (a dropout layer's mask<l>)."""
        return {}

    # --- what the layered witness (witness/layered.py) exploits; each has a plain, always-right default

    def perturbed(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array, p: dict[str, Array],
                  z: Array, channel: int | None = None) -> Array:
        """z^l for each of P perturbations (P, *z.shape): entry ``index[k]`` of parameter ``symbol``
        moved by ``deltas[k]``, from the layer's input ``a`` and its unperturbed output ``z``. With
        ``channel`` (every entry's ``channel_of``), only that feature of z: width 1 on its axis.

        This is the forward pass run once per perturbation. A layer type that is affine in its
        parameters overrides it with z + delta D, D the entry's own contribution to z computed from
        the forward's quantities (never from its backward); the tests hold both to the same values."""
        out = np.empty((len(deltas),) + z.shape, dtype=np.result_type(z, deltas))
        for k, delta in enumerate(deltas):
            moved = p[symbol].copy()
            moved[tuple(i[k] for i in index)] += delta
            out[k] = self.forward(a, {**p, symbol: moved})[0]
        return out if channel is None else feature_slice(out, len(self.out_shape), slice(channel, channel + 1))

    def perturbed_with_sides(self, symbol: str, index: tuple[Array, ...], deltas: Array, a: Array,
                             p: dict[str, Array], z: Array, channel: int | None = None) -> tuple[Array, list[Array]]:
        """``perturbed``, and the kink sides of the layer's own inside for each member of the stack (a
        relu recurrence's pre-activations), as ``input_sides`` gives them for one forward pass."""
        return self.perturbed(symbol, index, deltas, a, p, z, channel), []

    def channel_of(self, symbol: str, index: tuple[Array, ...]) -> Array | None:
        """The one feature (channel, or unit) of z that a step of each entry changes, or None where a
        step may change them all."""
        return None

    CHANNEL_LOCAL: ClassVar[bool] = False  # each feature of z from the same feature of a alone (pooling)

    def forward_channels(self, a: Array, p: dict[str, Array], channels: slice) -> tuple[Array, Any, slice]:
        """For a CHANNEL_LOCAL layer: z of the features ``channels`` of the input from those of ``a``
        alone, its cache, and which features of z they are."""
        return (*self.forward(a, p), channels)

    def change_from(self, delta_a: Array, channels: slice, p: dict[str, Array]) -> Array | None:
        """For a layer linear in its input: the change of z when the features ``channels`` of a^(l-1)
        change by ``delta_a`` (the others not at all); None for a layer that is not."""
        return None

    def mistakes(self, l: int, dz: Array, a: Array, p: dict[str, Array]) -> list[Mistake]:
        """The classic wrong derivations of this layer type, for ``diagnose``: each as the value it
        would produce, computed from the *numerical* dE/dz^l (``dz``), the forward's a^(l-1) and the
        parameters, so that no explanation rests on gradcheck's own backward."""
        return []

    @abstractmethod
    def forward(self, a: Array, p: dict[str, Array]) -> tuple[Array, Any]:
        """z^l from a^(l-1) and this layer's parameters by symbol, with what ``backward`` needs."""

    @abstractmethod
    def backward(self, dz: Array, cache: Any) -> tuple[Array, dict[str, Array]]:
        """dE/da^(l-1) and the gradient of each parameter by symbol, from dE/dz^l."""

    @abstractmethod
    def forward_equation(self, l: int, n: Notation) -> Equation:
        """z^l = ..., as ``explain`` prints it."""

    @abstractmethod
    def backward_equations(self, l: int, n: Notation, l2: float) -> list[Equation]:
        """Each parameter's gradient from delta^l, then dE/da^(l-1), as ``explain`` prints them."""
