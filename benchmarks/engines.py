"""Benchmark the numerical witness: naive loop, fast engine, and torch.autograd.gradcheck side by side.

    python benchmarks/engines.py [--runs 3] [--torch-runs 1] [--quick]

For seed 004's first network (1000-100-10 ReLU, no bias, sse, N = 64, 101,000 parameters) and the
784-256-256-10 tanh softmax cross-entropy network (N = 32, 269,322 parameters) it prints the
median (min-max) of several runs of:

- the fast engine (the default), full per-entry check: the witness and the verdict as ``check`` runs
  them, re-checks of unsettled entries included; and the same with ``--engine stack`` (no fitted loss);
- ``--fast``: the directional check per parameter (with its drill-down, if any), forward and
  backward passes included;
- the naive engine, timed on a sample of entries of every parameter and extrapolated to all of them
  (marked "extrap."; a full naive run of the 101k network takes about 100 s);
- the whole ``gradcheck check`` command, in a fresh process, and its peak memory;
- torch.autograd.gradcheck(fast_mode=False) on the same network, data and float64 parameters,
  when torch is installed (it is not a dependency of gradcheck);

then the ratios, and a scaling table (parameters vs time) for naive and fast on growing networks.
Machines are noisy: compare medians and ratios, not single numbers. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.run.process_settings import prepare_process  # noqa: E402

prepare_process()  # before numpy: as the console script runs (launcher.py)

import numpy as np  # noqa: E402

from gradcheck_cli.network.network import backward, forward, loss_and_kinks  # noqa: E402
from gradcheck_cli.run.one_spec import Overrides, check_problem, judge, load_problem  # noqa: E402
from gradcheck_cli.verdict.compare import make_rule  # noqa: E402
from gradcheck_cli.witness.central import CENTRAL_EPS, central_differences  # noqa: E402
from gradcheck_cli.witness.methods import WitnessMaker  # noqa: E402

NETWORKS = {
    "seed 004 1000-100-10 relu sse (101,000 params)": ROOT / "specs" / "seed004_relu_no_bias_row.yaml",
    "784-256-256-10 tanh softmax-CE (269,322 params)": ROOT / "benchmarks" / "deep_tanh.yaml",
}


def median_range(times: list[float]) -> str:
    return f"{statistics.median(times):8.3f} s ({min(times):.3f}-{max(times):.3f}, n={len(times)})"


def float64_problem(path: Path):
    problem = load_problem(path)
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    return problem.network, params, problem.x.astype(np.float64), problem.y.astype(np.float64)


def time_fast(path: Path, runs: int, engine: str = "fast") -> list[float]:
    net, params, x, y = float64_problem(path)
    fp = forward(net, params, x, y)
    analytic = backward(net, params, fp, y)
    rule = make_rule("float64", fp.E)
    maker = WitnessMaker(net, params, x, y, engine)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        judge(maker, maker.make("central", rule.eps), analytic, rule)
        times.append(time.perf_counter() - started)
    return times


def time_directional(path: Path, runs: int) -> list[float]:
    problem = load_problem(path)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        check_problem(problem, str(path), Overrides(fast=True))
        times.append(time.perf_counter() - started)
    return times


def time_naive_extrapolated(path: Path, sample: int = 300) -> float:
    """Seconds for the full naive loop, from ``sample`` entries of every parameter (2 forwards each)."""
    net, params, x, y = float64_problem(path)
    total = 0.0
    for name, value in params.items():
        n = min(sample, value.size)
        work = {k: v.copy() for k, v in params.items()}
        flat = work[name].reshape(-1)

        def loss(q: dict, flat: np.ndarray = flat, work: dict = work, n: int = n) -> tuple[float, bytes]:
            flat[:n] = q["entries"]  # the first n entries of this parameter, as the loop perturbs them
            return loss_and_kinks(net, work, x, y)

        started = time.perf_counter()
        central_differences(loss, {"entries": flat[:n].copy()}, CENTRAL_EPS)
        total += (time.perf_counter() - started) * value.size / n
    return total


# Runs the command and, as it exits, prints its peak resident memory (VmHWM) to stderr. Read from
# /proc in the child itself: the kernel's ru_maxrss for a child also counts the parent it was
# forked from, which here is this benchmark with torch loaded.
PEAK_WRAPPER = """
import atexit, sys
from gradcheck_cli.launcher import main

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print("peak-kB", line.split()[1], file=sys.stderr)

