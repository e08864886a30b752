"""A progress bar on stderr for runs that take more than about a second. Presentation only: the
core reports progress through a callback and never prints."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:  # rich.progress is imported when a bar is shown, not on every start-up
    from rich.progress import Progress, TaskID

DELAY_SECONDS = 1.0


class RunProgress:
    """Call it as the runner's progress callback; use it as a context manager around the run."""

    def __init__(self, console: Console, specs: int, enabled: bool) -> None:
        self.console, self.specs, self.enabled = console, specs, enabled and console.is_terminal
        self.started = time.monotonic()
        self.specs_done = 0
        self.entries: tuple[int, int] = (0, 0)
        self.bar: Progress | None = None
        self.spec_task: TaskID | None = None
        self.entry_task: TaskID | None = None

    def __call__(self, finished: bool, done: int, total: int) -> None:
        if finished:
            self.specs_done += 1
            self.entries = (0, 0)
        else:
            self.entries = (done, total)
        if not self.enabled:
            return
        if self.bar is None and time.monotonic() - self.started > DELAY_SECONDS:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                console=self.console, transient=True)
            self.bar.start()
            self.spec_task = self.bar.add_task("specs", total=self.specs, rate="")
            self.entry_task = self.bar.add_task("entries", total=None, rate="")
        if self.bar is not None:
            assert self.spec_task is not None and self.entry_task is not None
            self.bar.update(self.spec_task, completed=self.specs_done)
            done, total = self.entries
            elapsed = max(time.monotonic() - self.started, 1e-9)
            self.bar.update(self.entry_task, completed=done, total=total,
                            rate=f"{done / elapsed:,.0f} entries/s" if done else "")

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()
