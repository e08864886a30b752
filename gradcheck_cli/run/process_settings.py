"""Settings a gradcheck process needs before its first array: one BLAS thread, and glibc's allocator
tuned for the witness's arrays. Both are read from the environment when a process starts (numpy's
BLAS when numpy loads, glibc's malloc at the first allocation): the console script sets them for
itself (``launcher.py``) and for the worker processes it spawns (``many_specs.py``).

The allocator: the witnesses evaluate stacks of perturbed copies whose arrays are a few MiB each,
allocated and freed thousands of times per check. glibc's defaults return freed memory to the kernel
as soon as 128 KiB lie free at the top of the heap, and serve large arrays by mmap, so every new stack
is faulted in again, page by page, and the page faults of two worker threads contend in the kernel.
Keeping up to 256 MiB of freed memory for reuse, and taking arrays under 32 MiB from the heap,
measured (2026-12-04, 2 cores, numerical part of a full check, medians of 5): the LSTM benchmark
1.12 s -> 0.88 s, seed 004's 101k network 0.133 s -> 0.128 s, LeNet 0.254 s -> 0.244 s, the 269k
network 0.48 s -> 0.44 s; the peak resident memory of the million-parameter check is unchanged
(166,864 KiB -> 168,336 KiB): the memory kept is reused, not added to the peak.
"""

from __future__ import annotations

import os
import sys

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ALLOCATOR_VARIABLES = {"MALLOC_TRIM_THRESHOLD_": str(256 << 20), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}
_MALLOPT_PARAMETERS = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_MMAP_THRESHOLD_": -3}  # glibc's M_TRIM_THRESHOLD, ...


def prepare_process() -> None:
    """The console script's settings, before numpy loads: one BLAS thread, the allocator tuned, and
    pydantic's plugin discovery off (it scans every installed package's entry points at import, about
    35 ms of each start here; gradcheck uses no plugin). A value the user set wins. The benchmarks
    call it too, so that what they time in-process runs as the command does."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    tune_allocator()


def tune_allocator() -> None:
    """Apply ``ALLOCATOR_VARIABLES`` to this process (glibc read the environment before Python ran,
    so by ``mallopt``) and leave them in the environment for the processes it starts. A value the user
    set wins: glibc has applied it already. Without glibc's ``mallopt`` (macOS, Windows, musl) the
    environment is set and nothing else happens."""
    for name, value in ALLOCATOR_VARIABLES.items():
        if name in os.environ:
            continue
        os.environ[name] = value
        _mallopt(_MALLOPT_PARAMETERS[name], int(value))


def _mallopt(parameter: int, value: int) -> None:
    if not sys.platform.startswith("linux"):  # glibc's allocator is Linux's; elsewhere CDLL(None) may not load
        return
    import ctypes  # only here: the console script's start-up, 1.5 ms

    try:
        ctypes.CDLL(None).mallopt(ctypes.c_int(parameter), ctypes.c_int(value))
    except (OSError, AttributeError, TypeError):  # no C library to load, or one without mallopt (musl)
        pass
