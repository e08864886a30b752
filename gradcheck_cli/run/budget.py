"""A spec's time budget (``--timeout``): the timer that ends a check past it, and the pace check that
refuses one which plainly cannot finish, early, with its forecast.

The timer is exact but late: it ends a check when the budget is spent. The pace check reads the
witness's progress (entries done of the total) and, once a phase has run for PACE_AFTER seconds,
forecasts the whole check from its rate. A forecast over PACE_MARGIN times the budget ends the spec
then, with the forecast in its message ("about 3,400 s: 12,000 of 101,000 entries in 2.1 s"), so a
network that would take hours is an error within seconds, not after the budget. The margin keeps a
check that is merely close to its budget running: the timer still holds it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gradcheck_cli.errors import TimeBudgetExceeded

DEFAULT_TIMEOUT = 600.0  # per spec: minutes for the largest bundled spec's seconds, well inside a CI job

PACE_AFTER = 2.0  # seconds of a phase before its rate is trusted
PACE_MARGIN = 2.0  # a forecast this many times the budget is refused


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeBudgetExceeded` in this thread after ``seconds`` of wall time.

    A timer signal, so it needs the main thread of a POSIX process (the CLI's, or a worker's; elsewhere
    the budget does not apply). Python handles the signal between operations: a single numpy call
    finishes first, and the checks are loops of short ones."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeBudgetExceeded(float(seconds))  # type: ignore[arg-type]

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Pace:
    """A progress callback (``done, total``) that relays to ``relay`` and raises
    :class:`TimeBudgetExceeded` with a forecast when the check plainly cannot finish in ``budget``.

    Each phase of the witness (the check, its re-checks, a derivation's links) counts its entries
    from 0 again; the time spent before the phase is added to its forecast."""

    def __init__(self, budget: float | None, relay: Callable[[int, int], None] | None = None) -> None:
        self.budget, self.relay = budget, relay
        self.started = self.phase_started = self.last_seen = time.perf_counter()
        self.last_done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.relay is not None:
            self.relay(done, total)
        now = time.perf_counter()
        if done < self.last_done:  # a new phase began after the last report of the previous one
            self.phase_started = self.last_seen
        self.last_done, self.last_seen = done, now
        phase = now - self.phase_started
        if self.budget is None or not 0 < done < total or phase < PACE_AFTER:
            return
        forecast = (self.phase_started - self.started) + phase * total / done
        if forecast > PACE_MARGIN * self.budget:
            raise TimeBudgetExceeded(self.budget, f"about {forecast:,.0f} s ({done:,} of {total:,} entries in "
                                                  f"{phase:.1f} s)")
