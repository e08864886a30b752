"""Print an :class:`~gradcheck_cli.commands.explain.Explanation`: plain, with the backward pass as a
``derivation:`` block ready to paste into the spec, or as one LaTeX ``aligned`` block."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from gradcheck_cli.commands.explain import Explanation

ALIGN_UP_TO = 64  # columns


def _tex_shape(shape: str) -> str:
    return r"\text{scalar}" if shape == "scalar" else shape.replace(" x ", r" \times ")


def render_explanation(explanation: Explanation, console: Console, *, latex: bool) -> None:
    if latex:
        lines = [r"% " + explanation.summary, r"\begin{aligned}"]
        lines += [f"  & {eq.latex} && {_tex_shape(eq.shape)} \\\\" for eq in explanation.forward + explanation.backward]
        lines.append(r"\end{aligned}")
        console.file.write("\n".join(lines) + "\n")
        return
    console.print(Text(explanation.summary, style="bold"))
    console.print(Text("forward:"))
    # the shapes line up after the formulas, up to a width; a longer formula keeps its line whole
    # (soft wrap: never broken by the terminal's width, so the block pastes as it is)
    width = min(max(len(eq.name) + len(eq.formula) for eq in explanation.forward + explanation.backward) + 8,
                ALIGN_UP_TO)
    for eq in explanation.forward:
        console.print(Text(f"  {eq.name} = {eq.formula}".ljust(width) + f"  # {eq.shape}"), soft_wrap=True)
    console.print(Text("backward (paste this into the spec to check it, then make it your own):"))
    console.print(Text("derivation:"))
    for eq in explanation.backward:
        note = "  (delta)" if eq.name.startswith("dz") else ""
        console.print(Text(f"  {eq.name}: {eq.formula}".ljust(width) + f"  # {eq.shape}{note}"), soft_wrap=True)
