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


SLICE = 1 << 16  # entries judged at a time: a parameter of millions never has temporaries of its own size


@dataclass(frozen=True)
class _Entries:
    """Each entry's class under the rule of the module's docstring (boolean masks of one slice)."""

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
              checked: np.ndarray, usable: np.ndarray, kink: np.ndarray, left: np.ndarray, right: np.ndarray,
              rule: Rule) -> _Entries:
    """``diff`` = |a - n| and ``magnitude`` = max(|a|, |n|); ``usable``: checked, with a finite witness."""
    broken = usable & ~np.isfinite(a)
    plain = usable & ~kink & np.isfinite(a)
    beyond = plain & (diff > expected)  # more than the witness can err by
    ratio = diff / magnitude
    failed = broken | (beyond & (ratio > rule.warn_rtol))
    warned = beyond & (ratio > rule.rtol) & ~failed
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
        undecided_at_kink=_outside_the_interval(a, expected, kink & usable, left, right, rule),
    )


def _outside_the_interval(a: np.ndarray, expected: np.ndarray, at: np.ndarray, left: np.ndarray, right: np.ndarray,
                          rule: Rule) -> np.ndarray:
    """Entries at a kink whose analytic value lies outside the one-sided slopes' interval, widened by
    the warn tolerance (computed at the kink entries only)."""
    outside = np.zeros(np.shape(at), dtype=bool)
    if not at.any():
        return outside
    low, high, a_at = np.minimum(left[at], right[at]), np.maximum(left[at], right[at]), a[at]
    expected_at = expected[at] if np.ndim(expected) else expected
    slack = rule.warn_rtol * np.maximum(np.abs(a_at), 2 * expected_at / rule.rtol)
    outside[at] = ~((a_at >= low - slack) & (a_at <= high + slack))
    return outside


@dataclass
class _Tally:
    """A parameter's verdict summed over its slices: how many entries of each class, and the sums
    and maxima its summary figures need."""

    failed: int = 0
    warned: int = 0
    strict: int = 0
    loose: int = 0
    noise_limited: int = 0
    blind: int = 0
    broken: int = 0
    judged_at_kink: int = 0
    undecided_at_kink: int = 0
    max_abs_error: float = 0.0
    loose_resolution: float = 0.0  # the largest e / max(|a|, |n|) among the loose entries
    squares: tuple[float, float, float] = (0.0, 0.0, 0.0)  # of a, n and a - n, where usable

    def add(self, e: _Entries, a: np.ndarray, n: np.ndarray, diff: np.ndarray, magnitude: np.ndarray,
            expected: np.ndarray, usable: np.ndarray) -> None:
        """Count one slice's classes and fold in its sums and maxima."""
        for name in _COUNTED:
            setattr(self, name, getattr(self, name) + int(np.count_nonzero(getattr(e, name))))
        if e.loose.any():
            loose_expected = expected[e.loose] if np.ndim(expected) else expected
            self.loose_resolution = max(self.loose_resolution, float(np.max(loose_expected / magnitude[e.loose])))
        self.max_abs_error = max(self.max_abs_error, float(np.max(diff, where=usable, initial=0.0)))
        self.squares = tuple(total + float(np.sum(np.square(v), where=usable))  # type: ignore[assignment]
                             for total, v in zip(self.squares, (a, n, diff), strict=True))

    def norm_ratio(self) -> float:
        """||a - n|| / (||a|| + ||n||) over the usable entries."""
        denominator = np.sqrt(self.squares[0]) + np.sqrt(self.squares[1])
        return float(np.sqrt(self.squares[2]) / denominator) if denominator > 0 else 0.0

    def verdict(self) -> tuple[Status, str]:
        """The parameter's status, and why it is not PASS."""
        if self.failed:
            return Status.FAIL, "analytic not finite" if self.broken else "disagrees"
        if self.warned or self.undecided_at_kink:
            return Status.WARN, "disagrees slightly" if self.warned else "kink crossed, cannot decide"
        if not (self.strict or self.loose or self.judged_at_kink) and (self.noise_limited or self.blind):
            return Status.INCONCLUSIVE, "below the noise floor" if self.noise_limited else "witness not finite"
        return Status.PASS, ""


_COUNTED = ("failed", "warned", "strict", "loose", "noise_limited", "blind", "broken", "judged_at_kink",
            "undecided_at_kink")


