"""The spec of ``gradcheck layer``: one layer's own forward and backward functions, the arrays they
take, and optionally a registry layer to compare with.

    version: 1
    function: {forward: conv_forward_naive, backward: conv_backward_naive}
    inputs: {x: [2, 3, 5, 5], w: [3, 3, 3, 3], b: [3]}
    config: {stride: 2, pad: 1}
    reference: {type: conv2d, stride: 2, padding: 1}
    seed: 231

An input is a shape (drawn from the seed, standard normal), ``{values: ...}`` (nested lists), or
``{shape: [...], below: K}`` (integers in 0..K-1: labels, word indices; they get no gradient, and
``{values: ..., integer: true}`` gives them explicitly). ``outputs`` names the forward's arrays
before its cache (``[next_h, next_c]`` for cs231n's lstm_step_forward; one, ``out``, by default).
``function: {loss: softmax_loss}`` is a loss function returning (loss, dx) instead. ``conventions``
declares the layouts the courses differ on (NHWC images and Ng's f x f x C x F kernels, a dense W
stored units x inputs, an LSTM's gates in torch's order); the reference converts, the student's
code is called with the arrays as declared. The code file
is named on the command line only (``--code``), never here: a spec may come from a pull request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from gradcheck_cli.network.layers.base import PositiveInt, SpecModel
from gradcheck_cli.reading.data import numbers, seeded
from gradcheck_cli.reading.loader import SourceMap
from gradcheck_cli.reading.model import CheckSpec, NotASpecError, is_layer_check, translate
from gradcheck_cli.verdict.limits import settings_problem

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]
MAX_DRAWN = 2_000_000  # numbers a layer check may draw: 16 MB, and two forward calls for each one witnessed


class FunctionSpec(SpecModel):
    """Which functions of the ``--code`` file to call."""

    forward: Name | None = None
    backward: Name | None = None
    loss: Name | None = None  # a loss function: (scores, labels) -> (loss, dscores)

    @model_validator(mode="after")
    def _one_kind(self) -> FunctionSpec:
        if self.loss is None and (self.forward is None or self.backward is None):
            raise ValueError("give forward and backward, or loss")
        if self.loss is not None and (self.forward is not None or self.backward is not None):
            raise ValueError("give forward and backward, or loss, not both")
        return self


class DrawnIntegers(SpecModel):
    shape: Annotated[list[PositiveInt], Field(max_length=6)]
    below: PositiveInt  # integers drawn uniformly in 0..below-1


class GivenValues(SpecModel):
    values: Any
    integer: bool = False


Array = Annotated[list[PositiveInt], Field(max_length=6)] | DrawnIntegers | GivenValues


class GivenDict(SpecModel):
    """A dict argument of named arrays (Ng's ``parameters``): each named as it is in the dict."""

    arrays: Annotated[dict[Name, Array], Field(min_length=1)]


Input = Array | GivenDict


class Conventions(SpecModel):
    """How the student's arrays are laid out where the courses differ; the reference converts them."""

    layout: Literal["NCHW", "NHWC"] = "NCHW"  # images channels first (cs231n, torch) or last (Ng: W is f x f x C x F)
    linear: Literal["in_out", "out_in"] = "in_out"  # a dense W: inputs x units (cs231n), units x inputs (torch, CMU)
    # an LSTM's gates: stacked in cs231n's order or torch's, or Ng's separate Wf, Wi, Wc, Wo (n_a x (n_a + n_x),
    # on [a_prev; x]) with bf, bi, bc, bo
    gates: Literal["ifog", "ifgo", "separate"] = "ifog"
    sequence: Literal["NTD", "DNT"] = "NTD"  # a sequence: samples x steps x features (cs231n), or Ng's n_x x m x T_x


class LayerCheckSpec(SpecModel):
    version: Literal[1]
    name: str | None = None
    description: str | None = None
    function: FunctionSpec
    inputs: Annotated[dict[Name, Input], Field(min_length=1)]
    outputs: Annotated[list[Name], Field(min_length=1)] = ["out"]
    upstream: list[Name] | None = None  # the outputs the backward takes a gradient of (all, by default)
    config: dict[str, Any] | None = None  # passed as the last argument, a fresh copy each call
    reference: dict[str, Any] | None = None  # {type: conv2d, ...}, {activation: relu} or {loss: ...}
    conventions: Conventions = Conventions()
    seed: Annotated[int, Field(ge=0)] = 0
    check: CheckSpec = CheckSpec()
    expect: Literal["pass", "fail"] = "pass"


@dataclass(frozen=True)
class LayerCase:
    """A layer check ready to run: the spec and its arrays, in the order the functions take them."""

    spec: LayerCheckSpec
    arrays: dict[str, np.ndarray]  # every array by its name, a dict argument's members flattened in
    integer: frozenset[str]  # inputs that get no gradient
    source: SourceMap
    members: dict[str, list[str]]  # a dict argument's name -> the names of its arrays

    @property
    def differentiable(self) -> list[str]:
        return [name for name in self.arrays if name not in self.integer]

    @property
    def upstream(self) -> list[str]:
        return self.spec.upstream if self.spec.upstream is not None else self.spec.outputs

    def arguments(self, arrays: dict[str, np.ndarray]) -> list[object]:
        """The function's arguments in order, from arrays by name: an array, or a dict of them."""
        return [{member: arrays[member] for member in self.members[name]} if name in self.members else arrays[name]
                for name in self.spec.inputs]

    def rng(self) -> np.random.Generator:
        """The seed's stream for the upstream gradients, apart from the inputs' own."""
        return seeded(self.spec.seed, 1)


def parse_layer_check(data: Any, source: SourceMap) -> LayerCase:
    """Validate a layer check and draw its arrays; every problem is a :class:`SpecError` with its line."""
    if not is_layer_check(data) or data.get("version") != 1 or type(data.get("version")) is not int:
        raise NotASpecError("not a layer check: it needs 'version: 1' and 'function:' (and no 'layers:')",
                            file=source.file, line=source.line(()),
                            hint="a network spec runs with gradcheck check; a layer check names its functions")
    try:
        spec = LayerCheckSpec.model_validate(data)
    except ValidationError as exc:
        raise translate(exc.errors(include_url=False), source, LayerCheckSpec) from None
    _check_settings(spec, source)
    arrays, integer, members = _drawn(spec, source)
    return LayerCase(spec, arrays, frozenset(integer), source, members)


def _check_settings(spec: LayerCheckSpec, source: SourceMap) -> None:
    """What the model alone cannot tell: the check's settings in their ranges, upstream among the outputs."""
    if spec.check.method != "central":  # a setting that would be ignored would make a PASS mean less
        raise source.error(("check", "method"), f"gradcheck layer witnesses by central differences, not "
                           f"{spec.check.method}", "remove check.method (eps, rtol and warn_rtol apply)")
    key, problem = settings_problem("central", spec.check.eps, spec.check.rtol, spec.check.warn_rtol)
    if problem:  # a spec's own tolerances must not be able to switch its gate off
        raise source.error(("check", key), f"check.{problem}")
    unknown = sorted(set(spec.upstream or []) - set(spec.outputs))
    if unknown:
        raise source.error(("upstream",), f"upstream names {unknown[0]!r}, which is not one of the outputs",
                           f"outputs: {', '.join(spec.outputs)}")


def _drawn(spec: LayerCheckSpec, source: SourceMap) -> tuple[dict[str, np.ndarray], set[str], dict[str, list[str]]]:
    """Every array by name (drawn from the seed, or as given), the integer ones, and each dict argument's
    members, in the order of the arguments."""
    rng = seeded(spec.seed, 0)
    arrays: dict[str, np.ndarray] = {}
    integer: set[str] = set()
    members: dict[str, list[str]] = {}
    leaves: list[tuple[tuple[str, ...], str, Any]] = []  # (place in the spec, name, what it says), in order
    for name, given in spec.inputs.items():
        if isinstance(given, GivenDict):
            members[name] = list(given.arrays)
            leaves += [(("inputs", name, "arrays", member), member, value) for member, value in given.arrays.items()]
        else:
            leaves.append((("inputs", name), name, given))
    taken = [name for _, name, _ in leaves]
    drawn = sum(int(np.prod(given if isinstance(given, list) else given.shape)) for _, _, given in leaves
                if not isinstance(given, GivenValues))
    if drawn > MAX_DRAWN:
        raise source.error(("inputs",), f"the inputs' shapes ask for {drawn:,} numbers, more than the "
                           f"{MAX_DRAWN:,} a layer check draws", "a layer is checked on small inputs: a few per axis")
    for path, name, given in leaves:
        if taken.count(name) > 1:
            raise source.error(path, f"two inputs are named {name!r}", "every array needs a name of its own")
        if isinstance(given, list):
            arrays[name] = rng.standard_normal(tuple(given))
        elif isinstance(given, DrawnIntegers):
            arrays[name] = rng.integers(0, given.below, size=tuple(given.shape))
            integer.add(name)
        else:
            values = numbers(given.values, path + ("values",), source)
            if given.integer:
                if not np.all(values == np.round(values)):
                    raise source.error(path + ("values",), f"inputs.{name} is integer: true, but holds fractions")
                values = values.astype(np.int64)
                integer.add(name)
            arrays[name] = values
    if not set(arrays) - integer:
        raise source.error(("inputs",), "every input is integer, so no gradient would be checked",
                           "give at least one input as a shape or as values")
    return arrays, integer, members
