"""``explain --latex`` compiles: a real renderer (KaTeX, strict, run by node) typesets what gradcheck
writes for every bundled spec and for every activation, loss, layout, bias kind, reduction and L2.

KaTeX comes from tests/latex/package.json (``npm ci --prefix tests/latex``, which .ci/run does).
Without node or KaTeX these tests are skipped on a developer's machine and fail in CI (``CI`` set),
so CI never passes them unrun.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import NETWORK_SPECS, SPECS, run
from gradcheck_cli.network.activations import ACTIVATIONS
from gradcheck_cli.network.losses import LOSSES

LATEX = Path(__file__).resolve().parent / "latex"
KATEX = LATEX / "node_modules" / "katex"
NODE = shutil.which("node")

if NODE is None or not KATEX.is_dir():
    reason = "KaTeX is not installed: run `npm ci --prefix tests/latex` (needs node)"
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must render explain --latex: {reason}")
    pytestmark = pytest.mark.skip(reason=reason)

# a loss and the output activation it is used with
OUTPUTS = {"half_sse": "identity", "sse": "tanh", "mse": "sigmoid", "cross_entropy": "softmax",
           "softmax_cross_entropy": "identity", "binary_cross_entropy": "sigmoid"}


def render(latex: str) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run([NODE, str(LATEX / "render.js")], input=latex, capture_output=True, text=True,
                          env={**os.environ, "NODE_PATH": str(LATEX / "node_modules")}, timeout=60)


def explained(spec: Path) -> str:
    result = run("explain", "--latex", spec)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("spec", NETWORK_SPECS, ids=lambda p: str(p.relative_to(SPECS)))
def test_every_bundled_spec_compiles(spec: Path) -> None:
    rendered = render(explained(spec))
    assert rendered.returncode == 0, rendered.stderr


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("layout", ["column", "row"])
def test_every_activation_and_loss_compiles(tmp_path: Path, activation: str, loss: str, layout: str) -> None:
    bias = {"column": "per_unit", "row": "shared"}[layout]
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(f"""
        version: 1
        name: "50% of a name_with {{braces}} & $ signs"
        layout: {layout}
        input: 3
        layers:
          - {{units: 4, activation: {activation}, bias: {bias}}}
          - {{units: 3, activation: {OUTPUTS[loss]}}}
        loss: {{name: {loss}, reduction: mean}}
        l2: 0.01
        data: {{batch: 2}}
    """).lstrip())
    rendered = render(explained(spec))
    assert rendered.returncode == 0, rendered.stderr


def test_the_renderer_does_refuse_broken_latex() -> None:
    """The witness itself: the double superscript that explain once wrote for tanh does not compile."""
    assert render(r"\begin{aligned} & (1 - a^{[1]}^{\circ 2}) \end{aligned}").returncode == 1
    assert render(r"\begin{aligned} & (1 - (a^{[1]})^{\circ 2}) \end{aligned}").returncode == 0
