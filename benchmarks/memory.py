"""Benchmark: the memory guard's estimate against the measured peak of real checks.

    python benchmarks/memory.py

For a range of networks (wide, deep, large batches, both layouts, with a derivation) it runs
``gradcheck check --jobs 1`` in a fresh process, reads its peak resident memory (the kernel's
ru_maxrss), subtracts the peak of the same command on a two-parameter spec (the interpreter, numpy
and gradcheck's modules), and prints that against ``memory_estimate.memory_needed``'s estimate. The guard is on
the safe side when estimate >= measured; it is not wasteful while estimate <= 1.5 x measured. The
target is both, for every row. Nothing here is a test.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradcheck_cli.reading.memory import memory_needed  # noqa: E402
from gradcheck_cli.run.one_spec import load_problem  # noqa: E402

DERIVATION = """
derivation:
  dz2: (a2 - y) * a2 * (1 - a2)
  dW2: dz2 @ a1.T
  dz1: (W2.T @ dz2) * (1 - a1 ** 2)
  dW1: dz1 @ x.T
"""


def spec(inputs: int, units: list[int], batch: int, layout: str = "column", derivation: bool = False) -> str:
    activations = ["tanh"] * (len(units) - 1) + ["sigmoid"]
    layers = "\n".join(f"  - {{units: {u}, activation: {a}}}" for u, a in zip(units, activations, strict=True))
    text = textwrap.dedent(f"""\
        version: 1
        layout: {layout}
        input: {inputs}
        layers:
        {{layers}}
        loss: half_sse
        data: {{batch: {batch}}}
        """).replace("{layers}", layers.replace("\n", "\n"))
    return text + (DERIVATION if derivation else "")


CASES = {
    "tiny (baseline)": spec(1, [1], 1),
    "784-256-10, batch 32": spec(784, [256, 10], 32),
    "1000-1000-10, batch 64": spec(1000, [1000, 10], 64),
    "2000-2000-10, batch 16": spec(2000, [2000, 10], 16),
    "100-100 x 6 layers, batch 256": spec(100, [100] * 6, 256),
    "10-50-2, batch 20,000": spec(10, [50, 2], 20_000),
    "1000-500-10 row, batch 128": spec(1000, [500, 10], 128, layout="row"),
    "200-300-2 + derivation, batch 500": spec(200, [300, 2], 500, derivation=True),
    "seed 004 1000-100-10 relu row (bundled)": (ROOT / "specs" / "seed004_relu_no_bias_row.yaml").read_text(),
    "seed 004 spiral softmax + L2 (bundled)": (ROOT / "specs" / "seed004_spiral_softmax_l2.yaml").read_text(),
    "784-256-256-10 tanh softmax-CE (bench)": (ROOT / "benchmarks" / "deep_tanh.yaml").read_text(),
    "LeNet-style conv net, batch 8 (bundled)": (ROOT / "specs" / "layers" / "lenet.yaml").read_text(),
    "conv + batchnorm (bundled)": (ROOT / "specs" / "layers" / "batchnorm.yaml").read_text(),
    "conv 3x32x32, 2 x 16 filters 3x3, batch 32": textwrap.dedent("""\
        version: 1
        layout: row
        input: [3, 32, 32]
        layers:
          - {type: conv2d, filters: 16, kernel: 3, padding: 1, activation: relu}
          - {type: maxpool2d, size: 2}
          - {type: conv2d, filters: 16, kernel: 3, padding: 1, activation: relu}
          - {type: flatten}
          - {units: 10}
        loss: softmax_cross_entropy
        data: {batch: 32}
        """),
    "LSTM T=16, H=32 (bench)": (ROOT / "benchmarks" / "lstm.yaml").read_text(),
}


def peak_rss(path: Path) -> int:
    """Peak resident bytes of one ``gradcheck check`` in a fresh process (Linux reports KiB)."""
    code = ("import resource, subprocess, sys; "
            f"subprocess.run([sys.executable, '-m', 'gradcheck_cli', 'check', '--jobs', '1', {str(path)!r}], "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return int(out) * 1024


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        rows = []
        for label, text in CASES.items():
            path = Path(scratch) / "spec.yaml"
            path.write_text(text)
            problem = load_problem(path)
            estimate, params, _ = memory_needed(problem.spec, problem.network)
            rows.append((label, params, estimate, peak_rss(path)))
    baseline = rows[0][3]
    print(f"baseline (interpreter, numpy, gradcheck): {baseline / 2**20:.0f} MiB; "
          f"python {sys.version.split()[0]}")
    print(f"{'network':36} {'params':>11} {'estimate':>10} {'measured':>10} {'ratio':>6}  verdict")
    for label, params, estimate, peak in rows[1:]:
        measured = max(peak - baseline, 1)
        ratio = estimate / measured
        verdict = "safe" if ratio >= 1 else "UNDER"
        verdict += ", within 1.5x" if ratio <= 1.5 else ", over 1.5x"
        print(f"{label:36} {params:>11,} {estimate / 2**20:>8.1f} M {measured / 2**20:>8.1f} M {ratio:>6.2f}"
              f"  {verdict}")


if __name__ == "__main__":
    main()
