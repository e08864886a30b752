"""SIGTERM and SIGHUP end a run and everything it started, with exit 128 + the signal, and leave an
existing report as it was (reports are renamed into place, never written half-way)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SPECS, session_members

SLEEPER = '''
import time


def backward(q):
    time.sleep(60)
    return {"dz2": q["a2"]}
'''


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process sessions from Linux's /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_signal_ends_the_run_and_its_workers(tmp_path: Path, signum: int, jobs: str) -> None:
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(SLEEPER)
    report = tmp_path / "report.xml"
    report.write_text("<old/>")
    specs = [SPECS / "seed002_two_layer_sigmoid.yaml", SPECS / "seed000_three_layer_mean.yaml"]
    child = subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "check", "--jobs", jobs, "--backward",
                              str(sleeper), "--format", "junit", "--output", str(report), *map(str, specs)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(4)  # the specs are in the user's sleeping backward by now
    assert child.poll() is None
    child.send_signal(signum)
    started = time.perf_counter()
    assert child.wait(timeout=30) == 128 + signum
    assert time.perf_counter() - started < 10
    with child.stderr:
        stderr = child.stderr.read().decode()
    assert "Traceback" not in stderr, stderr
    time.sleep(0.5)  # terminated workers are reaped by the ending parent; give the kernel a moment
    assert session_members(child.pid) == []
    assert report.read_text() == "<old/>" and sorted(p.name for p in tmp_path.iterdir()) == ["report.xml", "sleeper.py"]


def test_a_reader_that_stops_early_ends_the_run_like_a_pipe_writer() -> None:
    """``gradcheck check ... | head``: exit 128 + SIGPIPE (141) as the shell's own tools do, no traceback."""
    child = subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "check", "--jobs", "1", "-v", str(SPECS)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.read(10)  # far more than a pipe's buffer is coming
    child.stdout.close()
    _, stderr = child.communicate(timeout=120)
    notes = stderr.decode().splitlines()  # the layer checks in the folder are skipped, each with its note
    assert child.returncode == 128 + signal.SIGPIPE and all(line.startswith("skipped ") for line in notes)