atexit.register(peak)
sys.argv[0] = "gradcheck"
main()
"""


def installed_env() -> dict[str, str]:
    """The environment of a timed whole command, so that it runs as an installed gradcheck does: from
    compiled bytecode. pip compiles a package's modules as it installs it; a checkout run where
    PYTHONDONTWRITEBYTECODE is set (some sandboxes set it) would compile every module on every run
    instead, about 0.1 s of each command here. The first, untimed run of each command writes the cache."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_command(args: list[str], runs: int) -> list[tuple[float, subprocess.CompletedProcess[str]]]:
    """``python args`` in a fresh process ``runs`` times after one untimed run: seconds and result of each."""
    env = installed_env()
    subprocess.run([sys.executable, *args], capture_output=True, cwd=ROOT, env=env)  # writes the bytecode cache
    done = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env)
        done.append((time.perf_counter() - started, result))
    return done


def time_command(path: Path, runs: int) -> tuple[list[float], float | None]:
    """Seconds of each run of the whole command in a fresh process, and its peak memory in MB (the
    largest of the runs; None where /proc does not say)."""
    times, peaks = [], []
    for seconds, done in run_command(["-c", PEAK_WRAPPER, "check", "--jobs", "1", "--format", "json", str(path)], runs):
        done.check_returncode()
        times.append(seconds)
        peaks += [int(line.split()[1]) / 1024 for line in done.stderr.splitlines() if line.startswith("peak-kB")]
    return times, max(peaks) if peaks else None


def torch_recurrence(layer, a, params: dict, l: int):
    """The recurrent layer types in torch's own operations, on gradcheck's parameters (gates as the
    layer types order them), so that both check the same function."""
    import torch

    H, blocks = layer.units, layer.BLOCKS
    h = params.get(f"h0_{l}", torch.zeros(a.shape[0], H, dtype=a.dtype))
    c = torch.zeros_like(h)
    bias = params.get(f"b{l}", params.get(f"bx{l}"))
    xw = a @ params[f"Wx{l}"] + bias
    out = []
    for t in range(a.shape[1]):
        hw = h @ params[f"Wh{l}"] + (params[f"bh{l}"] if layer.TYPE == "gru" else 0)
        v = [xw[:, t, k * H : (k + 1) * H] for k in range(blocks)]
        u = [hw[:, k * H : (k + 1) * H] for k in range(blocks)]
        if layer.TYPE == "rnn":
            h = torch.tanh(v[0] + u[0])
        elif layer.TYPE == "lstm":
            i, f, o = (torch.sigmoid(v[k] + u[k]) for k in range(3))
            c = f * c + i * torch.tanh(v[3] + u[3])
            h = o * torch.tanh(c)
        else:
            r, z = torch.sigmoid(v[0] + u[0]), torch.sigmoid(v[1] + u[1])
            h = (1 - z) * torch.tanh(v[2] + r * u[2]) + z * h
        out.append(h)
    return torch.stack(out, dim=1) if layer.returns == "sequence" else h


def time_torch(path: Path, runs: int) -> list[float] | None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    problem = load_problem(path)
    net = problem.network
    x = torch.tensor(problem.x.astype(np.float64))
    y = torch.tensor(problem.y.astype(np.float64))
    names = net.parameter_names()
    inputs = tuple(torch.tensor(problem.params[n].astype(np.float64), requires_grad=True) for n in names)
    acts = {"relu": torch.relu, "tanh": torch.tanh, "identity": lambda t: t, "sigmoid": torch.sigmoid}

    def loss(*tensors):
        params = dict(zip(names, tensors, strict=True))
        a = x
        for l, layer in enumerate(net.layers, start=1):  # torch's own functions for each layer type
            if layer.TYPE == "conv2d":
                z = F.conv2d(a, params[f"W{l}"], params.get(f"b{l}"), stride=layer.stride, padding=layer.padding)
            elif layer.TYPE == "maxpool2d":
                z = F.max_pool2d(a, layer.size, layer.stride)
            elif layer.TYPE == "flatten":
                z = a.flatten(1)
            elif layer.TYPE in ("rnn", "lstm", "gru"):
                z = torch_recurrence(layer, a, params, l)
            else:
                z = a @ params[f"W{l}"] if net.layout.name == "row" else params[f"W{l}"] @ a
                if f"b{l}" in params:
                    z = z + params[f"b{l}"]
            a = acts[layer.activation.name](z)
        if net.loss.name == "sse":
            return ((a - y) ** 2).sum()
        logp = torch.log_softmax(a, dim=-1 if net.layout.name == "row" else 0)
        return -(y * logp).sum() / x.shape[0 if net.layout.name == "row" else 1]

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        torch.autograd.gradcheck(loss, inputs, fast_mode=False, raise_exception=False)
        times.append(time.perf_counter() - started)
    return times


