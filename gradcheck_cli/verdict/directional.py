"""``--fast``: one directional check per parameter, drilled down entry by entry where it fails.

For each parameter a direction d is drawn from the spec's seed (one per parameter, so a small
bias is never drowned by a large weight matrix), and the analytic g . d is compared with the
central difference (E(theta + h d) - E(theta - h d)) / 2h: two forward passes per parameter,
judged by the same rule as an entry (noise floor, kinks included). A parameter whose directional
check does not pass is checked entry by entry with the fast engine, so the report still points
at the wrong entries.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gradcheck_cli.network.network import Network, Params, forward, loss_and_kinks
from gradcheck_cli.verdict.compare import compare_parameter
from gradcheck_cli.verdict.results import ParamResult, Rule, Status
from gradcheck_cli.witness.central import (
    CENTRAL_EPS,
    EPS64,
    ROUNDOFF_FACTOR,
    Witness,
    parameter_scale,
    quotients,
    roundoff_error,
)


def directional_results(net: Network, params: Params, x: np.ndarray, y: np.ndarray, analytic: Params,
                        rule: Rule, seed: int, E: float) -> dict[str, ParamResult]:
    """A result per parameter from its directional check alone (mode "directional")."""
    _, pattern = loss_and_kinks(net, params, x, y)
    results = {}
    for index, (name, theta) in enumerate(params.items()):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2000, index)))
        d = rng.standard_normal(theta.shape)
        scale = max(parameter_scale(theta), float(np.max(np.abs(theta)))) / float(np.max(np.abs(d)))
        if rule.method == "complex":  # Im E(theta + i h d) / h: no cancellation, no kink crossed
            h = rule.eps * scale
            slope = forward(net, {**params, name: theta + 1j * h * d}, x, y).E.imag / h
            witness = _along(name, slope, h, ROUNDOFF_FACTOR * EPS64 * abs(slope), False, slope, slope)
        else:  # central differences, at central's step (a Richardson step is too large for them alone)
            h = (rule.eps if rule.method == "central" else CENTRAL_EPS) * scale
            e_plus, pattern_plus = loss_and_kinks(net, {**params, name: theta + h * d}, x, y)
            e_minus, pattern_minus = loss_and_kinks(net, {**params, name: theta - h * d}, x, y)
            central, step, left, right = quotients(e_plus, e_minus, E, 0.0, h, -h)  # along d: t = 0, +h, -h
            witness = _along(name, central, step, roundoff_error(E, step),
                             pattern_plus != pattern or pattern_minus != pattern, left, right)
        along = compare_parameter(name, np.array(float(np.sum(analytic[name] * d))), witness, rule)
        results[name] = replace(
            along, shape=tuple(theta.shape), analytic=np.asarray(analytic[name], dtype=np.float64),
            numeric=np.full(theta.shape, np.nan), rel_error=np.full(theta.shape, -1.0),
            kink=np.zeros(theta.shape, dtype=bool), checked_entries=0, mode="directional", grad_norm=float("nan"),
        )
    return results


def _along(name: str, slope: float, step: float, expected: float, kink: bool, left: float, right: float) -> Witness:
    """A one-entry witness: the slope along the direction, as an entry of the parameter ``name``."""
    return Witness(gradient={name: np.array(slope)}, step={name: np.array(step)}, expected={name: np.array(expected)},
                   kink={name: np.array(kink)}, left={name: np.array(left)}, right={name: np.array(right)},
                   checked={name: np.array(True)})


def needs_drill_down(result: ParamResult) -> bool:
    return result.status is not Status.PASS
