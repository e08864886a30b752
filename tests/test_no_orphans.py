"""A parallel run leaves no process behind: every worker, the progress manager and multiprocessing's
resource tracker end, and are reaped, before the command exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SPECS, session_members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process sessions from Linux's /proc")
def test_a_parallel_run_leaves_no_process_behind(tmp_path: Path) -> None:
    specs = [SPECS / "seed002_two_layer_sigmoid.yaml", SPECS / "seed000_three_layer_mean.yaml"]
    child = subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "check", "--jobs", "2", *map(str, specs)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                             env={**os.environ, "COLUMNS": "120"})
    assert child.wait(timeout=120) == 0
    assert session_members(child.pid) == []  # nothing of the run survives it, reparented or defunct
