"""Compare analytic and numerical gradients entry by entry, and give each parameter a verdict.

Tolerance may excuse a disagreement, never certify an agreement. Every entry of the witness comes
with its expected error e (its round-off, 8 eps |E| / h, plus the truncation where the witness
estimated it, see ``witness/methods.py``), to which the rounding of the analytic gradient in the spec's
dtype is added (8 eps_dtype times the parameter's largest gradient). With d = |a - n| and
m = max(|a|, |n|), each entry is:

- FAIL if d > e and d / m > warn_rtol; WARN if d > e and d / m > rtol: the disagreement is larger
  than anything the witness can err by, and a sizeable fraction of the gradient.
- PASS if the relative test can be made and holds: m >= e / rtol (then d <= rtol m follows from
  d <= e); or, in a second, looser tier, m >= e / loose_rtol (1e-2): resolved to 1 %, and counted
  as such; or if a and n are identical.
- INCONCLUSIVE ("below the noise floor") if d <= e and m < e / loose_rtol: the witness cannot resolve
  the entry. It neither passes nor fails; the report counts it, and a parameter whose entries are
  all like this is INCONCLUSIVE, not PASS. So a correct entry that is truly tiny cannot fail, and a
  gradient wrong by a factor of 2 cannot pass, however small its entries: it fails wherever its
  error exceeds e, and is inconclusive where it does not.
- at a kink: judged by the interval between the one-sided slopes (any relu'(0) convention lies in
  it); outside the interval the check cannot decide, which makes the parameter WARN.
- a witness that is not finite at the entry says nothing: INCONCLUSIVE. An analytic value that is
  not finite where the witness is: FAIL.

The reported relative error keeps the floor, ``d / max(m, e / rtol)``, so that entries below the
noise do not show meaningless large ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradcheck_cli.verdict.results import ParamResult, Rule, Status
from gradcheck_cli.witness.central import CENTRAL_EPS, ROUNDOFF_FACTOR, Witness, roundoff_error

DTYPE_NOISE_FACTOR = 8.0
LOOSE_RTOL = 1e-2  # the second tier, for entries too small for rtol to be resolved
# (rtol, warn_rtol) per dtype of the analytic gradient; the reasoning is in the README.
DEFAULT_TOLERANCES = {"float64": (1e-6, 1e-4), "float32": (1e-3, 1e-2)}


def make_rule(dtype: str, loss: float, eps: float = CENTRAL_EPS, method: str = "central", rtol: float | None = None,
              warn_rtol: float | None = None) -> Rule:
    default_rtol, default_warn = DEFAULT_TOLERANCES[dtype]
    rtol = rtol or default_rtol
    warn_rtol = max(warn_rtol or default_warn, rtol)
    return Rule(rtol=rtol, warn_rtol=warn_rtol, eps=eps, noise=float(roundoff_error(loss, eps)), dtype=dtype,
                fd_noise_factor=ROUNDOFF_FACTOR, dtype_noise_factor=DTYPE_NOISE_FACTOR, method=method,
                loose_rtol=max(LOOSE_RTOL, warn_rtol))


@dataclass(frozen=True)
class _Entries:
    """Each entry's class under the rule of the module's docstring (boolean masks of one shape)."""

    failed: np.ndarray
    warned: np.ndarray
    strict: np.ndarray  # resolved to rtol
    loose: np.ndarray  # resolved to loose_rtol only
    noise_limited: np.ndarray  # below both floors
    blind: np.ndarray  # the witness is not finite there
    broken: np.ndarray  # the analytic value is not finite where the witness is
    judged_at_kink: np.ndarray  # crossed a kink: judged by the one-sided slopes' interval
    undecided_at_kink: np.ndarray  # of those, outside the interval


def _classify(a: np.ndarray, n: np.ndarray, diff: np.ndarray, magnitude: np.ndarray, expected: np.ndarray,
              checked: np.ndarray, usable: np.ndarray, witness: Witness, name: str, rule: Rule) -> _Entries:
    """``diff`` = |a - n| and ``magnitude`` = max(|a|, |n|); ``usable``: checked, with a finite witness."""
    kink = witness.kink[name]
    broken = usable & ~np.isfinite(a)
    plain = usable & ~kink & np.isfinite(a)
    beyond = plain & (diff > expected)  # more than the witness can err by
    ratio = diff / magnitude
    failed = broken | (beyond & (ratio > rule.warn_rtol))
    warned = beyond & (ratio > rule.rtol) & ~failed
    del ratio  # every array here is the size of the parameter: none is kept longer than it is needed
    strict = plain & ~beyond & ((magnitude >= expected / rule.rtol) | (diff == 0))
    loose = plain & ~beyond & ~strict & (magnitude >= expected / rule.loose_rtol)
    return _Entries(
        failed=failed,
        warned=warned,
        strict=strict,
        loose=loose,
        noise_limited=plain & ~beyond & ~strict & ~loose,
        blind=checked & ~np.isfinite(n),
        broken=broken,
        judged_at_kink=kink & usable,
        undecided_at_kink=_outside_the_interval(a, expected, kink & usable, witness, name, rule),
    )


def _outside_the_interval(a: np.ndarray, expected: np.ndarray, at: np.ndarray, witness: Witness, name: str,
                          rule: Rule) -> np.ndarray:
    """Entries at a kink whose analytic value lies outside the one-sided slopes' interval, widened by
    the warn tolerance (computed at the kink entries only)."""
    outside = np.zeros(np.shape(at), dtype=bool)
    if not at.any():
        return outside
    left, right = witness.left[name][at], witness.right[name][at]
    low, high, a_at = np.minimum(left, right), np.maximum(left, right), a[at]
    expected_at = expected[at] if np.ndim(expected) else expected
    slack = rule.warn_rtol * np.maximum(np.abs(a_at), 2 * expected_at / rule.rtol)
    outside[at] = ~((a_at >= low - slack) & (a_at <= high + slack))
    return outside


def _verdict(e: _Entries) -> tuple[Status, str]:
    """The parameter's status, and why it is not PASS."""
    if e.failed.any():
        return Status.FAIL, "analytic not finite" if e.broken.any() else "disagrees"
    if e.warned.any() or e.undecided_at_kink.any():
        return Status.WARN, "disagrees slightly" if e.warned.any() else "kink crossed, cannot decide"
    if not (e.strict | e.loose | e.judged_at_kink).any() and (e.noise_limited | e.blind).any():
        return Status.INCONCLUSIVE, "below the noise floor" if e.noise_limited.any() else "witness not finite"
    return Status.PASS, ""


