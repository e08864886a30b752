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
    # by the MRO: on Python 3.10 a generic alias such as tuple[int, ...] passes isinstance(v, type)
    classes = [v for v in vars(module).values() if Layer in getattr(v, "__mro__", ())]
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


def _parameterised_layers() -> list[tuple[str, Layer, tuple[int, ...]]]:
    """One built layer of every type with parameters, with the shape of a batch of its input."""
    from layer_witness import place

    from gradcheck_cli.network.layers import batchnorm, conv2d, dense, layernorm

    return [
        ("dense row", dense.build(dense.DenseSpec(units=3), (4,), place("row")), (2, 4)),
        ("dense column", dense.build(dense.DenseSpec(units=3, bias="shared"), (4,), place("column")), (4, 2)),
        ("conv2d", conv2d.build(conv2d.Conv2dSpec(type="conv2d", filters=3, kernel=2, stride=2, padding=1),
                                (2, 4, 4), place()), (2, 2, 4, 4)),
        ("conv2d shared", conv2d.build(conv2d.Conv2dSpec(type="conv2d", filters=2, kernel=3, bias="shared"),
                                       (1, 3, 3), place()), (2, 1, 3, 3)),
        ("batchnorm", batchnorm.build(batchnorm.BatchnormSpec(type="batchnorm"), (3, 2, 2), place()), (4, 3, 2, 2)),
        ("layernorm", layernorm.build(layernorm.LayernormSpec(type="layernorm"), (5,), place()), (3, 5)),
    ]


@pytest.mark.parametrize("case", range(6))
def test_each_affine_shortcut_equals_the_forward_run_per_perturbation(case: int) -> None:
    """What the layered witness uses (z + h D, one channel at a time) against the plain definition in
    Layer.perturbed: the layer's own forward, once per perturbed entry."""
    import numpy as np
    from layer_witness import random_params

    _, layer, shape = _parameterised_layers()[case]
    rng = np.random.default_rng(case)
    a, p = rng.standard_normal(shape), random_params(layer, rng)
    z = layer.forward(a, p)[0]
    for param in layer.parameters():
        flat = np.arange(max(1, int(np.prod(param.shape))))
        index = np.unravel_index(flat, param.shape) if param.shape else ()
        deltas = rng.standard_normal(flat.size) * 1e-3
        plain = Layer.perturbed(layer, param.symbol, index, deltas, a, p, z)
        np.testing.assert_allclose(layer.perturbed(param.symbol, index, deltas, a, p, z), plain, rtol=1e-10,
                                   atol=1e-12, err_msg=param.symbol)
        channels = layer.channel_of(param.symbol, index)
        if channels is None:
            continue
        for c in np.unique(channels):  # one channel's entries, only that channel of z kept
            chosen = tuple(i[channels == c] for i in index)
            mine = layer.perturbed(param.symbol, chosen, deltas[channels == c], a, p, z, channel=int(c))
            reference = Layer.perturbed(layer, param.symbol, chosen, deltas[channels == c], a, p, z, channel=int(c))
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12, err_msg=f"{param.symbol} {c}")
            assert mine.shape[2] == 1
