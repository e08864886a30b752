"""The spec format (version 1) as pydantic models, and the translation of their errors.

pydantic earns its place as the fourth run-time dependency here: it validates every field with the
exact location of each problem (which the source map turns into a line), in strict mode (no bool
where a number is meant, no float where a count is meant), and the same models can emit the JSON
Schema of the format for editors.

Only the shape of the document is checked here; what depends on several fields at once (array
shapes, targets that fit the loss, names of parameters) is checked in ``reading/build.py``.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, ValidationError, model_validator

from gradcheck_cli.errors import SpecError
from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.layers import LAYER_TYPES, type_of
from gradcheck_cli.network.layers.base import PositiveInt, SpecModel
from gradcheck_cli.network.losses import LOSSES
from gradcheck_cli.network.registry import did_you_mean
from gradcheck_cli.reading.loader import KeyPath, SourceMap

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]


_Model = SpecModel



class LossSpec(_Model):
    name: str
    reduction: Literal["sum", "mean"] = "sum"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``loss: half_sse`` is short for ``loss: {name: half_sse}``."""
        return {"name": value} if isinstance(value, str) else value


class DataSpec(_Model):
    x: Any = None  # one sample per row, whatever the layout
    y: Any = None  # rows of targets, or integer class labels
    batch: PositiveInt | None = None  # generate this many samples from the seed instead
    generator: Literal["normal", "spiral"] = "normal"

    @property
    def samples(self) -> int:
        """m, as the data will have it: its explicit samples (a list that is not one is refused when the
        data is read), else the batch to generate, 4 by default. The memory guard and layers whose
        parameters have a row per sample (h0) need it before the data is read."""
        return len(self.x) if isinstance(self.x, list) else self.batch or 4


class InitSpec(_Model):
    weights: PositiveFloat | Literal["lecun"] = "lecun"  # std of W entries; lecun: 1/sqrt(fan_in)
    biases: NonNegativeFloat = 0.1  # std of b entries


class CheckSpec(_Model):
    method: Literal["central", "richardson", "complex"] = "central"  # how the witness differentiates
    eps: PositiveFloat | None = None  # relative step of the witness (default: per method, see witness/methods.py)
    rtol: PositiveFloat | None = None  # largest relative error that passes
    warn_rtol: PositiveFloat | None = None  # largest relative error that only warns


class Spec(_Model):
    version: Literal[1]
    name: str | None = None
    description: str | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    dtype: Literal["float64", "float32"] = "float64"
    layout: Literal["column", "row"] = "column"
    input: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1, max_length=3)]  # [channels, height, width]
    # each entry validated by the model of the layer type its ``type:`` names (``parse_spec``): only
    # the types a spec uses are imported; an entry without ``type:`` is a dense layer
    layers: Annotated[list[Any], Field(min_length=1)]
    loss: LossSpec
    l2: NonNegativeFloat = 0.0
    data: DataSpec = DataSpec(batch=4)
    init: InitSpec = InitSpec()
    parameters: dict[str, Any] = {}
    check: CheckSpec = CheckSpec()
    expect: Literal["pass", "fail"] = "pass"  # fail: a failure demonstrated on purpose (strict xfail)
    derivation: dict[str, str] = {}  # a student's formulas, in order: name -> expression
    # what the derivation's dz<l>/da<l> are gradients of: E itself, or the sum of the per-sample losses
    # (m dE/dz for reduction: mean; 1/m only in dW and db), as Ng's course and seed 000 write them
    deltas: Literal["of_E", "per_sample"] = "of_E"
    trainable: dict[str, bool] = {}  # `gradcheck step` leaves parameters set to false here unchanged


class NotASpecError(SpecError):
    """YAML that is not a gradcheck spec at all; skipped when found by searching a folder.

    A spec is recognised by ``version: 1``, the integer: a compose file's ``version: "3.8"``,
    dependabot's ``version: 2``, or ``version: true`` and ``1.0`` (which Python would call equal to 1)
    are not specs."""


