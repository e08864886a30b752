"""Running many specs: in worker processes when asked, each spec contained in its own.

A worker that dies takes only its own spec down (the others it left unfinished run again), the
progress of every worker is relayed to the parent, nothing is left running or unreaped when the run
ends or is interrupted, and a folder or glob that found no spec is an error entry of the run.
The checking of one spec is ``one_spec``'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gradcheck_cli.errors import SpecError
from gradcheck_cli.run.discover import Target, searches_without_specs
from gradcheck_cli.run.entries import error_entry
from gradcheck_cli.run.one_spec import Overrides, check_target, validate_target
from gradcheck_cli.run.process_settings import BLAS_THREAD_VARIABLES
from gradcheck_cli.verdict.results import RunResult, SpecResult, Status

ProgressCallback = Callable[[bool, int, int], None]  # (a spec just finished?, entries done, total)


DEFAULTS = Overrides()


def check_targets(targets: list[Target], overrides: Overrides = DEFAULTS, jobs: int = 1,
                  progress: ProgressCallback | None = None) -> RunResult:
    """Check every target (see ``_check_all``); a folder or glob that found no spec is an error entry."""
    return with_searches_without_specs(targets, _check_all(targets, overrides, jobs, progress))


def with_searches_without_specs(targets: list[Target], run: RunResult, kind: str = "a gradcheck spec") -> RunResult:
    """The run, with an error entry for each folder or glob that found no ``kind`` at all: every file it
    found skipped, nothing would be checked, and a PASS must not say otherwise."""
    skipped = {Path(spec.path) for spec in run.specs if spec.status is Status.SKIP}
    errors = [error_entry(origin, SpecError(f"none of the {count} YAML files it finds is {kind}, so nothing "
                                            f"would be checked", file=origin,
                                            hint="point the run at the folder that holds the specs"))
              for origin, count in searches_without_specs(targets, skipped).items()]
    return RunResult(run.specs + errors)


def _check_all(targets: list[Target], overrides: Overrides, jobs: int,
               progress: ProgressCallback | None) -> RunResult:
    """Check every target, in parallel processes when ``jobs`` > 1; results keep the targets' order.

    Workers run with one BLAS thread each, so that N workers use N cores. The numbers do not
    depend on it: OpenBLAS gives bit-identical products with 1 or 2 threads for these shapes, and a
    test holds ``--jobs 2`` to byte-identical JSON with ``--jobs 1``.
    """
    if jobs <= 1 or len(targets) <= 1:
        results = []
        for target in targets:
            entries = (lambda done, total: progress(False, done, total)) if progress else None
            results.append(check_target(target, overrides, entries))
            if progress:
                progress(True, 0, 0)
        return RunResult(results)
    try:
        with _single_threaded_blas():
            results = _in_workers(targets, overrides, jobs, progress)
            # a worker that dies (killed, or out of memory outside numpy's reach) breaks the whole pool: the
            # specs it left unfinished run again, each alone, so that only the one that kills its worker again
            # is lost
            for target in [t for t in targets if t not in results]:
                results.update(_in_workers([target], overrides, 1, progress))
                died = SpecError("the process checking this spec died (killed by a signal, or out of memory)",
                                 file=str(target.path), hint="the other specs were checked")
                results.setdefault(target, error_entry(str(target.path), died))
    finally:
        _stop_resource_tracker()
    return RunResult([results[target] for target in targets])


def _stop_resource_tracker() -> None:
    """End multiprocessing's resource tracker now and wait for it. Left alone, it outlives this process
    by a moment, as an orphan of PID 1; its (private) stop method closes its pipe and reaps it."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        stop()


def _in_workers(targets: list[Target], overrides: Overrides, jobs: int,
                progress: ProgressCallback | None) -> dict[Target, SpecResult]:
    """Check the targets in worker processes; a target whose worker died is missing from the result."""
    from concurrent.futures import ProcessPoolExecutor  # with multiprocessing, only for runs over several specs
    from multiprocessing import get_context

    workers = min(jobs, len(targets))
    batches = _batches(targets, workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        try:
            if progress is None:
                futures = {pool.submit(_check_batch, batch, overrides, None): batch for batch in batches}
            else:
                with get_context("spawn").Manager() as manager:
                    queue = manager.Queue()
                    futures = {pool.submit(_check_batch, batch, overrides, queue): batch for batch in batches}
                    _relay_progress(list(futures), queue, progress)
            return {target: result for future, batch in futures.items()
                    for target, result in zip(batch, _result_of(future) or [], strict=False)}
        except BaseException:  # a signal or Ctrl-C: end the workers now instead of waiting for their specs
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)  # dead workers: quick, and their queues are released
            raise


def _batches(targets: list[Target], workers: int) -> list[list[Target]]:
    """The targets in batches, one task each: a task per spec costs a round trip between processes that
    outweighs a small spec's check, while batches small enough (eight per worker at least, at most 32
    specs) keep the workers evenly loaded to the end and lose little if a worker dies."""
    size = max(1, min(32, len(targets) // (8 * workers)))
    return [targets[i:i + size] for i in range(0, len(targets), size)]


def _check_batch(targets: list[Target], overrides: Overrides, queue: Any) -> list[SpecResult]:
    """In a worker: check the targets in order, sending (path, entries done, total) to the parent's queue,
    and (path, None, None) for each spec finished."""
    results = []
    for target in targets:
        path = str(target.path)
        reporting = None if queue is None else (lambda done, total, path=path: queue.put((path, done, total)))
        results.append(check_target(target, overrides, reporting))
        if queue is not None:
            queue.put((path, None, None))
    return results


def _result_of(future: Future[list[SpecResult]]) -> list[SpecResult] | None:
    """The future's result; None if its worker died (or another's death broke the pool first)."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        return future.result()
    except BrokenProcessPool:
        return None


def _relay_progress(futures: list[Future[list[SpecResult]]], queue: Any, progress: ProgressCallback) -> None:
    """In the parent: report finished specs, and the entries done over all specs still running."""
    running: dict[str, tuple[int, int]] = {}
    pending = set(futures)
    while pending or not queue.empty():
        _, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
        while not queue.empty():
            path, done, total = queue.get_nowait()
            if done is None:  # a spec finished
                running.pop(path, None)
                progress(True, 0, 0)
            else:
                running[path] = (done, total)
                progress(False, sum(d for d, _ in running.values()), sum(t for _, t in running.values()))


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Environment for spawned workers: read by numpy's BLAS when the worker imports it."""
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update({name: "1" for name in BLAS_THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value




def validate_targets(targets: list[Target]) -> RunResult:
    return with_searches_without_specs(targets, RunResult([validate_target(target) for target in targets]))
