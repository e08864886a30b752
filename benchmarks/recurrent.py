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
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.run.process_settings import prepare_process  # noqa: E402

prepare_process()  # before numpy: as the console script runs (launcher.py)

import numpy as np  # noqa: E402
from engines import side_by_side  # noqa: E402

LSTM = ROOT / "benchmarks" / "lstm.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-runs", type=int, default=1)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}")
    side_by_side(LSTM, "LSTM, float64, batch 8, T 16, D 16, H 32, dense 10 per step", args.runs, args.torch_runs,
                 args.no_torch)


if __name__ == "__main__":
    main()