def is_layer_check(data: Any) -> bool:
    """A layer check (``gradcheck layer``'s spec) names functions and has no layers, which a network has."""
    return isinstance(data, dict) and "function" in data and "layers" not in data


def parse_spec(data: Any, source: SourceMap) -> Spec:
    """Validate loaded YAML data as a :class:`Spec`; the first problem becomes a :class:`SpecError`."""
    if is_layer_check(data):
        raise NotASpecError("a layer check (it names function:, and has no layers:), not a network spec",
                            file=source.file, line=source.line(("function",)),
                            hint="run it with gradcheck layer SPEC --code FILE.py")
    if not isinstance(data, dict) or "version" not in data:
        what = "no 'version' key" if isinstance(data, dict) else "not a mapping of keys to values"
        raise NotASpecError(f"not a gradcheck spec: {what}", file=source.file, line=source.line(()),
                            hint="a spec starts with 'version: 1'")
    version = data["version"]
    if type(version) is not int or version != 1:
        raise NotASpecError(f"not a gradcheck spec: version is {_describe(version)}, not 1", file=source.file,
                            line=source.line(("version",)), hint="a spec starts with 'version: 1'")
    errors: list[Any] = []
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        errors += exc.errors(include_url=False)
    entries = data.get("layers")
    layers = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        kind = type_of(entry)
        if not isinstance(entry, dict) or not isinstance(kind, str) or kind not in LAYER_TYPES:
            errors.append({"type": "unknown_layer_type", "loc": ("layers", i), "input": entry})
            continue
        try:
            layers.append(LAYER_TYPES[kind].SPEC.model_validate(entry))
        except ValidationError as exc:  # the type in the location, to find the keys it allows (_fields_at)
            errors += [{**e, "loc": ("layers", i, kind, *e["loc"])} for e in exc.errors(include_url=False)]
    if errors:  # the spec's problems and every layer's, at once, in the order of the document's keys
        order = {key: i for i, key in enumerate(data)}
        errors.sort(key=lambda e: order.get(e["loc"][0], len(order)) if e["loc"] else -1)
        raise translate(errors, source) from None
    return spec.model_copy(update={"layers": layers})


_EXPECTED = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "finite_number": "a finite number",
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
}


def translate(errors: list[Any], source: SourceMap, root: type[BaseModel] | None = None,
              prefix: KeyPath = ()) -> SpecError:
    """One line per problem, every problem at once; a field that accepts several kinds (a union) is one
    problem listing them all. ``root``: the model the errors' locations start from (a network spec's by
    default), found at ``prefix`` in the document (a layer check's reference: the layer type's model)."""
    by_place: dict[KeyPath, list[Any]] = {}
    for error in errors:
        by_place.setdefault(_clean(error["loc"]), []).append(error)
    raw = {_clean(error["loc"]): error["loc"] for error in errors}  # with the layer type, to find its keys
    # a misspelled key also makes the key it was meant to be "missing": report only the misspelling
    misspelled_in = {loc[:-1] for loc, group in by_place.items() if group[0]["type"] == "extra_forbidden"}
    problems = [_problem(loc, raw[loc], group, source, root or Spec, prefix) for loc, group in by_place.items()
                if not (group[0]["type"] == "missing" and loc[:-1] in misspelled_in)]
    return SpecError.all_of(sorted(problems, key=lambda e: e.line or 0))


def _problem(relative: KeyPath, raw: tuple[Any, ...], errors: list[Any], source: SourceMap,
             root: type[BaseModel], prefix: KeyPath) -> SpecError:
    first, loc = errors[0], prefix + relative
    where = _dotted(loc)
    if first["type"] == "extra_forbidden":
        key = str(loc[-1])
        hint = did_you_mean(key, sorted(_fields_at(raw[:-1], root)))
        return source.error(loc, f"unknown key {key!r}" + (f" in {_dotted(loc[:-1])}" if loc[:-1] else ""), hint)
    if first["type"] == "missing":
        return source.error(loc, f"missing required key {where!r}", "add it")
    if first["type"] == "unknown_layer_type":
        entry = first.get("input")
        if not isinstance(entry, dict):
            return source.error(loc, f"{where} must be a mapping of keys to values, not {_describe(entry)}")
        kind = entry.get("type")
        if not isinstance(kind, str):
            return source.error(loc + ("type",), f"{where}.type must be text, not {_describe(kind)}")
        return source.error(loc + ("type",), f"unknown layer type {kind!r}", did_you_mean(kind, sorted(LAYER_TYPES)))
    if first["type"] == "too_short":
        return source.error(loc, f"{where} must not be empty")
    if first["type"] == "value_error":  # a model's own rule, in its words
        return source.error(loc, f"{where}: {str(first.get('msg', '')).removeprefix('Value error, ')}")
    alternatives = dict.fromkeys(_expected(e) for e in errors)
    return source.error(loc, f"{where} must be {' or '.join(alternatives)}, not {_describe(first.get('input'))}")