def compare_parameter(name: str, analytic: np.ndarray, witness: Witness, rule: Rule) -> ParamResult:
    """Verdict for one parameter from its analytic gradient and the numerical witness."""
    a = np.asarray(analytic, dtype=np.float64)
    n = witness.gradient[name]
    checked = witness.checked.get(name, np.ones(a.shape, dtype=bool))
    with np.errstate(all="ignore"):
        usable = checked & np.isfinite(n)
        largest = float(np.max(np.abs(n[usable]))) if usable.any() else 0.0
        expected = witness.expected[name] + DTYPE_NOISE_FACTOR * float(np.finfo(rule.dtype).eps) * largest
        # in place where it can be: a parameter of a million entries makes each array 8 MB
        diff = np.asarray(np.subtract(a, n))  # an array even for a shared bias's single number
        np.abs(diff, out=diff)
        diff[~checked] = 0.0  # unchecked entries are NaN: 0, and never judged
        magnitude = np.asarray(np.abs(a))
        np.maximum(magnitude, np.abs(n), out=magnitude)
        e = _classify(a, n, diff, magnitude, expected, checked, usable, witness, name, rule)
        rel = np.asarray(np.maximum(magnitude, expected / rule.rtol))
        np.divide(diff, rel, out=rel)
        rel[~checked] = -1.0
        rel[e.judged_at_kink] = 0.0  # judged by the interval, not by the central difference
        rel[e.broken] = np.inf
        rel[e.blind] = -1.0  # nothing to compare: never the worst entry
        loose_expected = expected[e.loose] if np.ndim(expected) else expected
        loose_resolution = float(np.max(loose_expected / magnitude[e.loose])) if e.loose.any() else 0.0
        denominator = np.linalg.norm(a[usable]) + np.linalg.norm(n[usable])
        norm_ratio = float(np.linalg.norm(diff[usable]) / denominator) if denominator > 0 else 0.0
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
    status, reason = _verdict(e)
    return ParamResult(
        name=name,
        shape=tuple(a.shape),
        status=status,
        max_abs_error=float(np.max(np.where(usable, diff, 0.0))) if diff.size else 0.0,
        max_rel_error=float(rel[worst]) if rel.size else 0.0,
        norm_ratio=norm_ratio,
        grad_norm=float(np.linalg.norm(n)) if usable.all() else float("nan"),  # a sample has no norm
        worst_index=tuple(int(i) for i in worst),
        worst_analytic=float(a[worst]),
        worst_numeric=float(n[worst]),
        worst_error=float(diff[worst]),
        worst_expected=float(expected[worst]) if np.ndim(expected) else float(expected),
        analytic=a,
        numeric=n,
        rel_error=rel,
        kink=witness.kink[name] & checked,
        kink_unresolved=int(e.undecided_at_kink.sum()),
        checked_entries=int(checked.sum()),
        noise_limited=int((e.noise_limited | e.blind).sum()),
        loose_entries=int(e.loose.sum()),
        loose_resolution=loose_resolution,
        reason=reason,
        disagreeing=(e.failed & ~e.broken) | e.warned,  # a re-check could change these: see witness/methods.py
        below_floor=e.noise_limited,
    )
