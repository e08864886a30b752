"""Benchmark recurrent networks: gradcheck and torch.autograd.gradcheck side by side.

    python benchmarks/recurrent.py [--runs 3] [--torch-runs 1] [--no-torch]

For the LSTM of ``benchmarks/lstm.yaml`` (float64, batch 8, T = 16 steps of D = 16 features, H = 32,
a dense layer of 10 at every step, softmax cross-entropy mean: 6,602 parameters) it prints the median
(min-max) of the numerical part of a full per-entry check, the whole ``gradcheck check`` command in
a fresh process (from compiled bytecode, as installed) with its peak memory, and
torch.autograd.gradcheck(fast_mode=False) on the same function (the same gates, parameters and data,
written in torch's operations: ``engines.torch_recurrence``), when torch is installed; then the
ratios. Machines are noisy: compare medians and ratios. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: as the console script runs (launcher.py)

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engines import median_range, time_command, time_fast, time_torch  # noqa: E402

from gradcheck_cli.run.one_spec import load_problem  # noqa: E402

LSTM = ROOT / "benchmarks" / "lstm.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-runs", type=int, default=1)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}")
    print(f"\nLSTM, float64, batch 8, T 16, D 16, H 32, dense 10 per step "
          f"({sum(p.size for p in load_problem(LSTM).params.values()):,} parameters)")
    fast = time_fast(LSTM, args.runs)
    print(f"  numerical part, full check       {median_range(fast)}")
    command, peak = time_command(LSTM, args.runs)
    print(f"  whole `gradcheck check` command  {median_range(command)}")
    print(f"  peak memory of the command       {peak:8.0f} MB" if peak else "  peak memory: not measured here")
    torch_times = None if args.no_torch else time_torch(LSTM, args.torch_runs)
    if torch_times is None:
        print("  torch.autograd.gradcheck         (not run: torch missing or --no-torch)")
        return
    torch_median = statistics.median(torch_times)
    print(f"  torch.autograd.gradcheck full    {median_range(torch_times)}")
    print(f"  torch / whole command            {torch_median / statistics.median(command):8.0f}x")
    print(f"  torch / numerical part           {torch_median / statistics.median(fast):8.0f}x")


if __name__ == "__main__":
    main()
