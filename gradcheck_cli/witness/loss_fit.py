"""A sample's loss as a polynomial in one number, fitted to loss values: the fast engine's fitted loss.

Perturbing one weight of unit j of layer l changes each sample's loss only through that sample's
activation change Da_j (see ``fast_numeric.py``). When nothing after layer l has a kink, the loss is
a smooth function of Da_j, and over the tiny range the steps of a central difference span
(|Da_j| <= R) a polynomial of low degree reproduces it to round-off. The engine evaluates the rest
of the network for real at the 9 points ``POINTS`` * R (7 Chebyshev points of [-1, 1] and both
ends, where a fit's error is largest) and hands the loss values to ``fit``, which returns the
least-squares polynomial of the lowest degree in ``DEGREES`` whose residuals stay within the given
tolerance, or None. ``summed_change`` then gives, for every perturbation at once, the sum over the
samples of p(Da / R) - p(0).

Nothing here knows a derivative: the polynomials come from loss values alone, and are kept only
where they reproduce those values to within a share of the round-off that the verdict already
allows for a central difference (``tolerance``).
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.witness.central import EPS64, ROUNDOFF_FACTOR

Array = np.ndarray

POINTS = np.concatenate([np.cos((2 * np.arange(7) + 1) * np.pi / 14), [1.0, -1.0]])
DEGREES = (2, 3, 4, 6)  # tried lowest first
SHARE = 0.25  # of the round-off a central difference is allowed (``numeric.roundoff_error``)


def _powers(t: Array, degree: int) -> Array:
    """Rows (1, t, t^2, ..., t^degree) for each t: the values of a polynomial's terms."""
    return np.vander(t, degree + 1, increasing=True)


_FITS = {d: np.linalg.pinv(_powers(POINTS, d)) for d in DEGREES}  # coefficients from values at POINTS
_RESIDUALS = {d: np.eye(len(POINTS)) - _powers(POINTS, d) @ _FITS[d] for d in DEGREES}  # values minus fit


def tolerance(E: float, divisor: int) -> float:
    """How far the fits may miss, summed over the samples, in units of the summed losses: ``SHARE`` of
    the round-off 8 eps |E| / h that each of E(theta + h) and E(theta - h) is allowed."""
    return SHARE * 2 * ROUNDOFF_FACTOR * EPS64 * max(abs(E), 1.0) * divisor


def fit(values: Array, tolerance: float) -> Array | None:
    """Coefficients (degree + 1, samples) of the lowest-degree least-squares polynomials through
    ``values`` (one column of 9 per sample, at ``POINTS``) that miss them by at most ``tolerance``
    (the largest residual of each sample, summed over the samples); None if no degree does."""
    for degree in DEGREES:
        residuals = _RESIDUALS[degree] @ values
        if np.isfinite(residuals).all() and np.abs(residuals).max(axis=0, initial=0.0).sum() <= tolerance:
            return _FITS[degree] @ values
    return None


def summed_change(t: Array, coefficients: Array) -> Array:
    """For each row of ``t`` (perturbations x samples): the sum over the samples of p(t) - p(0),
    that is of c_1 t + c_2 t^2 + ..., each sample with its own coefficients."""
    power, change = t, t @ coefficients[1]
    for c in coefficients[2:]:
        power = power * t
        change += power @ c
    return change
