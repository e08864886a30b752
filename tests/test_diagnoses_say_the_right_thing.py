"""Diagnoses name what is wrong in words that fit the link and the spec: any constant factor on
every kind of link, a transposed da with advice for da, a derivative written with z where a belongs,
a bias summed over the wrong axis, no wrong orientation hidden by equal dimensions, and loss- or
reduction-specific causes only where they apply."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from conftest import run_json


def spec(tmp_path: Path, formulas: dict[str, str], *, layout: str = "column", units: int = 4, batch: int = 5,
         loss: str = "{name: half_sse, reduction: mean}", output: str = "sigmoid") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(f"""
        version: 1
        seed: 5
        layout: {layout}
        input: 3
        layers:
          - {{units: {units}, activation: tanh}}
          - {{units: 2, activation: {output}}}
        loss: {loss}
        data: {{batch: {batch}}}
        derivation:
    """).lstrip() + "".join(f"  {name}: {json.dumps(text)}\n" for name, text in formulas.items()))
    return path


def first_broken(path: Path) -> dict:
    code, report = run_json("--jobs", "1", path)
    assert code == 1, report
    return next(link for link in report["specs"][0]["derivation"] if link["status"] == "fail")


DZ2 = "(a2 - y) * a2 * (1 - a2) / m"  # column layout, half_sse averaged over the batch
DA1 = "W2.T @ dz2"
DZ1 = "da1 * (1 - a1 ** 2)"


@pytest.mark.parametrize(("formulas", "link"), [
    ({"dz2": f"3 * {DZ2}"}, "dz2"),
    ({"dz2": DZ2, "da1": f"3 * {DA1}"}, "da1"),
    ({"dz2": DZ2, "dW2": "3 * dz2 @ a1.T"}, "dW2"),
    ({"dz2": DZ2, "db2": "3 * sum(dz2, axis=1, keepdims=True)"}, "db2"),
    ({"dz2": DZ2, "da1": DA1, "dz1": DZ1, "dW1": "3 * dz1 @ x.T"}, "dW1"),
])
def test_any_constant_factor_is_named_on_every_kind_of_link(tmp_path: Path, formulas: dict[str, str],
                                                             link: str) -> None:
    broken = first_broken(spec(tmp_path, formulas))
    assert broken["name"] == link and "off by a constant factor of 3 everywhere" in broken["diagnosis"], broken


def test_a_factor_close_to_one_is_still_a_factor(tmp_path: Path) -> None:
    broken = first_broken(spec(tmp_path, {"dz2": f"1.0005 * {DZ2}"}))
    assert "off by a constant factor of 1.0005 everywhere" in broken["diagnosis"], broken


@pytest.mark.parametrize(("layout", "formulas", "advice"), [
    ("column", {"dz2": DZ2, "da1": "dz2.T @ W2"}, "write da1 = W2.T @ dz2 in column layout"),
    ("row", {"dz2": "(a2 - y) * a2 * (1 - a2) / m", "da1": "W2 @ dz2.T"}, "write da1 = dz2 @ W2.T in row layout"),
])
def test_a_transposed_da_gets_advice_for_da(tmp_path: Path, layout: str, formulas: dict[str, str],
                                            advice: str) -> None:
    broken = first_broken(spec(tmp_path, formulas, layout=layout))
    assert broken["name"] == "da1" and "transposed" in broken["diagnosis"] and advice in broken["diagnosis"]
    assert "dW" not in broken["diagnosis"], broken


@pytest.mark.parametrize(("formulas", "link", "activation"), [
    ({"dz2": "(a2 - y) * z2 * (1 - z2) / m"}, "dz2", "sigmoid"),
    ({"dz2": DZ2, "da1": DA1, "dz1": "da1 * (1 - z1 ** 2)"}, "dz1", "tanh"),
])
def test_a_derivative_written_with_z_where_a_belongs(tmp_path: Path, formulas: dict[str, str], link: str,
                                                     activation: str) -> None:
    broken = first_broken(spec(tmp_path, formulas))
    assert broken["name"] == link, broken
    assert re.search(rf"derivative of {activation} .* was written with z\d where a\d belongs", broken["diagnosis"])


@pytest.mark.parametrize(("units", "batch"), [(4, 5), (4, 4)])  # 4 x 4: the shapes alone cannot tell
def test_a_bias_summed_over_the_wrong_axis(tmp_path: Path, units: int, batch: int) -> None:
    formulas = {"dz2": DZ2, "da1": DA1, "dz1": DZ1, "db1": "sum(dz1, axis=0, keepdims=True)"}
    broken = first_broken(spec(tmp_path, formulas, units=units, batch=batch))
    assert broken["name"] == "db1" and "summed over the wrong axis" in broken["diagnosis"], broken
    assert "sum(dz1, axis=1, keepdims=True)" in broken["diagnosis"]


def test_equal_dimensions_never_hide_a_wrong_orientation(tmp_path: Path) -> None:
    """A row where b1's column belongs is refused by its shape, though it has the same numbers."""
    formulas = {"dz2": DZ2, "da1": DA1, "dz1": DZ1, "db1": "sum(dz1, axis=1, keepdims=True).T"}
    broken = first_broken(spec(tmp_path, formulas))
    assert broken["name"] == "db1" and broken["shape"] == [1, 4] and broken["expected_shape"] == [4, 1]
    assert "transposed" in broken["diagnosis"] and "sum(dz1, axis=1, keepdims=True)" in broken["diagnosis"]
    code, _ = run_json("--jobs", "1", spec(tmp_path, {**formulas, "db1": "sum(dz1, axis=1)"}))
    assert code == 0  # leaving a singleton out is notation, not a wrong orientation


@pytest.mark.parametrize(("loss", "output", "dz2", "said", "not_said"), [
    ("{name: half_sse, reduction: mean}", "sigmoid", f"2 * {DZ2}", "1/2 (a - y)^2", None),
    ("{name: softmax_cross_entropy, reduction: mean}", "identity", "2 * (softmax(z2) - y) / m", "twice the gradient",
     "(a - y)^2"),
    ("{name: sse, reduction: mean}", "sigmoid", "(a2 - y) * a2 * (1 - a2) / m", "is 2 (a - y)", None),
    ("{name: half_sse, reduction: mean}", "sigmoid", "(a2 - y) * a2 * (1 - a2) / m / m",
     "did you average over the batch twice", "reduction: sum"),
    ("{name: half_sse, reduction: sum}", "sigmoid", "(a2 - y) * a2 * (1 - a2) / m",
     "the loss sums over the batch (reduction: sum)", "twice"),
    ("{name: half_sse, reduction: sum}", "sigmoid", "m * (a2 - y) * a2 * (1 - a2)", "off by a factor of m = 5",
     "averages"),
])
def test_causes_fit_the_loss_and_the_reduction(tmp_path: Path, loss: str, output: str, dz2: str, said: str,
                                               not_said: str | None) -> None:
    broken = first_broken(spec(tmp_path, {"dz2": dz2}, loss=loss, output=output))
    assert said in broken["diagnosis"], broken
    assert not_said is None or not_said not in broken["diagnosis"], broken
