"""Forked workers for a recurrent layer's chunks (witness/forked.py): the same witness as the threads,
bit for bit, taken only where forking is safe, and no run leaves one behind, whatever ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from conftest import session_members
from gradcheck_cli.run.one_spec import load_problem
from gradcheck_cli.witness import fast, forked

ROOT = Path(__file__).resolve().parents[1]
LSTM = ROOT / "benchmarks" / "lstm.yaml"
LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="forked workers are Linux's; reads /proc")


@LINUX
def test_forked_workers_give_the_threads_witness_bit_for_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = load_problem(LSTM)
    params = {k: v.astype(np.float64) for k, v in problem.params.items()}
    inline = fast.fast_central_differences(problem.network, params, problem.x, problem.y, 1e-6, workers=1)
    entered = []

    @contextmanager
    def spied(chunks, workers):  # noqa: ANN001, ANN202
        with forked.forked_workers(chunks, workers) as pool:
            entered.append(len(chunks))
            yield pool

    monkeypatch.setattr(fast, "fork_usable", lambda chunks, recurrent: recurrent)  # whatever threads pytest has
    monkeypatch.setattr(fast, "forked_workers", spied)
    two = fast.fast_central_differences(problem.network, params, problem.x, problem.y, 1e-6, workers=2)
    assert entered and entered[0] >= forked.FORK_FROM  # the chunks went to forked workers
    for name in params:
        np.testing.assert_array_equal(inline.gradient[name], two.gradient[name])
        np.testing.assert_array_equal(inline.step[name], two.step[name])
        np.testing.assert_array_equal(inline.kink[name], two.kink[name])


def test_forking_is_left_to_where_it_is_safe_and_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "linux")
    assert forked.usable(forked.FORK_FROM, recurrent=True)
    assert not forked.usable(forked.FORK_FROM, recurrent=False)  # a convolution's chunks: threads do well
    assert not forked.usable(forked.FORK_FROM - 1, recurrent=True)  # too few chunks to pay for forking
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not forked.usable(forked.FORK_FROM, recurrent=True)  # a thread could hold a lock across the fork
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not forked.usable(forked.FORK_FROM, recurrent=True)


# An LSTM whose witness takes several seconds, so that a run can be stopped while its workers work.
LONG_LSTM = """version: 1
layout: row
seed: 5
input: [STEPS, 16]
layers:
  - {type: lstm, units: 32}
  - {units: 10}
loss: {name: softmax_cross_entropy, reduction: mean}
data: {batch: 8}
"""


def _start(tmp_path: Path, *options: str, steps: int = 64) -> subprocess.Popen[bytes]:
    spec = tmp_path / "long_lstm.yaml"
    spec.write_text(LONG_LSTM.replace("STEPS", str(steps)))
    return subprocess.Popen([sys.executable, "-m", "gradcheck_cli", "check", *options, str(spec)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_workers(child: subprocess.Popen[bytes], members: int = 3) -> None:
    """Until the run's forked workers are there (the session holds the run and two more; with
    ``members=2``, as soon as the first is forked, before it can have set its own signal handling)."""
    deadline = time.monotonic() + 60
    while len(session_members(child.pid)) < members:
        if child.poll() is not None or time.monotonic() > deadline:
            if session_members(child.pid):
                os.killpg(child.pid, signal.SIGKILL)
            if child.stderr is not None:
                child.stderr.close()
            pytest.fail("the run's forked workers never started")
        time.sleep(0.02)


def _ended_clean(child: subprocess.Popen[bytes], code: int) -> None:
    """The run ended with ``code``, without a traceback, and left no process behind. Whatever is
    left is killed before the test fails, so that a failure can neither hang it nor the next one
    (a leftover worker would hold the run's stderr open)."""
    try:
        assert child.wait(timeout=30) == code
        deadline = time.monotonic() + 10
        while session_members(child.pid) and time.monotonic() < deadline:  # the kernel reaps them
            time.sleep(0.05)
        assert session_members(child.pid) == []
        _, stderr = child.communicate(timeout=10)
        assert b"Traceback" not in stderr, stderr.decode()
    finally:
        if session_members(child.pid):
            os.killpg(child.pid, signal.SIGKILL)
        if child.stderr is not None:
            child.stderr.close()


@LINUX
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_run_and_its_forked_workers(tmp_path: Path, signum: int) -> None:
    child = _start(tmp_path)
    _wait_for_workers(child)
    child.send_signal(signum)
    _ended_clean(child, 128 + signum)


@LINUX
@pytest.mark.parametrize("members", [2, 3])
def test_ctrl_c_on_the_terminal_ends_the_run_and_its_forked_workers(tmp_path: Path, members: int) -> None:
    child = _start(tmp_path)
    _wait_for_workers(child, members)  # 2: right at the fork
    os.killpg(child.pid, signal.SIGINT)  # as a terminal does: to the run and its workers alike
    _ended_clean(child, 128 + signal.SIGINT)


@LINUX
def test_forked_workers_die_with_a_run_that_is_killed_outright(tmp_path: Path) -> None:
    child = _start(tmp_path)
    _wait_for_workers(child)
    child.kill()  # SIGKILL: the run cannot clean up; the kernel ends its workers (PR_SET_PDEATHSIG)
    _ended_clean(child, -signal.SIGKILL)


@LINUX
def test_the_time_budget_ends_the_forked_workers_too(tmp_path: Path) -> None:
    child = _start(tmp_path, "--timeout", "3", steps=320)  # a witness several times the budget
    _wait_for_workers(child)
    _ended_clean(child, 2)
