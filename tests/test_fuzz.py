"""Fuzzing: generated and mutated specs end with exit 0, 1 or 2 and never with a traceback.

A bounded number of examples, derandomized, so CI is deterministic and quick.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SMALL_SPECS, run

SEEDS = SMALL_SPECS
FUZZ = settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["sigmoid", "relu", "softmax", "column", "row", "sum",
                                                           "mean", "sse", "cross_entropy", "1e-6", "NO", ".nan"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
layer = st.fixed_dictionaries({"units": st.integers(-1, 6)},
                              optional={"activation": scalars, "bias": scalars, "alpha": scalars})
specs = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 2, "1"]), "input": st.integers(-1, 5), "layers": st.lists(layer, max_size=3),
     "loss": st.one_of(scalars, st.fixed_dictionaries({"name": scalars}, optional={"reduction": scalars}))},
    optional={"data": values, "parameters": values, "l2": scalars, "layout": scalars, "dtype": scalars,
              "check": st.one_of(values, st.fixed_dictionaries({}, optional={
                  "method": st.sampled_from(["central", "richardson", "complex", "secant"]), "eps": scalars})),
              "derivation": st.dictionaries(st.sampled_from(["dz1", "dW1", "g", "db1"]),
                                                             st.text(max_size=30), max_size=3),
              "seed": scalars, "expect": scalars, "trainable": values, "init": values, "extra": values},
)


def check_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = run("check", "--jobs", "1", "--sample", "3", path)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output


@FUZZ
@given(specs)
def test_generated_specs(spec: dict) -> None:
    check_text(yaml.safe_dump(spec, allow_unicode=True))


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10_000), st.text(max_size=6)), min_size=1,
                                         max_size=4))
def test_mutated_bundled_specs(seed: Path, edits: list[tuple[int, str]]) -> None:
    text = seed.read_text()
    for position, insert in edits:  # cut a little and insert something at random places
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + len(insert):]
    check_text(text)
