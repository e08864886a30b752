"""Benchmark ``gradcheck layer`` on cs231n's conv check, beside the course's way and torch's.

    python benchmarks/layer_check.py [--runs 3] [--no-torch]

The check of ``specs/layer_checks/conv_naive.yaml`` (x 4 x 3 x 5 x 5, w 2 x 3 x 3 x 3, stride 2,
pad 1, with the conv2d reference: 784 entries of the student's gradients, each against two numerical
VJPs) with the naive loops of ``specs/layer_checks/layers.py``. Printed: the whole ``gradcheck
layer`` command in a fresh process (from compiled bytecode, as installed); the course's way on the
same functions, a numerical VJP entry by entry with h = 1e-5 as cs231n's notebooks compute it (our
own code of that formula, the student's forward only, no verdict: the part of gradcheck's work it
corresponds to); and torch.autograd.gradcheck(fast_mode=False) of torch's conv2d on the same sizes.
Machines are noisy: compare medians and ratios. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.run.process_settings import prepare_process  # noqa: E402

prepare_process()  # before numpy: as the console script runs (launcher.py)

import numpy as np  # noqa: E402
from engines import median_range, run_command  # noqa: E402

SPEC = ROOT / "specs" / "layer_checks" / "conv_naive.yaml"
CODE = ROOT / "specs" / "layer_checks" / "layers.py"


def course_vjp(f, x: np.ndarray, dout: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """sum((f(x + h e_i) - f(x - h e_i)) * dout) / 2h for every entry i: the notebooks' numerical VJP."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x).copy()
        x[i] = old - h
        minus = f(x).copy()
        x[i] = old
        grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def time_course(runs: int) -> list[float]:
    spec = importlib.util.spec_from_file_location("layers", CODE)
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    rng = np.random.default_rng(231)
    x, w, b = rng.standard_normal((4, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    param = {"stride": 2, "pad": 1}
    dout = rng.standard_normal(layers.conv_forward_naive(x, w, b, param)[0].shape)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        course_vjp(lambda v: layers.conv_forward_naive(v, w, b, param)[0], x, dout)
        course_vjp(lambda v: layers.conv_forward_naive(x, v, b, param)[0], w, dout)
        course_vjp(lambda v: layers.conv_forward_naive(x, w, v, param)[0], b, dout)
        times.append(time.perf_counter() - started)
    return times


def time_torch(runs: int) -> list[float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(231)
    x, w, b = (torch.randn(*shape, dtype=torch.float64, requires_grad=True)
               for shape in ((4, 3, 5, 5), (2, 3, 3, 3), (2,)))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        ok = torch.autograd.gradcheck(lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride=2, padding=1),
                                      (x, w, b), fast_mode=False)
        times.append(time.perf_counter() - started)
        assert ok
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}\n")
    print("cs231n conv check: x 4x3x5x5, w 2x3x3x3, b 2, stride 2, pad 1 (dx, dw, db: 356 entries)")
    command = []
    for seconds, done in run_command(["-m", "gradcheck_cli", "layer", "--format", "json", str(SPEC), "--code",
                                      str(CODE)], args.runs):
        done.check_returncode()
        command.append(seconds)
    print(f"  gradcheck layer, whole command, with the conv2d reference  {median_range(command)}")
    course = time_course(args.runs)
    print(f"  the course's numerical VJP alone (h = 1e-5, no verdict)     {median_range(course)}")
    torch_times = None if args.no_torch else time_torch(args.runs)
    if torch_times:
        print(f"  torch.autograd.gradcheck(conv2d), full                      {median_range(torch_times)}")
    print(f"  gradcheck layer / course loop: {statistics.median(command) / statistics.median(course):.1f}x the time, "
          f"for two witnesses, the forward compared and the verdicts")


if __name__ == "__main__":
    main()
