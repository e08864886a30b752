"""Benchmark layer networks and start-up: gradcheck and torch.autograd.gradcheck side by side.

    python benchmarks/layers.py [--runs 3] [--torch-runs 1] [--no-torch]

For the LeNet-style network of ``specs/layers/lenet.yaml`` (float64, batch 8, 1 x 28 x 28 inputs,
conv 6@5x5 relu, max-pool 2, conv 16@5x5 relu, max-pool 2, flatten, dense 120 relu, 84 relu, 10,
softmax cross-entropy mean: 44,426 parameters) it prints the median (min-max) of:

- the numerical part of a full per-entry check (the fast witness, re-checks included);
- the whole ``gradcheck check`` command in a fresh process, and its peak memory;
- torch.autograd.gradcheck(fast_mode=False) on the same network, data and float64 parameters, in
  this process, when torch is installed (it is not a dependency of gradcheck);

and the ratios; then the start-up of ``gradcheck --help`` and of ``gradcheck check`` on seed 002's
spec as whole commands. Machines are noisy: compare medians and ratios. Nothing here is a test.
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
from engines import median_range, run_command, side_by_side  # noqa: E402

LENET = ROOT / "specs" / "layers" / "lenet.yaml"
SEED002 = ROOT / "specs" / "seed002_two_layer_sigmoid.yaml"


def time_start(args: list[str], runs: int) -> list[float]:
    """Seconds of a whole gradcheck command in a fresh process (the console script's launcher), run
    from compiled bytecode as an installed gradcheck is (``engines.installed_env``)."""
    return [seconds for seconds, _ in run_command(["-m", "gradcheck_cli", *args], runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-runs", type=int, default=1, help="torch's full check takes about a minute")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}")
    side_by_side(LENET, "LeNet-style, float64, batch 8", args.runs, args.torch_runs, args.no_torch)
    print("\nstart-up, whole commands")
    print(f"  gradcheck --help                 {median_range(time_start(['--help'], max(args.runs, 5)))}")
    print(f"  gradcheck check seed 002         {median_range(time_start(['check', str(SEED002)], max(args.runs, 5)))}")


if __name__ == "__main__":
    main()
