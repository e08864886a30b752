"""Which numerical witness (``--method``), and the second look at entries the first could not settle.

- ``central`` (default): (E(theta + h) - E(theta - h)) / 2h per entry, by the fast engine or the
  plain loop, eps = cbrt(eps_float64) = 6.1e-6. Expected error: its round-off.
- ``richardson``: central differences D at h, 2h and 4h; R(h) = (4 D(h) - D(2h)) / 3 cancels the h^2
  term of the truncation, leaving O(h^4). eps = 1e-4, a larger step than central's, so the round-off
  is 16 times smaller. Expected error: the round-off of R(h), 1.5 times that of D(h), plus its
  truncation bounded by |R(h) - R(2h)|: R(2h) errs 16 times more than R(h), so that is 15 times the
  asymptotic estimate, a margin that holds where the steps are too large for the asymptotics (at a
  step of 0.1, specs/demos/step_too_large.yaml errs 1.25 times the asymptotic estimate).
- ``complex``: Im E(theta + i h) / h. Nothing is subtracted, so nothing cancels: h = 1e-20 and the
  error is a few eps times the derivative. Its truncation, h^2 f'''/6, is nil at that step; for a
  step from COMPLEX_ESTIMATE_FROM up it is bounded by |C(h) - C(2h)| from a second pass (three times
  the asymptotic estimate, a margin for steps too large for the asymptotics, as for Richardson).
  Every function gradcheck builds is complex-analytic or piecewise so (relu, leaky_relu and elu
  take their piece from the sign of the real part), so the method applies to every spec; an
  imaginary step never moves a pre-activation across a kink, so the derivative of the piece at the
  point is read directly (relu'(0) = 0 there). The plain loop, one forward pass in complex128 per
  entry: on large networks combine it with ``--sample``.

Re-checks (central and richardson): entries at a kink are evaluated again with a step 1000 times
smaller, close to the sqrt(eps) that suits one-sided slopes; where that step no longer crosses the
kink its central difference is judged as usual, and where it still does its one-sided slopes, whose
first-order error is 1000 times smaller, make the interval.
Entries that disagree beyond the expected error (WARN or FAIL so far) are extrapolated by
Richardson at the same step, reusing D(h), so that their expected error includes the truncation.
Entries below the noise floor of both tiers are evaluated again by Richardson at steps 10 and 100
times larger, whose round-off is that much smaller; of those that cross no kink, the one with the
smallest expected error is kept. No choice looks at the analytic gradient.
All of it is forward passes only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradcheck_cli.network.network import ForwardPass, Network, Params, forward, loss_and_kinks
from gradcheck_cli.witness.central import (
    CENTRAL_EPS,
    EPS64,
    PROGRESS_EVERY,
    ROUNDOFF_FACTOR,
    Masks,
    Witness,
    central_differences,
    parameter_scale,
    selected,
    step_sizes,
)
from gradcheck_cli.witness.fast import fast_central_differences_at
from gradcheck_cli.witness.layered import LayeredEngine
from gradcheck_cli.witness.names import ENGINES, METHODS

__all__ = ["DEFAULT_EPS", "ENGINES", "METHODS", "WitnessMaker", "complex_step"]
DEFAULT_EPS = {"central": CENTRAL_EPS, "richardson": 1e-4, "complex": 1e-20}
COMPLEX_ESTIMATE_FROM = 1e-10  # complex steps from here on get a truncation estimate (h^2 terms above 1e-20)
KINK_STEP_FACTOR = 1e-3  # kink entries are re-checked with a step this much smaller
COARSE_STEP_FACTORS = (10.0, 100.0)  # entries below the noise floor are re-checked by Richardson at these larger steps


_FIELDS = ("gradient", "step", "expected", "kink", "left", "right", "checked")


@dataclass(frozen=True)
class WitnessMaker:
    """Everything a witness needs: the network, float64 parameters and data, and which engine."""

    net: Network
    params: Params
    x: np.ndarray
    y: np.ndarray
    engine: str = "fast"  # "fast" or "stack" (fast_numeric.py, with or without its fitted loss), or "naive"
    progress: Callable[[int, int], None] | None = None

    def make(self, method: str, eps: float, masks: Masks | None = None) -> Witness:
        if method == "complex":
            stacked = self.engine != "naive"
            witness = complex_step(self.net, self.params, self.x, self.y, eps, masks, self.progress, stacked)
            if eps >= COMPLEX_ESTIMATE_FROM:
                double = complex_step(self.net, self.params, self.x, self.y, 2 * eps, masks, stacked=stacked)
                for name, g in witness.gradient.items():
                    witness.expected[name] = witness.expected[name] + np.abs(g - double.gradient[name])
            return witness
        if method == "richardson":
            return self.richardson(eps, masks)
        return self.central(eps, masks)

    def central(self, eps: float, masks: Masks | None = None, progress: bool = True) -> Witness:
        return self.centrals((eps,), masks, progress)[0]

    def centrals(self, epsilons: Sequence[float], masks: Masks | None = None, progress: bool = True,
                 compact: bool = False) -> list[Witness]:
        """Central differences at each step; the fast engine takes all the steps in one pass.
        ``compact``: only the entries ``masks`` selects, as ``entries_at`` gives them."""
        report = self.progress if progress else None
        if self.engine == "naive":
            loss = lambda p: loss_and_kinks(self.net, p, self.x, self.y)  # noqa: E731
            witnesses = [central_differences(loss, self.params, eps, report if k == 0 else None, masks)
                         for k, eps in enumerate(epsilons)]
            return [entries_at(w, masks) for w in witnesses] if compact and masks is not None else witnesses
        return fast_central_differences_at(self.net, self.params, self.x, self.y, epsilons, report, masks=masks,
                                           fit=self.engine == "fast", compact=compact)

    def richardson(self, eps: float, masks: Masks | None = None, progress: bool = True) -> Witness:
        fine, double, quadruple = self.centrals((eps, 2 * eps, 4 * eps), masks, progress)
        return richardson(fine, double, quadruple)

    def recheck(self, witness: Witness, method: str, eps: float, kinks: Masks, disagreeing: Masks,
                below_floor: Masks) -> Witness:
        """The witness with its kink, disagreeing and below-the-floor entries evaluated again (see the
        module's docstring), written into it in place. Silent: the progress bar counts the first pass,
        which is most of the work."""
        if method == "complex":
            return witness  # no cancellation to reduce and no kink crossed: nothing a re-check could add
        if kinks := _selecting(kinks):
            [fine] = self._compact((eps * KINK_STEP_FACTOR,), kinks)
            put_entries(witness, fine, kinks, {n: np.ones(int(m.sum()), dtype=bool) for n, m in kinks.items()})
        if (disagreeing := _selecting(disagreeing)) and method == "central":
            # the same step, extrapolated: an error estimate that includes the truncation
            same = richardson(entries_at(witness, disagreeing), *self._compact((2 * eps, 4 * eps), disagreeing))
            put_entries(witness, same, disagreeing, {n: ~same.kink[n] for n in disagreeing})
        if below := _selecting(below_floor):  # larger steps, less round-off, where they cross no kink
            for factor in COARSE_STEP_FACTORS:
                coarse = richardson(*self._compact([eps * factor * k for k in (1, 2, 4)], below))
                now = entries_at(witness, below)
                put_entries(witness, coarse, below, {
                    n: ~coarse.kink[n] & (coarse.expected[n] < now.expected[n]) for n in below})
        return witness


    def _compact(self, epsilons: Sequence[float], masks: Masks) -> list[Witness]:
        """Central differences at each step, only at the entries ``masks`` selects (``entries_at``):
        a re-check never holds a witness of the parameters' full size."""
        return self.centrals(epsilons, masks, progress=False, compact=True)


def entries_at(witness: Witness, masks: Masks) -> Witness:
    """The witness at the entries ``masks`` selects, each field a flat array in C order: a compact
    witness, for re-checks of a few entries of large parameters."""
    return Witness(**{f: {n: np.asarray(getattr(witness, f)[n])[m] for n, m in masks.items()} for f in _FIELDS})


def put_entries(witness: Witness, compact: Witness, masks: Masks, keep: Masks) -> None:
    """Write the entries of the compact witness ``compact`` (taken at ``masks``) that ``keep`` selects
    into their places in ``witness``, in place: a re-check never holds a second full-size witness."""
    for name, mask in masks.items():
        chosen = keep[name]
        places = np.flatnonzero(mask)[chosen]
        for f in _FIELDS:
            field = getattr(witness, f)
            if not isinstance(field[name], np.ndarray):  # a number (Richardson's value of a shared bias)
                field[name] = np.array(field[name])
            field[name].flat[places] = getattr(compact, f)[name][chosen]


def _selecting(masks: Masks) -> Masks:
    """The masks that select at least one entry."""
    return {name: mask for name, mask in masks.items() if np.any(mask)}


def richardson(fine: Witness, double: Witness, quadruple: Witness) -> Witness:
    """R(h) = (4 D(h) - D(2h)) / 3 from the central differences at h, 2h and 4h, with its error estimate."""
    out = Witness()
    for name, d2 in double.gradient.items():  # fine may hold more parameters than were re-evaluated
        d1, d4 = fine.gradient[name], quadruple.gradient[name]
        r1, r2 = (4 * d1 - d2) / 3, (4 * d2 - d4) / 3
        out.gradient[name] = r1
        out.expected[name] = 1.5 * fine.expected[name] + np.abs(r1 - r2)
        out.kink[name] = fine.kink[name] | double.kink[name] | quadruple.kink[name]
        out.step[name], out.left[name], out.right[name] = fine.step[name], fine.left[name], fine.right[name]
        out.checked[name] = fine.checked[name]
    return out


def complex_roundoff(E: float, g: Any, scale: float) -> Any:
    """Expected rounding of a complex-step derivative: eps times the derivative itself, and at least
    eps |E| / s (s: the parameter's scale), because the imaginary parts of the terms that make up E
    cancel as the real ones do (for a bias shared by a softmax's inputs the derivative is exactly 0,
    a sum of terms of size |E|). The same safety factor as the round-off of central differences."""
    return ROUNDOFF_FACTOR * EPS64 * (np.abs(g) + max(abs(E), 1.0) / scale)


def complex_step(net: Network, params: Params, x: np.ndarray, y: np.ndarray, eps: float,
                 masks: Masks | None = None, progress: Callable[[int, int], None] | None = None,
                 stacked: bool = False) -> Witness:
    """Im E(theta_i + i h_i) / h_i for every entry (or those ``masks`` selects): one forward pass each,
    or (``stacked``) the imaginary steps as stacks of networks rerun from the perturbed layer on
    (``layered.py``), the same numbers to round-off."""
    fp = forward(net, params, x, y)
    if stacked:
        return _complex_stacked(net, params, y, fp, eps, selected(params, masks))
    work = {name: np.array(value, dtype=np.complex128) for name, value in params.items()}
    E = fp.E
    witness = Witness()
    chosen = selected(work, masks)
    total, done = sum(int(mask.sum()) for mask in chosen.values()), 0
    for name, mask in chosen.items():
        flat = work[name].reshape(-1)  # a view: writing flat[i] perturbs the parameter the forward pass reads
        scale = parameter_scale(flat.real)
        steps = step_sizes(flat.real, eps, scale)
        grad = np.full(flat.size, np.nan)
        for i in np.flatnonzero(mask):
            old = flat[i]
            flat[i] = old + 1j * steps[i]
            grad[i] = forward(net, work, x, y).E.imag / steps[i]
            flat[i] = old
            done += 1
            if progress and done % PROGRESS_EVERY == 0:
                progress(done, total)
        _store_complex(witness, name, grad.reshape(mask.shape), steps.reshape(mask.shape), E, scale, mask)
    return witness


def _complex_stacked(net: Network, params: Params, y: np.ndarray, fp: ForwardPass, eps: float,
                     chosen: Masks) -> Witness:
    engine, witness = LayeredEngine(net, params, y, fp), Witness()
    for name, mask in chosen.items():
        scale = parameter_scale(np.asarray(params[name]))
        g, steps = engine.complex_step(name, mask, eps, scale)
        _store_complex(witness, name, g, steps, fp.E, scale, mask)
    return witness


def _store_complex(witness: Witness, name: str, g: np.ndarray, steps: np.ndarray, E: float, scale: float,
                   mask: np.ndarray) -> None:
    """A complex-step derivative has no one-sided slopes and crosses no kink: left = right = g."""
    witness.gradient[name], witness.left[name], witness.right[name] = g, g, g
    witness.step[name] = steps
    witness.expected[name] = complex_roundoff(E, g, scale)
    witness.kink[name] = np.zeros(mask.shape, dtype=bool)
    witness.checked[name] = mask.copy()