def side_by_side(path: Path, title: str, runs: int, torch_runs: int, no_torch: bool) -> None:
    """One network's full check beside torch's: the numerical part, the whole command and its peak
    memory, torch.autograd.gradcheck(fast_mode=False) when torch is there, and the ratios."""
    print(f"\n{title} ({sum(p.size for p in load_problem(path).params.values()):,} parameters)")
    fast = time_fast(path, runs)
    print(f"  numerical part, full check       {median_range(fast)}")
    command, peak = time_command(path, runs)
    print(f"  whole `gradcheck check` command  {median_range(command)}")
    print(f"  peak memory of the command       {peak:8.0f} MB" if peak else "  peak memory: not measured here")
    torch_times = None if no_torch else time_torch(path, torch_runs)
    if torch_times is None:
        print("  torch.autograd.gradcheck         (not run: torch missing or --no-torch)")
        return
    torch_median = statistics.median(torch_times)
    print(f"  torch.autograd.gradcheck full    {median_range(torch_times)}")
    print(f"  torch / whole command            {torch_median / statistics.median(command):8.0f}x")
    print(f"  torch / numerical part           {torch_median / statistics.median(fast):8.0f}x")


def scaling(runs: int) -> None:
    print("\nscaling: relu 1000-H-10 row sse N=64, no bias (fast: full check; naive: extrap.)")
    print(f"{'H':>5} {'params':>8} {'fast':>10} {'naive extrap.':>14} {'ratio':>8}")
    for hidden in (10, 25, 50, 100):
        spec = ROOT / "specs" / "seed004_relu_no_bias_row.yaml"
        text = spec.read_text().replace("units: 100", f"units: {hidden}")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write(text)
        path = Path(handle.name)
        fast = statistics.median(time_fast(path, runs))
        naive = time_naive_extrapolated(path, sample=100)
        params = 1000 * hidden + hidden * 10
        print(f"{hidden:>5} {params:>8,} {fast:>9.3f}s {naive:>13.1f}s {naive / fast:>7.0f}x")
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--torch-runs", type=int, default=1, help="torch's full check takes over a minute each")
    parser.add_argument("--stack-runs", type=int, default=1, help="--engine stack takes about 40 s on the 269k network")
    parser.add_argument("--quick", action="store_true", help="the 101k network only, no torch, no scaling")
    parser.add_argument("--torch-deep", action="store_true",
                        help="also time torch on the 269k network (2 x 269,322 forward passes: many minutes)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or '?'}, Python {platform.python_version()}, "
          f"numpy {np.__version__}")
    for label, path in NETWORKS.items():
        if args.quick and "deep" in str(path):
            continue
        print(f"\n{label}")
        fast = time_fast(path, args.runs)
        print(f"  fast engine, numerical part      {median_range(fast)}")
        stack = time_fast(path, args.stack_runs, engine="stack")
        print(f"  --engine stack (no fitted loss)  {median_range(stack)}")
        print(f"  --fast (directional), check      {median_range(time_directional(path, args.runs))}")
        naive = time_naive_extrapolated(path)
        print(f"  naive engine (extrap.)           {naive:8.1f} s")
        command, peak = time_command(path, args.runs)
        print(f"  whole `gradcheck check` command  {median_range(command)}")
        print(f"  peak memory of the command       {peak:8.0f} MB" if peak else "  peak memory: not measured here")
        print(f"  naive / fast                     {naive / statistics.median(fast):8.0f}x")
        skip_torch = args.quick or ("deep" in str(path) and not args.torch_deep)
        torch_times = None if skip_torch else time_torch(path, args.torch_runs)
        if torch_times is None:
            print("  torch.autograd.gradcheck         (not run: torch missing, --quick, or deep without --torch-deep)")
        else:
            torch_median = statistics.median(torch_times)
            print(f"  torch.autograd.gradcheck full    {median_range(torch_times)}")
            print(f"  torch / fast (numerical part)    {torch_median / statistics.median(fast):8.0f}x")
            print(f"  torch / whole command            {torch_median / statistics.median(command):8.0f}x")
    if not args.quick:
        scaling(args.runs)


if __name__ == "__main__":
    main()
