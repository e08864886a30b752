"""Shared helpers: write a spec to a temporary file, run the CLI in-process."""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from gradcheck_cli.cli import cli
from gradcheck_cli.network import network
from gradcheck_cli.network.layers import LAYER_TYPES
from gradcheck_cli.network.layers.base import Layer
from gradcheck_cli.network.network import Network
from gradcheck_cli.witness.central import Witness

SPECS = Path(__file__).resolve().parent.parent / "specs"
# the bundled networks too large for the plain loop's minutes (seed 004's 101k, LeNet's 44k parameters)
LARGE = {"seed004_relu_no_bias_row.yaml", "lenet.yaml"}
LAYER_CHECKS = SPECS / "layer_checks"  # gradcheck layer's specs, with their code beside them
NETWORK_SPECS = sorted(p for p in SPECS.rglob("*.yaml") if LAYER_CHECKS not in p.parents)  # gradcheck check's
SMALL_SPECS = [p for p in NETWORK_SPECS if p.name not in LARGE]


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def run_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = run("check", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout)


SMALL_SPEC = """
    version: 1
    name: small
    seed: 3
    input: 3
    layers:
      - {units: 4, activation: tanh}
      - {units: 2, activation: sigmoid}
    loss: half_sse
    data: {batch: 3}
"""



# A spec whose only gradient is far below the witness's round-off: its check resolves nothing.
BELOW_THE_FLOOR = """
    version: 1
    layout: row
    input: 1
    layers: [{units: 1, bias: none}]
    loss: half_sse
    # E = 100, while dE/dW1 cancels to 1e-12 across the two samples: far below the witness's round-off
    data: {x: [[1.0], [-1.0]], y: [[-9.0], [-10.999999999999]]}
    parameters: {W1: [[1.0]]}
"""


# At a perfect fit every gradient is 0: a zero "broken" gradient is right too, so --self-test cannot fail it.
PERFECT_FIT = """
    version: 1
    input: 1
    layers: [{units: 1}]
    loss: half_sse
    data: {x: [[1.0]], y: [[1.0]]}
    parameters: {W1: [[1.0]], b1: [0.0]}
"""


def derivation(factor: float) -> str:
    """SMALL_SPEC's output layer as a student derives it, with dW2 times ``factor`` (2 fails, 1.00001 warns)."""
    return f"    derivation:\n      dz2: (a2 - y) * a2 * (1 - a2)\n      dW2: {factor} * dz2 @ a1.T\n"


def without_backward(net: Network, monkeypatch: pytest.MonkeyPatch) -> Network:
    """``net`` with every piece of backward code made to raise: each layer's activation derivative,
    the loss's gradient and fused deltas, every layer type's backward and the backprop recursion.
    The network is rebuilt from its parts, since a built network holds its activation and loss
    objects itself (patching the registries would not reach it)."""

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the witness called backward code")

    monkeypatch.setattr(network, "backward", forbidden)
    for module in LAYER_TYPES.values():
        for value in vars(module).values():
            if Layer in getattr(value, "__mro__", ()) and "backward" in vars(value):  # the module's layer class
                monkeypatch.setattr(value, "backward", forbidden)
    loss = dataclasses.replace(net.loss, gradient=forbidden,
                               delta_from_logits={name: forbidden for name in net.loss.delta_from_logits})
    hidden = tuple(dataclasses.replace(layer, activation=dataclasses.replace(layer.activation, backward=forbidden))
                   for layer in net.layers)
    return dataclasses.replace(net, layers=hidden, loss=loss)


def assert_same_witness(naive: Witness, fast: Witness) -> None:
    """Two witnesses of the same entries agree to round-off: the same entries, steps and kink flags,
    and gradients and one-sided slopes within the round-off the verdict allows for."""
    for name, g in naive.gradient.items():
        np.testing.assert_array_equal(fast.checked[name], naive.checked[name])
        np.testing.assert_array_equal(fast.step[name], naive.step[name])
        np.testing.assert_array_equal(fast.kink[name], naive.kink[name])
        checked = naive.checked[name]
        # within one unit of the round-off the verdict already allows for (8 eps |E| / h)
        assert np.all(np.abs(fast.gradient[name] - g)[checked] <= naive.expected[name][checked]), name
        for side in ("left", "right"):
            one_sided = np.abs(getattr(fast, side)[name] - getattr(naive, side)[name])[checked]
            assert np.all(one_sided <= 2 * naive.expected[name][checked]), (name, side)


def session_members(session: int) -> list[str]:
    """The processes (pids) of a session still alive, from Linux's /proc: what a run left behind."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[3]) == session:  # the session id, after state, ppid and pgrp
            members.append(stat.parent.name)
    return members


pytest_plugins = ["pytester"]
