"""The layer registry: every type provides what the rest of gradcheck reads, has its own test file,
and a spec naming an unknown type is one clear error."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest

from conftest import run
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import Layer

HERE = Path(__file__).parent


@pytest.mark.parametrize("name", sorted(LAYER_TYPES))
def test_every_layer_type_is_a_complete_module_with_its_own_tests(name: str) -> None:
    module = LAYER_TYPES[name]
    assert module.TYPE == name and typing.get_args(module.SPEC.model_fields["type"].annotation) == (name,)
    assert callable(module.build) and isinstance(module.SYMBOLS, tuple) and set(module.LAYOUTS) <= {"row", "column"}
    classes = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Layer)]
    assert any(getattr(c, "TYPE", None) == name for c in classes)
    assert (HERE / f"test_{name}.py").is_file()


@pytest.mark.parametrize(("entry", "message"), [
    ("{type: conv, filters: 2}", "unknown layer type 'conv'"),
    ("{type: 3}", "layers[0].type must be text, not 3"),
    ("5", "layers[0] must be a mapping of keys to values, not 5"),
])
def test_an_unknown_layer_type_is_one_clear_line(write_spec, entry: str, message: str) -> None:
    path = write_spec(f"version: 1\ninput: 2\nlayers:\n  - {entry}\nloss: half_sse\n")
    result = run("check", path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.splitlines()[0]]
    assert result.stderr.startswith(f"{path}:4: error: {message}")


def test_a_misspelled_key_of_a_layer_is_suggested_from_its_own_type(write_spec) -> None:
    result = run("check", write_spec("version: 1\ninput: 2\nlayers:\n  - {type: dense, unitz: 3}\nloss: half_sse\n"))
    assert result.exit_code == 2 and "unknown key 'unitz' in layers[0]; did you mean 'units'?" in result.stderr


def test_type_dense_is_the_default(write_spec) -> None:
    plain = run("check", "--format", "json", write_spec("version: 1\ninput: 2\nlayers: [{units: 3}]\nloss: sse\n"))
    typed = run("check", "--format", "json",
                write_spec("version: 1\ninput: 2\nlayers: [{type: dense, units: 3}]\nloss: sse\n", "typed.yaml"))
    assert plain.exit_code == typed.exit_code == 0
    [one], [other] = (json.loads(result.stdout)["specs"] for result in (plain, typed))
    assert one["loss"] == other["loss"] and one["parameters"] == other["parameters"]
