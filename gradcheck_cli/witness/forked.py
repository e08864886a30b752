"""Forked worker processes for the layered witness's chunks, where two threads lose to the
interpreter's lock.

Each chunk is milliseconds of numpy work in dozens of calls, and every call gives up the
interpreter's lock and takes it back: two threads reach 1.6 cores here, two forked processes 2
(the LSTM benchmark's check, in turn in the same minutes: 0.97 s with threads, 0.86 s forked).
A forked worker inherits the network, the data and the chunks as they are in memory, so nothing
is sent to it but a chunk's number, and nothing comes back but that chunk's values, which the
parent writes into the witness: the numbers are bit for bit those of the threads (a test compares
them).

Forking is only safe from a process with no other thread (a thread holding a lock at the fork
would leave it held in the child for ever), and Linux is where it is tested: elsewhere, in a
process with threads (a progress bar, a caller's own), in a ``--jobs`` worker (already one process
per core), or for a witness of few chunks, the threads do the work. The workers ignore Ctrl-C and
die on SIGTERM with the default action: the parent ends the run, and terminates and reaps them on
any way out (an error, the time budget, a signal); if the parent is killed outright, the kernel
kills them (PR_SET_PDEATHSIG). No run leaves a process behind.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gradcheck_cli.witness.layered import Chunk

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

FORK_FROM = 32  # chunks from which a witness pays for forking its workers (about 10 ms)
_CHUNKS: Sequence[Chunk] = ()  # the chunks of the witness being computed: read by the forked workers
_PR_SET_PDEATHSIG = 1  # Linux's prctl option: the signal a process gets when its parent dies


def usable(chunks: int, recurrent: bool) -> bool:
    """Whether a witness's layered chunks go to forked workers: those of a recurrent layer, whose
    chunks are dozens of numpy calls per step, not a convolution's few large calls, where threads
    already do well and forking cost more than it saved (LeNet's witness: 0.26 s -> 0.30 s)."""
    if not (recurrent and chunks >= FORK_FROM and sys.platform.startswith("linux") and threading.active_count() == 1):
        return False
    import multiprocessing  # here, not at the top: a check without a recurrent layer never loads it

    return multiprocessing.parent_process() is None  # not in a --jobs worker


@contextmanager
def forked_workers(chunks: Sequence[Chunk], workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` processes forked with ``chunks`` in memory (``compute(k)`` runs chunk k);
    on any exception the workers are terminated before it goes on."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    global _CHUNKS
    sys.stdout.flush()  # a forked child would otherwise write the parent's pending output again
    sys.stderr.flush()
    _CHUNKS = chunks
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=_leave_signals,
                               initargs=(os.getpid(),))
    try:
        _start(pool)
        yield pool
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        _CHUNKS = ()


def _start(pool: ProcessPoolExecutor) -> None:
    """Fork the workers now, with Ctrl-C, SIGTERM and SIGHUP held back until each worker has set its
    own handling (a Ctrl-C between the fork and that would otherwise end a worker with a traceback,
    and the run with a broken pool). One held back in this process is raised here, once the
    workers exist, and they are terminated as on any other way out."""
    held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        pool.submit(os.getpid).result()  # a fork pool starts every worker at its first task
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def compute(k: int) -> tuple:
    """Chunk k's values, in a forked worker."""
    return _CHUNKS[k].values()


def _leave_signals(parent: int) -> None:
    """A worker leaves Ctrl-C to the parent, ends at once on SIGTERM and SIGHUP, and is killed by the
    kernel when its parent dies, however it dies (prctl's PR_SET_PDEATHSIG): a forked worker holds
    both ends of its task pipe, so it would otherwise wait for a task for ever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that took effect
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})  # held by _start
