"""Benchmark: worker processes (``--jobs`` = the number of cores) against checking in one process (the
default, ``--jobs 1``), on the bundled specs and on a folder of 5,000 small specs.

    python benchmarks/jobs.py [--runs 3] [--small 5000]

Each run is the whole ``gradcheck check`` command in a fresh process, its output discarded; the
median (min-max) and the ratio processes / one process are printed (below 1: processes are faster).
The default must never be the slower of the two: these figures chose it. Machines are noisy: compare
medians. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SMALL = """version: 1
name: small {i}
seed: {i}
input: 3
layers:
  - {{units: 4, activation: tanh}}
  - {{units: 2, activation: sigmoid}}
loss: half_sse
data: {{batch: 3}}
"""


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gradcheck_cli", "check", *args], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - started)
    return times


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.2f} s ({min(times):.2f}-{max(times):.2f}, n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=5000)
    args = parser.parse_args()
    cores = str(os.cpu_count() or 1)
    print(f"{cores} cores; processes: --jobs {cores} (capped by the number of specs); default: --jobs 1")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for i in range(args.small):
            (folder / f"spec_{i:05d}.yaml").write_text(SMALL.format(i=i))
        for label, target in (("bundled specs (37)", str(ROOT / "specs")), (f"{args.small:,} small specs", scratch)):
            processes, single = timed(["--jobs", cores, target], args.runs), timed([target], args.runs)
            ratio = statistics.median(processes) / statistics.median(single)
            print(f"{label}:\n  --jobs {cores}   {summary(processes)}\n  default   {summary(single)}\n"
                  f"  processes / default = {ratio:.2f} ({'processes' if ratio < 1 else 'the default'} faster)")


if __name__ == "__main__":
    main()
