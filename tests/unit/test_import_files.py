"""Import files parsed (opmodel.importing.parse) and validated (opmodel.importing.validate)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from opmodel.errors import InvalidImportFile
from opmodel.importing import prefetch
from opmodel.importing.parse import load
from opmodel.importing.validate import validate
from opmodel.writing import make_meta

YAML = """version: 1
defaults: {actor: programme-office}
entries:
  - cluster form: {name: Synergy}
    effective: 2021-03-01
    reason: "Shared Services Strategy: \\u00e9t\\u00e9"
  - department register: {code: DWP, name: Department for Work and Pensions}
  - department join: {code: DWP, cluster: Synergy}
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _plan(path: Path) -> Any:
    return validate(path, load(path), make_meta, command_id="c" * 32)


def test_a_document_is_its_content_and_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    path = _file(tmp_path, YAML)
    document = load(path)
    assert document.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert document.content["entries"][0]["reason"] == "Shared Services Strategy: été"
    assert document.content["entries"][0]["effective"] == "2021-03-01"  # dates stay text


def test_merge_keys_are_read_as_pyyaml_reads_them(tmp_path: Path) -> None:
    path = _file(
        tmp_path, "version: 1\nentries:\n  - cluster form: {<<: {name: Synergy}, phases: 3}\n"
    )
    assert load(path).content["entries"][0]["cluster form"] == {"name": "Synergy", "phases": 3}


def test_every_entry_becomes_a_command_with_the_defaults_and_its_own_metadata(
    tmp_path: Path,
) -> None:
    plan = _plan(_file(tmp_path, YAML))
    assert [command.name for command, _ in plan.items] == [
        "cluster form",
        "department register",
        "department join",
    ]
    first, second = plan.items[0][1], plan.items[1][1]
    assert first.actor == second.actor == "programme-office"
    assert first.effective == date(2021, 3, 1)
    assert first.command_id == second.command_id == "c" * 32
    assert plan.filename == "programme.yaml"


def test_the_file_s_shape_is_reported_before_any_invalid_entry(tmp_path: Path) -> None:
    path = _file(tmp_path, "version: 2\nentries:\n  - department join: {code: '!!'}\n")
    with pytest.raises(InvalidImportFile, match="version must be 1"):
        _plan(path)


def test_the_first_invalid_entry_is_named_by_number_and_command(tmp_path: Path) -> None:
    path = _file(tmp_path, YAML + "  - department join: {code: DWP}\n  - cluster form: {}\n")
    with pytest.raises(InvalidImportFile, match=r"^entry 4 \(department join\)"):
        _plan(path)


@pytest.fixture
def every_file_prefetched(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)


def test_a_prefetched_document_is_the_one_parsed_here(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = _file(tmp_path, YAML)
    prefetched = prefetch.Prefetched(path)
    assert prefetched._pid is not None  # parsed by a helper
    assert prefetched.document() == load(path)


def test_a_file_the_helper_cannot_parse_gives_the_error_parsing_it_here_gives(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = _file(tmp_path, "version: 1\nentries: [unclosed\n")
    with pytest.raises(InvalidImportFile) as here:
        load(path)
    with pytest.raises(InvalidImportFile) as prefetched:
        prefetch.Prefetched(path).document()
    assert str(prefetched.value) == str(here.value)


def test_a_small_file_is_parsed_here(tmp_path: Path) -> None:
    path = _file(tmp_path, YAML)
    prefetched = prefetch.Prefetched(path)
    assert prefetched._pid is None
    assert prefetched.document() == load(path)


def test_a_prefetch_not_wanted_is_ended_and_reaped(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    import os

    prefetched = prefetch.Prefetched(_file(tmp_path, YAML))
    pid = prefetched._pid
    assert pid is not None
    prefetched.discard()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
