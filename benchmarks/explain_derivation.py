"""Benchmark: ``explain``'s derivation, pasted into each bundled network's spec, checked link by link.

    python benchmarks/explain_derivation.py [--runs 3]

For every bundled network it prints the median (min-max) of the in-process check of the spec with
the derivation ``gradcheck explain`` writes for it (the witness of every dz/da link, the verdict and
the diagnoses), and the whole command in a fresh process for seed 004's spiral. The dz/da links'
witness moves one unit across the whole batch at a time (``quantity_witness``); the same check with
the plain per-entry loop it replaced is timed beside it, and the ratio printed. Machines are noisy:
compare medians and ratios, not single numbers. Nothing here is a test.
"""

from __future__ import annotations

import argparse
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


from click.testing import CliRunner  # noqa: E402

from gradcheck_cli.cli import cli  # noqa: E402
from gradcheck_cli.derivation import check as link_check  # noqa: E402
from gradcheck_cli.network.network import forward, forward_from, with_kinks  # noqa: E402
from gradcheck_cli.run.one_spec import Overrides, check_problem, load_problem  # noqa: E402
from gradcheck_cli.witness.central import central_differences  # noqa: E402

SPIRAL = ROOT / "specs" / "seed004_spiral_softmax_l2.yaml"


def explained(spec: Path, folder: Path) -> Path:
    """The spec with explain's derivation block appended, as the README tells a student to do."""
    out = CliRunner().invoke(cli, ["explain", str(spec)]).stdout
    pasted = folder / spec.name
    pasted.write_text(spec.read_text() + out[out.index("derivation:\n"):])
    return pasted


def plain_loop(net, params, x, y, kind, layer, eps):  # noqa: ANN001, ANN201 - the witness it replaced
    name, start = f"{kind}{layer}", layer if kind == "z" else layer + 1
    fp = forward(net, params, x, y)
    value = fp.z[layer - 1] if kind == "z" else fp.a[layer]

    def loss(q):  # noqa: ANN001, ANN202
        fp = forward_from(net, params, y, layer, **{kind: q[name]})
        return with_kinks(net, fp, first_layer=start, from_z=kind == "z")

    return central_differences(loss, {name: value}, eps)


def timed(path: Path, runs: int) -> tuple[list[float], str]:
    times, status = [], ""
    for _ in range(runs):
        problem = load_problem(path)
        started = time.perf_counter()
        result = check_problem(problem, str(path), Overrides(timeout=None))
        times.append(time.perf_counter() - started)
        status = result.status.value
    return times, status


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):7.3f} s ({min(times):.3f}-{max(times):.3f}, n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    skipped = {"homework", "demos", "layer_checks"}  # wrong on purpose, or no network to explain
    specs = sorted(p for p in (ROOT / "specs").rglob("*.yaml")
                   if not skipped & set(p.parts) and "relu_no_bias_row" not in p.name)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        print(f"explain's derivation checked link by link ({args.runs} runs each, in process)")
        for spec in specs:
            times, status = timed(explained(spec, folder), args.runs)
            print(f"  {spec.relative_to(ROOT / 'specs')!s:48} {summary(times)}  {status}")
        spiral = explained(SPIRAL, folder)
        fast, _ = timed(spiral, args.runs)
        unit_witness = link_check.quantity_witness
        link_check.quantity_witness = lambda net, params, y, kind, layer, value, eps: plain_loop(  # type: ignore
            net, params, load_problem(spiral).x.astype(float), y, kind, layer, eps)
        try:
            slow, _ = timed(spiral, 1)
        finally:
            link_check.quantity_witness = unit_witness
        started = time.perf_counter()
        code = subprocess.run([sys.executable, "-m", "gradcheck_cli", "check", "--jobs", "1", str(spiral)],
                              capture_output=True, check=False).returncode
        command = time.perf_counter() - started
    print("\nseed 004 spiral (300 samples, 100 ReLU units), explain's derivation:")
    print(f"  one unit across the batch (default) {summary(fast)}")
    print(f"  plain per-entry loop (replaced)     {summary(slow)}")
    print(f"  ratio                               {statistics.median(slow) / statistics.median(fast):7.1f} x")
    print(f"  whole command, fresh process        {command:7.3f} s (exit {code})")


if __name__ == "__main__":
    main()
