"""The Python API is what the README says: check(path_or_spec, method, eps, rtol, warn_rtol) returns a
report; any bad input, of any type, is a SpecError (never a KeyError, a TypeError, a RecursionError
or a file descriptor read by accident), and no setting is ignored silently."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradcheck_cli
from conftest import SPECS

SPEC = SPECS / "seed002_two_layer_sigmoid.yaml"
SMALL = {"version": 1, "input": 2, "layers": [{"units": 1}], "loss": "half_sse"}


def test_the_signature_and_names_are_the_readmes() -> None:
    assert list(inspect.signature(gradcheck_cli.check).parameters) == ["path_or_spec", "method", "eps", "rtol",
                                                                       "warn_rtol"]
    assert {"check", "SpecError", "Report", "ParamResult", "Status"} <= set(gradcheck_cli.__all__)
    report = gradcheck_cli.check(str(SPEC))
    assert report.status is gradcheck_cli.Status.PASS and report.loss > 0
    assert [p.name for p in report.params] == ["W1", "b1", "W2", "b2"]
    assert all(isinstance(p.analytic, np.ndarray) and p.max_abs_error >= 0 for p in report.params)


cyclic: list = []
cyclic.append(cyclic)


@pytest.mark.parametrize(("spec", "options", "words"), [
    (SPEC, {"method": "bogus"}, "method must be one of central, richardson, complex"),
    (SPEC, {"eps": 0.0}, "eps must be a finite number"),  # 0 is refused, not taken as "the default"
    (SPEC, {"rtol": 0.0}, "rtol must be a finite number"),
    (SPEC, {"rtol": "1e-3"}, "rtol must be a number, not str"),
    (SPEC, {"warn_rtol": float("nan")}, "warn_rtol must be a finite number"),
    (5, {}, "a spec is a file path or a mapping of its keys, not int"),  # never file descriptor 5
    ([SMALL], {}, "not list"),
    (SPECS / "missing.yaml", {}, "file not found"),
    ({**SMALL, "layers": cyclic}, {}, "nesting deeper than 32 levels"),
    ({**SMALL, "data": {"x": object()}}, {}, "data.x holds a Python object"),
    ({**SMALL, 1: 2}, {}, "every key must be text"),
    ({**SMALL, "data": {"x": [[0.0, 0.0]] * 600_000}}, {}, "more than 500000 values"),
    ({"version": 1}, {}, "missing required key 'input'"),
])
def test_any_bad_input_is_a_spec_error(spec: object, options: dict, words: str) -> None:
    with pytest.raises(gradcheck_cli.SpecError) as caught:
        gradcheck_cli.check(spec, **options)  # type: ignore[arg-type]
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_numpy_data_is_welcome() -> None:
    data = {**SMALL, "input": np.int64(2), "data": {"x": np.ones((3, 2)), "y": np.zeros((3, 1))}}
    assert gradcheck_cli.check(data).status is gradcheck_cli.Status.PASS


def test_a_spec_error_carries_every_problem() -> None:
    bad = {**SMALL, "inputs": 2, "layers": [{"units": 1, "bais": "none"}]}
    with pytest.raises(gradcheck_cli.SpecError) as caught:
        gradcheck_cli.check(bad)
    assert [e.message for e in caught.value.every()] == ["unknown key 'bais' in layers[0]", "unknown key 'inputs'"]