def _expected(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "literal_error":
        return str(ctx["expected"])
    if kind == "greater_than":
        return f"greater than {ctx['gt']:g}"
    if kind == "greater_than_equal":
        return f"at least {ctx['ge']:g}"
    return _EXPECTED.get(kind, str(error["msg"]).lower())


def _clean(loc: tuple[Any, ...]) -> KeyPath:
    """pydantic puts the union member it tried into error locations (e.g. 'float', "literal['lecun']"),
    and a layer entry's type after its index ('layers', 0, 'dense', 'units')."""
    return tuple(part for i, part in enumerate(loc) if not (
        isinstance(part, str) and (part in ("int", "float", "str", "bool") or _is_layer_tag(loc, i)
                                   or part.startswith(("literal[", "function-", "constrained-", "list[")))))


def _is_layer_tag(loc: tuple[Any, ...], i: int) -> bool:
    return i == 2 and loc[0] == "layers" and loc[i] in LAYER_TYPES


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    return {list: "a list", dict: "a mapping", type(None): "empty"}.get(type(value), type(value).__name__)


def _dotted(loc: KeyPath) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the spec"


def _fields_at(loc: KeyPath, root: type[BaseModel]) -> set[str]:
    """The keys allowed at ``loc``: walk the model classes along the path."""
    model: Any = root
    if len(loc) > 2 and _is_layer_tag(loc, 2):  # ('layers', i, type, ...): that type's model
        model, loc = LAYER_TYPES[loc[2]].SPEC, loc[3:]
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        model = _model_in(annotation)
        if model is None:
            return set()
    return {field.alias or name for name, field in model.model_fields.items()}  # as a spec writes them


def _model_in(annotation: Any) -> type[BaseModel] | None:
    # generics first: on Python 3.10, list[DataSpec] passes isinstance(..., type) but not issubclass
    if typing.get_origin(annotation) in (list, Union, types.UnionType, Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the format, from the models, with the registries' names as enums."""
    schema = Spec.model_json_schema()
    defs = schema["$defs"]
    for module in LAYER_TYPES.values():  # every layer type's model, one of which each entry is
        layer = module.SPEC.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(layer.pop("$defs", {}))
        defs[module.SPEC.__name__] = layer
    schema["properties"]["layers"]["items"] = {
        "oneOf": [{"$ref": f"#/$defs/{module.SPEC.__name__}"} for module in LAYER_TYPES.values()]}
    schema["title"] = "gradcheck spec, format version 1"
    for module in LAYER_TYPES.values():
        properties = defs[module.SPEC.__name__]["properties"]
        if "activation" in properties:
            properties["activation"]["enum"] = sorted(ACTIVATIONS)
    defs["LossSpec"]["properties"]["name"]["enum"] = sorted(LOSSES)
    schema["properties"]["loss"] = {  # the shorthand `loss: half_sse` is allowed too
        "anyOf": [{"$ref": "#/$defs/LossSpec"}, {"type": "string", "enum": sorted(LOSSES)}]
    }
    symbols = sorted({symbol for module in LAYER_TYPES.values() for symbol in module.SYMBOLS})
    schema["properties"]["parameters"]["propertyNames"] = {"pattern": f"^({'|'.join(symbols)})[1-9][0-9]*$"}
    return schema
