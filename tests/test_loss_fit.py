"""The fitted loss's polynomials: the lowest degree that reproduces the values, or none."""

from __future__ import annotations

import numpy as np
import pytest

from gradcheck_cli.witness import loss_fit
from gradcheck_cli.witness.central import EPS64

T = loss_fit.POINTS


def test_a_quadratic_is_fitted_at_degree_2_with_its_own_coefficients() -> None:
    coefficients = np.array([[1.5, -2.0], [0.25, 3.0], [-0.5, 0.125]])  # (degree + 1, samples)
    values = np.vander(T, 3, increasing=True) @ coefficients
    fitted = loss_fit.fit(values, tolerance=1e-12)
    assert fitted is not None and fitted.shape == (3, 2)
    np.testing.assert_allclose(fitted, coefficients, atol=1e-14)


def test_a_cubic_needs_degree_3_and_a_sixth_power_degree_6() -> None:
    cubic = (T - T**3)[:, None]
    sixth = (T**6)[:, None]
    fitted_cubic, fitted_sixth = loss_fit.fit(cubic, 1e-12), loss_fit.fit(sixth, 1e-12)
    assert fitted_cubic is not None and len(fitted_cubic) == 4
    assert fitted_sixth is not None and len(fitted_sixth) == 7


def test_a_smooth_function_over_a_small_range_fits_and_a_kink_does_not() -> None:
    """tanh over +-1e-3 around a point fits to round-off; |t| (a kink inside the range) fits no degree
    to within 1e-6, so the engine would run the exact stack instead."""
    smooth = np.tanh(0.3 + 1e-3 * T)[:, None] - np.tanh(0.3)
    assert loss_fit.fit(smooth, tolerance=4 * EPS64) is not None
    assert loss_fit.fit(np.abs(T)[:, None], tolerance=1e-6) is None


def test_the_tolerance_is_summed_over_the_samples() -> None:
    """Two samples each missing by about 0.6 tolerances fit one at a time, not together."""
    wiggle = 1e-9 * (np.vander(T, 8, increasing=True)[:, 7])[:, None]  # t^7: no degree <= 6 has it
    alone = np.abs(wiggle - np.vander(T, 7, increasing=True) @ np.linalg.lstsq(
        np.vander(T, 7, increasing=True), wiggle, rcond=None)[0]).max()
    tolerance = 1.7 * alone
    assert loss_fit.fit(wiggle, tolerance) is not None
    assert loss_fit.fit(np.hstack([wiggle, wiggle]), tolerance) is None


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_values_that_are_not_finite_fit_nothing(bad: float) -> None:
    values = np.vander(T, 3, increasing=True) @ np.ones((3, 2))
    values[4, 1] = bad
    assert loss_fit.fit(values, tolerance=np.inf) is None


def test_summed_change_is_the_sum_over_the_samples_of_p_t_minus_p_0() -> None:
    rng = np.random.default_rng(1)
    coefficients = rng.normal(size=(4, 5))
    t = rng.uniform(-1, 1, size=(6, 5))
    direct = sum(np.polynomial.polynomial.polyval(t[:, n], coefficients[:, n]) - coefficients[0, n]
                 for n in range(5))
    np.testing.assert_allclose(loss_fit.summed_change(t, coefficients), direct, rtol=1e-13, atol=1e-15)


def test_the_tolerance_follows_the_round_off_the_verdict_allows() -> None:
    assert loss_fit.tolerance(1e3, 4) == pytest.approx(1e3 * loss_fit.tolerance(1.0, 4))
    assert loss_fit.tolerance(1e-3, 1) == loss_fit.tolerance(1.0, 1)  # max(|E|, 1), as the round-off
    assert loss_fit.tolerance(2.0, 32) == pytest.approx(32 * loss_fit.tolerance(2.0, 1))
