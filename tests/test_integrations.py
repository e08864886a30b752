"""The JSON Schema, the pre-commit hook, the pytest plugin and the Python API."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

import gradcheck_cli
from conftest import NETWORK_SPECS, SMALL_SPEC, SPECS, derivation, run
from gradcheck_cli.errors import SpecError
from gradcheck_cli.reading.loader import load_yaml_file, load_yaml_text
from gradcheck_cli.reading.model import json_schema

ROOT = SPECS.parent
SCHEMA_FILE = ROOT / "docs" / "spec.schema.json"

INVALID_FOR_BOTH = {
    "unknown key": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: sse\nseeed: 3\n",
    "missing input": "version: 1\nlayers: [{units: 1}]\nloss: sse\n",
    "zero units": "version: 1\ninput: 2\nlayers: [{units: 0}]\nloss: sse\n",
    "unknown activation": "version: 1\ninput: 2\nlayers: [{units: 1, activation: rleu}]\nloss: sse\n",
    "unknown loss": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: {name: hinge}\n",
    "unknown loss shorthand": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: hinge\n",
    "bad layout": "version: 1\ninput: 2\nlayout: rows\nlayers: [{units: 1}]\nloss: sse\n",
    "bad parameter name": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: sse\nparameters: {V1: [[1, 2]]}\n",
    "text where a count is meant": "version: 1\ninput: two\nlayers: [{units: 1}]\nloss: sse\n",
    "empty layers": "version: 1\ninput: 2\nlayers: []\nloss: sse\n",
    "wrong version": "version: 2\ninput: 2\nlayers: [{units: 1}]\nloss: sse\n",
    "negative l2": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: sse\nl2: -1\n",
    "bad expect": "version: 1\ninput: 2\nlayers: [{units: 1}]\nloss: sse\nexpect: maybe\n",
}


@pytest.mark.snapshot
def test_schema_command_prints_the_committed_schema_file() -> None:
    """docs/spec.schema.json is what editors load; it must never go stale."""
    result = run("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_schema_accepts_every_bundled_spec() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    specs = NETWORK_SPECS
    for path in specs:
        data, _ = load_yaml_file(path)
        assert not list(validator.iter_errors(data)), path
    assert run("validate", *specs).exit_code == 0


@pytest.mark.parametrize("case", sorted(INVALID_FOR_BOTH))
def test_schema_and_loader_both_reject(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID_FOR_BOTH[case])
    data, _ = load_yaml_text(INVALID_FOR_BOTH[case])
    assert list(jsonschema.Draft202012Validator(json_schema()).iter_errors(data)), case
    assert run("validate", path).exit_code == 2


def test_bundled_specs_carry_the_schema_modeline() -> None:
    for path in NETWORK_SPECS:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        assert (path.parent / first.split("=", 1)[1]).resolve() == SCHEMA_FILE.resolve(), path


def test_pre_commit_manifest_is_valid_and_its_entry_works(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
    program, command, *args = hook["entry"].split()
    assert (program, command) == ("gradcheck", "check")
    spec = tmp_path / "net.yaml"
    spec.write_text(textwrap.dedent(SMALL_SPEC))
    ci_config = tmp_path / "workflow.yml"
    ci_config.write_text("on: push\njobs: {}\n")
    # pre-commit passes the changed files explicitly, spec or not
    assert run(command, *args, spec, ci_config).exit_code == 0


def test_pytest_plugin_collects_specs_as_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", good=textwrap.dedent(SMALL_SPEC))
    pytester.makefile(".yaml", bad=textwrap.dedent(SMALL_SPEC + derivation(2)))
    pytester.makefile(".yaml", demo=textwrap.dedent(SMALL_SPEC + derivation(2)) + "expect: fail\n")
    pytester.makefile(".yml", config="on: push\n")  # not a spec: not collected
    result = pytester.runpytest("--gradcheck", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*bad.yaml*", "*dW2*FAIL*"])


def test_pytest_plugin_is_off_without_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", good=textwrap.dedent(SMALL_SPEC))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes()


def test_python_api_checks_a_path_or_a_mapping() -> None:
    report = gradcheck_cli.check(SPECS / "seed002_two_layer_sigmoid.yaml")
    assert report.status is gradcheck_cli.Status.PASS
    assert round(report.loss, 9) == 0.298371109
    assert [p.name for p in report.params] == ["W1", "b1", "W2", "b2"]
    data, _ = load_yaml_text(textwrap.dedent(SMALL_SPEC))
    assert gradcheck_cli.check(data).status is gradcheck_cli.Status.PASS
    wrong, _ = load_yaml_text(textwrap.dedent(SMALL_SPEC + derivation(2)))
    assert gradcheck_cli.check(wrong).status is gradcheck_cli.Status.FAIL
    slightly, _ = load_yaml_text(textwrap.dedent(SMALL_SPEC + derivation(1.05)))
    assert gradcheck_cli.check(slightly).status is gradcheck_cli.Status.FAIL
    assert gradcheck_cli.check(slightly, warn_rtol=0.1).status is gradcheck_cli.Status.WARN  # keyword overrides
    with pytest.raises(SpecError, match="warn_rtol must be a finite number from 1e-12 to 0.1"):
        gradcheck_cli.check(wrong, warn_rtol=0.9)  # but not past the range
    with pytest.raises(SpecError, match="unknown activation 'tanhh'"):
        gradcheck_cli.check({**data, "layers": [{"units": 2, "activation": "tanhh"}]})


def test_the_console_script_runs_with_one_blas_thread() -> None:
    """launcher.py sets one BLAS thread before numpy loads, which only works because importing the
    package loads no numpy; a value the user set is kept."""
    import os
    import subprocess
    import sys

    probe = ("import sys, gradcheck_cli; print('numpy' in sys.modules); "
             "from gradcheck_cli.launcher import main; sys.argv = ['gradcheck', '--version']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "import os; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[0] == "False" and out.splitlines()[-1] == "1 1"
    env["OPENBLAS_NUM_THREADS"] = "2"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == "2 1"



def test_the_console_script_tunes_the_allocator_for_itself_and_its_workers() -> None:
    """launcher.py keeps freed memory for reuse (process_settings.py): the settings go into the
    environment, where spawned workers' glibc reads them at start; a value the user set is kept."""
    import os
    import subprocess
    import sys

    probe = ("import sys; from gradcheck_cli.launcher import main; sys.argv = ['gradcheck', '--version']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "import os; print(os.environ['MALLOC_TRIM_THRESHOLD_'], os.environ['MALLOC_MMAP_THRESHOLD_'])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == f"{256 << 20} {32 << 20}"
    env["MALLOC_TRIM_THRESHOLD_"] = "131072"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == f"131072 {32 << 20}"

@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_the_allocator_is_tuned_through_glibc_on_linux_only(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """Off Linux there is no glibc to tune (and loading "the C library" fails on Windows): nothing is
    loaded there, and the environment is still set for worker processes."""
    import ctypes
    import os

    from gradcheck_cli.run import process_settings

    loaded = []

    def cdll(name):  # noqa: ANN001, ANN202
        loaded.append(name)
        raise TypeError("no C library by that name")  # what Windows does with CDLL(None)

    for name in process_settings.ALLOCATOR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", platform)
    monkeypatch.setattr(ctypes, "CDLL", cdll)
    process_settings.tune_allocator()
    assert all(os.environ[name] == value for name, value in process_settings.ALLOCATOR_VARIABLES.items())
    assert len(loaded) == (len(process_settings.ALLOCATOR_VARIABLES) if platform == "linux" else 0)
