"""The check table reads in any terminal width: piped output follows COLUMNS; no line is wider, none
ends in spaces, and no name, status or number is cut (the table drops secondary columns, then
stacks its rows, rather than let rich shorten a cell with an ellipsis)."""

from __future__ import annotations

import json
import re

import pytest

from conftest import SPECS, run

WIDTHS = [40, 60, 80, 100, 160]


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads(run("check", "--format", "json", "--jobs", "1", SPECS).stdout)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_table_fits_the_width_and_cuts_nothing(report: dict, width: int) -> None:
    result = run("check", "--jobs", "1", "--color", "never", "-v", SPECS, env={"COLUMNS": str(width)})
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= width
    assert not [line for line in lines if line != line.rstrip()]
    assert "…" not in result.stdout
    words = set(re.split(r"[\s,;()│┃]+", result.stdout))
    for spec in report["specs"]:
        for p in spec["parameters"]:
            assert p["name"] in words and f"{p['max_rel_error']:.2e}" in words, (width, spec["path"], p["name"])
            assert p["status"].upper() in words
        for link in spec["derivation"]:
            assert link["name"] in words and (link["status"] or "-").upper() in words


def test_at_80_columns_the_table_keeps_its_box_and_drops_only_secondary_figures() -> None:
    spec = SPECS / "homework" / "seed004_spiral_kink_mask.yaml"
    narrow = run("check", "--jobs", "1", "--color", "never", spec, env={"COLUMNS": "80"}).stdout
    assert "┃ parameter ┃" in narrow and "max rel err" in narrow and "norm ratio" not in narrow
    wide = run("check", "--jobs", "1", "--color", "never", spec, env={"COLUMNS": "160"}).stdout
    assert "norm ratio" in wide and "|a-n| vs expected" in wide


def test_piped_output_without_columns_is_160_wide() -> None:
    out = run("check", "--jobs", "1", "--color", "never", SPECS / "seed004_relu_no_bias_row.yaml",
              env={"COLUMNS": ""}).stdout
    assert "norm ratio" in out and max(map(len, out.splitlines())) <= 160
