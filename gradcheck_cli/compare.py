"""Compare analytic and numerical gradients entry by entry, and give each parameter a verdict.

The relative error of an entry is ``|a - n| / max(|a|, |n|, floor)``. Without a floor, entries whose
true value is near zero would fail on round-off alone: central differences cannot resolve anything
below their own noise, which is about ``eps_mach * |E| / h`` (measured on seed 004's first network,
loss 3.2e7: the worst observed error was 0.5-0.6 times that, at every step from 1e-3 to 1e-7).
So the noise is estimated per entry, with a safety factor of 8, plus the rounding of the analytic
gradient in the spec's dtype (8 eps_dtype times the parameter's largest gradient), and the floor
is ``noise / rtol``: an entry passes when ``|a - n| <= max(rtol * max(|a|, |n|), noise)``.
This is why a correct network with a loss of 3e7 passes (its floor scales with E) while a wrong
gradient on the same network still fails: a wrong derivation errs by a fraction of the gradient
itself, far above the noise.
"""

from __future__ import annotations

import numpy as np

from gradcheck_cli.numeric import Witness
from gradcheck_cli.results import ParamResult, Rule, Status

FD_NOISE_FACTOR = 8.0
DTYPE_NOISE_FACTOR = 8.0
DEFAULT_EPS = 1e-6
# (rtol, warn_rtol) per dtype of the analytic gradient; the reasoning is in the README.
DEFAULT_TOLERANCES = {"float64": (1e-6, 1e-4), "float32": (1e-3, 1e-2)}
_EPS64 = float(np.finfo(np.float64).eps)


def make_rule(dtype: str, loss: float, eps: float | None = None, rtol: float | None = None,
              warn_rtol: float | None = None) -> Rule:
    default_rtol, default_warn = DEFAULT_TOLERANCES[dtype]
    eps = eps or DEFAULT_EPS
    rtol = rtol or default_rtol
    warn_rtol = max(warn_rtol or default_warn, rtol)
    return Rule(rtol=rtol, warn_rtol=warn_rtol, eps=eps, noise=float(fd_noise(loss, eps)), dtype=dtype,
                fd_noise_factor=FD_NOISE_FACTOR, dtype_noise_factor=DTYPE_NOISE_FACTOR)


def fd_noise(loss: float, h: np.ndarray | float) -> np.ndarray | float:
    """Round-off scale of a central difference of E with step h."""
    return FD_NOISE_FACTOR * _EPS64 * max(abs(loss), 1.0) / h


def compare_parameter(name: str, analytic: np.ndarray, witness: Witness, loss: float, rule: Rule) -> ParamResult:
    """Verdict for one parameter from its analytic gradient and the numerical witness.

    An entry whose central difference crossed a kink has no derivative to compare with. It is judged
    by the subgradient interval instead: any analytic value between the two one-sided slopes (with
    a ``warn_rtol`` margin, as one-sided differences are only first-order accurate) is consistent,
    such as either convention for relu'(0). A value outside is counted as unresolved: it makes the
    parameter WARN, never PASS and never FAIL, because at a kink the check cannot tell.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n, steps, kink = witness.gradient[name], witness.step[name], witness.kink[name]
    checked = witness.checked.get(name, np.ones(a.shape, dtype=bool))
    with np.errstate(all="ignore"):
        diff = np.where(checked, np.abs(a - n), 0.0)
        largest = float(np.max(np.abs(n[checked]))) if checked.any() else 0.0
        noise = fd_noise(loss, steps) + DTYPE_NOISE_FACTOR * float(np.finfo(rule.dtype).eps) * largest
        scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), noise / rule.rtol)
        rel = np.where(np.isfinite(diff), diff / np.where(checked, scale, 1.0), np.inf)
        low = np.minimum(witness.left[name], witness.right[name])
        high = np.maximum(witness.left[name], witness.right[name])
        slack = rule.warn_rtol * np.maximum(np.abs(a), 2 * noise / rule.rtol)
        unresolved = kink & checked & ~((a >= low - slack) & (a <= high + slack))
        rel[kink] = 0.0  # judged by the interval, not by the central difference
        rel[~checked] = -1.0  # not evaluated (--sample): never the worst entry
        denominator = np.linalg.norm(a[checked]) + np.linalg.norm(n[checked])
        norm_ratio = float(np.linalg.norm((a - n)[checked]) / denominator) if denominator > 0 else 0.0
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
    max_rel = float(rel[worst])
    if not np.isfinite(max_rel) or max_rel > rule.warn_rtol:
        status = Status.FAIL
    elif max_rel > rule.rtol or unresolved.any():
        status = Status.WARN
    else:
        status = Status.PASS
    return ParamResult(
        name=name,
        shape=tuple(a.shape),
        status=status,
        max_abs_error=float(np.max(diff)),
        max_rel_error=max_rel,
        norm_ratio=norm_ratio,
        grad_norm=float(np.linalg.norm(n)) if checked.all() else float("nan"),  # a sample has no norm
        worst_index=tuple(int(i) for i in worst),
        worst_analytic=float(a[worst]),
        worst_numeric=float(n[worst]),
        analytic=a,
        numeric=n,
        rel_error=rel,
        kink=kink,
        kink_unresolved=int(unresolved.sum()),
        checked_entries=int(checked.sum()),
    )
