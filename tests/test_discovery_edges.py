"""What a run over folders and globs finds: every real file once, no link cycle followed, special files
reported instead of dropped, existing names never read as globs, and non-spec YAML skipped, not passed."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from conftest import SMALL_SPEC, run
from gradcheck_cli.run.discover import discover

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="links and named pipes are POSIX features")


def spec(path: Path, text: str = SMALL_SPEC) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def test_link_cycles_are_not_followed_and_linked_twins_count_once(tmp_path: Path) -> None:
    real = spec(tmp_path / "specs" / "net.yaml")
    (tmp_path / "specs" / "twin.yaml").symlink_to(real)
    (tmp_path / "specs" / "deeper").mkdir()
    (tmp_path / "specs" / "deeper" / "up").symlink_to(tmp_path / "specs")  # a cycle
    for argument in (str(tmp_path / "specs"), str(tmp_path / "specs" / "**" / "*.yaml")):
        assert [t.path for t in discover([argument])] == [real], argument


def test_special_files_found_by_a_search_are_error_entries(tmp_path: Path) -> None:
    good = spec(tmp_path / "good.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "broken.yaml").symlink_to(tmp_path / "gone.yaml")
    result = run("check", "--format", "json", "--jobs", "1", tmp_path)
    statuses = {Path(s["path"]).name: s["status"] for s in json.loads(result.stdout)["specs"]}
    assert result.exit_code == 2 and statuses == {"good.yaml": "pass", "pipe.yaml": "error", "broken.yaml": "error"}
    assert f"{tmp_path / 'pipe.yaml'}: error: is not a regular file" in result.stderr
    assert f"{tmp_path / 'broken.yaml'}: error: is a broken link" in result.stderr
    assert good.exists()


def test_an_existing_name_with_glob_characters_is_that_file(tmp_path: Path) -> None:
    named = spec(tmp_path / "a[1].yaml")
    spec(tmp_path / "a1.yaml", SMALL_SPEC.replace("name: small", "name: the glob would find me"))
    targets = discover([str(named)])
    assert [(t.path, t.explicit) for t in targets] == [(named, True)]


NON_SPECS = {
    "compose.yaml": 'version: "3.8"\nservices: {web: {image: nginx}}\n',
    "dependabot.yml": "version: 2\nupdates: []\n",
    "anchors.yaml": "base: &base {a: 1}\nderived: *base\n",
    "cloudformation.yaml": "Resources:\n  Bucket: !Ref Name\n",
    "multi.yaml": "a: 1\n---\nb: 2\n",
    "helm.yaml": "name: {{ .Values.name }}\n",
    "flag.yaml": "version: true\nlayers: []\n",
    "float.yaml": "version: 1.0\nlayers: []\n",
}


def test_non_spec_yaml_of_real_repositories_is_skipped_with_a_note(tmp_path: Path) -> None:
    for name, text in NON_SPECS.items():
        (tmp_path / "repo" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "repo" / name).write_text(text)
    spec(tmp_path / "repo" / "net.yaml")
    result = run("check", "--format", "json", "--jobs", "1", tmp_path / "repo")
    statuses = {Path(s["path"]).name: s["status"] for s in json.loads(result.stdout)["specs"]}
    assert result.exit_code == 0 and statuses == {**{name: "skip" for name in NON_SPECS}, "net.yaml": "pass"}
    assert all(f"skipped {tmp_path / 'repo' / name}: not a gradcheck spec" in result.stderr for name in NON_SPECS)


def test_a_file_that_claims_version_1_is_checked_even_when_its_yaml_is_refused(tmp_path: Path) -> None:
    spec(tmp_path / "specs" / "net.yaml")
    (tmp_path / "specs" / "sneaky.yaml").write_text("version: 1\nbase: &b {units: 2}\nlayers: [*b]\n")
    result = run("check", "--jobs", "1", tmp_path / "specs")
    assert result.exit_code == 2 and f"{tmp_path / 'specs' / 'sneaky.yaml'}:2: error: anchors" in result.stderr


@pytest.mark.parametrize("pattern", ["", "*.yaml"])
def test_a_folder_or_glob_of_non_specs_only_is_an_error(tmp_path: Path, pattern: str) -> None:
    for name, text in NON_SPECS.items():
        (tmp_path / name).write_text(text)
    argument = str(tmp_path / pattern) if pattern else str(tmp_path)
    for command in ("check", "validate"):
        result = run(command, "--jobs", "1", argument) if command == "check" else run(command, argument)
        assert result.exit_code == 2, command
        assert f"{argument}: error: none of the" in result.stderr and "is a gradcheck spec" in result.stderr
    assert run("check", "--skip-non-specs", "--jobs", "1", *(tmp_path / n for n in NON_SPECS)).exit_code == 0