def _judge_slice(a: np.ndarray, n: np.ndarray, checked: np.ndarray, usable: np.ndarray, kink: np.ndarray,
                 left: np.ndarray, right: np.ndarray, expected: np.ndarray, rule: Rule,
                 tally: _Tally) -> tuple[_Entries, np.ndarray]:
    """One slice's classes (counted into ``tally``) and relative errors d / max(m, e / rtol)."""
    diff = np.abs(a - n)
    diff[~checked] = 0.0  # unchecked entries are NaN: 0, and never judged
    magnitude = np.maximum(np.abs(a), np.abs(n))
    e = _classify(a, n, diff, magnitude, expected, checked, usable, kink, left, right, rule)
    tally.add(e, a, n, diff, magnitude, expected, usable)
    rel = np.maximum(magnitude, expected / rule.rtol)
    np.divide(diff, rel, out=rel)
    rel[~checked] = -1.0
    rel[e.judged_at_kink] = 0.0  # judged by the interval, not by the central difference
    rel[e.broken] = np.inf
    rel[e.blind] = -1.0  # nothing to compare: never the worst entry
    return e, rel


def compare_parameter(name: str, analytic: np.ndarray, witness: Witness, rule: Rule) -> ParamResult:
    """Verdict for one parameter from its analytic gradient and the numerical witness.

    Judged slice by slice (``SLICE`` entries), into the few arrays of the parameter's size the result
    keeps (the relative errors, and the masks a re-check needs): a parameter of a million entries
    would otherwise hold six temporaries of 8 MB each at once."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(witness.gradient[name])
    checked = np.asarray(witness.checked.get(name, np.ones(a.shape, dtype=bool)))
    kink = np.asarray(witness.kink[name])
    with np.errstate(all="ignore"):
        usable = checked & np.isfinite(n)
        largest = max(float(np.max(n, where=usable, initial=0.0)), -float(np.min(n, where=usable, initial=0.0)))
        noise = DTYPE_NOISE_FACTOR * float(np.finfo(rule.dtype).eps) * largest
        expected = np.asarray(witness.expected[name])
        left, right = (np.asarray(side.get(name, n)) for side in (witness.left, witness.right))  # none: no kink
        flat = [np.ravel(v) for v in (a, n, checked, usable, kink, left, right)]
        spread = expected.size == a.size and expected.ndim > 0  # one expected error per entry, or one for all
        expected_flat = np.ravel(expected) if spread else expected + noise
        rel = np.empty(a.size)
        disagreeing, below_floor = np.empty(a.size, dtype=bool), np.empty(a.size, dtype=bool)
        tally = _Tally()
        for start in range(0, a.size, SLICE):
            part = slice(start, start + SLICE)
            expected_part = expected_flat[part] + noise if spread else expected_flat
            e, rel[part] = _judge_slice(*(v[part] for v in flat), expected_part, rule, tally)
            disagreeing[part] = (e.failed & ~e.broken) | e.warned  # a re-check could change these
            below_floor[part] = e.noise_limited
    worst = int(np.argmax(rel)) if rel.size else 0
    status, reason = tally.verdict()
    return ParamResult(
        name=name,
        shape=tuple(a.shape),
        status=status,
        max_abs_error=tally.max_abs_error,
        max_rel_error=float(rel[worst]) if rel.size else 0.0,
        norm_ratio=tally.norm_ratio(),
        grad_norm=float(np.linalg.norm(n)) if usable.all() else float("nan"),  # a sample has no norm
        worst_index=tuple(int(i) for i in np.unravel_index(worst, a.shape)) if rel.size else (),
        worst_analytic=float(flat[0][worst]),
        worst_numeric=float(flat[1][worst]),
        worst_error=float(abs(flat[0][worst] - flat[1][worst])) if flat[2][worst] else 0.0,
        worst_expected=float(expected_flat[worst] + noise) if spread else float(expected_flat),
        analytic=a,
        numeric=n,
        rel_error=rel.reshape(a.shape),
        kink=kink & checked,
        kink_unresolved=tally.undecided_at_kink,
        checked_entries=int(np.count_nonzero(checked)),
        noise_limited=tally.noise_limited + tally.blind,
        loose_entries=tally.loose,
        loose_resolution=tally.loose_resolution,
        reason=reason,
        disagreeing=disagreeing.reshape(a.shape),
        below_floor=below_floor.reshape(a.shape),
    )
