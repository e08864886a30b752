"""The seeds' worked numbers, reproduced through the CLI's JSON output, and layout equivalence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import SPECS, run_json
from gradcheck_cli.run.one_spec import check_file


def test_seed002_published_numbers_through_json() -> None:
    code, report = run_json("--values", SPECS / "seed002_two_layer_sigmoid.yaml")
    assert code == 0
    spec = report["specs"][0]
    params = {p["name"]: p for p in spec["parameters"]}
    assert spec["status"] == "pass"
    assert round(spec["loss"], 9) == 0.298371109  # E_total
    # w5 is W2[0][0] (h1 -> o1), w1 is W1[0][0] (i1 -> h1)
    assert round(params["W2"]["analytic"][0][0], 9) == 0.082167041
    assert round(params["W1"]["analytic"][0][0], 9) == 0.000438568
    # the witness agrees to the printed digits as well
    assert round(params["W2"]["numeric"][0][0], 9) == 0.082167041
    assert round(params["W1"]["numeric"][0][0], 9) == 0.000438568


def test_row_and_column_layout_give_the_same_loss_and_transposed_gradients() -> None:
    column = check_file(SPECS / "seed002_two_layer_sigmoid.yaml")
    row = check_file(SPECS / "seed002_two_layer_sigmoid_row.yaml")
    assert column.loss == pytest.approx(row.loss, rel=1e-15)
    for c, r in zip(column.params, row.params, strict=True):
        assert c.name == r.name
        np.testing.assert_allclose(c.analytic, r.analytic.T, rtol=1e-13)
        np.testing.assert_allclose(c.numeric, r.numeric.T, rtol=1e-8)


def _as_layout(text: str, layout: str) -> str:
    return text.replace("LAYOUT", layout)


@pytest.mark.parametrize("bias", ["per_unit", "shared", "none"])
def test_generated_network_is_the_same_in_both_layouts(write_spec, bias: str) -> None:
    """Explicit parameters written once per layout (transposed) give transposed gradients."""
    W1 = np.arange(12).reshape(4, 3) / 10 - 0.5  # column layout: units x inputs
    W2 = np.arange(8).reshape(2, 4) / 7 - 0.5
    x = [[0.3, -0.2, 0.9], [1.0, 0.5, -0.4]]
    biases = {"per_unit": ("[0.1, -0.2, 0.3, 0.05]", "[0.2, -0.1]"), "shared": ("0.1", "-0.3"), "none": None}[bias]

    def spec(layout: str, w1: np.ndarray, w2: np.ndarray) -> Path:
        params = f"  W1: {w1.tolist()}\n  W2: {w2.tolist()}\n"
        if biases:
            params += f"  b1: {biases[0]}\n  b2: {biases[1]}\n"
        text = f"""
            version: 1
            layout: {layout}
            input: 3
            layers:
              - {{units: 4, activation: tanh, bias: {bias}}}
              - {{units: 2, activation: softmax, bias: {bias}}}
            loss: {{name: cross_entropy, reduction: mean}}
            l2: 0.1
            data:
              x: {x}
              y: [1, 0]
            parameters:
        """
        return write_spec(textwrap.dedent(text).lstrip("\n") + params, name=f"{layout}.yaml")

    column = check_file(spec("column", W1, W2))
    row = check_file(spec("row", W1.T, W2.T))
    if bias == "shared":  # softmax ignores a shift shared by all its inputs: dE/db2 is exactly 0, which no
        # finite difference can resolve (its round-off is all there is): inconclusive, in both layouts
        b2 = [next(p for p in result.params if p.name == "b2") for result in (column, row)]
        assert [p.status.value for p in b2] == ["inconclusive"] * 2 and abs(b2[0].analytic) < 1e-15
        assert all(p.status.value == "pass" for result in (column, row) for p in result.params if p.name != "b2")
    else:
        assert column.status.value == row.status.value == "pass", (column.message, row.message)
    assert column.loss == pytest.approx(row.loss, rel=1e-14)
    for c, r in zip(column.params, row.params, strict=True):
        np.testing.assert_allclose(c.analytic, r.analytic.T, rtol=1e-12, atol=1e-15)
