"""An import file read and parsed by a helper while the program starts (Prefetched).

The document must be the one reading it here gives, errors included, whether it
is handed over whole or part by part.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opmodel import documents, parallel
from opmodel.errors import InvalidImportFile

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

YAML = """version: 1
defaults: {actor: programme-office}
entries:
  - cluster form: {name: Synergy}
    effective: 2021-03-01
    reason: "Shared Services Strategy: \\u00e9t\\u00e9"
  - department register: {code: DWP, name: Department for Work and Pensions}
  - department join: {code: DWP, cluster: Synergy}
"""


@pytest.fixture
def every_file_prefetched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "PREFETCH_MIN_BYTES", 0)


def test_a_prefetched_document_is_the_one_read_here(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(YAML, encoding="utf-8")
    prefetched = documents.Prefetched(path)
    assert prefetched._streamed is not None  # parsed by a helper
    assert prefetched.document() == documents.load(path)


def test_a_file_that_cannot_be_parsed_gives_the_error_reading_it_here_gives(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nentries: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidImportFile) as here:
        documents.load(path)
    prefetched = documents.Prefetched(path)
    assert prefetched._streamed is not None
    with pytest.raises(InvalidImportFile) as prefetching:
        prefetched.document()
    assert str(prefetching.value) == str(here.value)


def test_a_small_file_is_read_here(tmp_path: Path) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(YAML, encoding="utf-8")
    prefetched = documents.Prefetched(path)
    assert prefetched._streamed is None
    assert prefetched.document() == documents.load(path)


def test_a_prefetch_not_wanted_is_discarded(tmp_path: Path, every_file_prefetched: None) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(YAML, encoding="utf-8")
    prefetched = documents.Prefetched(path)
    forked = prefetched._streamed
    assert forked is not None
    prefetched.discard()
    with pytest.raises(ChildProcessError):
        os.waitpid(forked.pid, os.WNOHANG)


def _programme(entries: int) -> str:
    return "version: 1\ndefaults: {actor: programme-office}\nentries:\n" + "".join(
        f"  - department register: {{code: D{n:04d}, name: Department {n}}}\n"
        for n in range(entries)
    )


def test_entries_are_handed_over_a_run_at_a_time_in_order(
    tmp_path: Path, every_file_prefetched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "ENTRIES_PER_PART", 4)
    path = tmp_path / "programme.yaml"
    path.write_text(_programme(10) + "version: 1\n", encoding="utf-8")  # a key after them
    prefetched = documents.Prefetched(path)
    parts = prefetched.parts()
    assert parts is not None
    assert parts.sha256 == documents.load(path).sha256
    received = list(parts)
    assert [p[0] for p in received] == ["key", "key", "entries", "entries", "entries", "key"]
    assert [len(p[1]) for p in received if p[0] == "entries"] == [4, 4, 2]
    assert documents.Parts("", iter(received)).document().content == documents.load(path).content


def test_a_helper_that_stops_midway_interrupts_the_parts_and_the_file_is_read_here(
    tmp_path: Path, every_file_prefetched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "ENTRIES_PER_PART", 2)
    path = tmp_path / "late-error.yaml"
    path.write_text(_programme(10) + "  - [unclosed\n", encoding="utf-8")
    parts = documents.Prefetched(path).parts()
    assert parts is not None
    received = []
    with pytest.raises(parallel.Interrupted):
        received.extend(parts)
    assert [len(p[1]) for p in received if p[0] == "entries"][:2] == [2, 2]  # before the error
    with pytest.raises(InvalidImportFile) as here:
        documents.load(path)
    with pytest.raises(InvalidImportFile) as prefetching:
        documents.Prefetched(path).document()
    assert str(prefetching.value) == str(here.value)


def test_a_document_the_fast_path_leaves_is_read_here_whole(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = tmp_path / "merged.yaml"
    path.write_text(
        "version: 1\nentries:\n  - cluster form: {<<: {name: Synergy}, phases: 3}\n",
        encoding="utf-8",
    )
    parts = documents.Prefetched(path).parts()
    assert parts is not None
    with pytest.raises(parallel.Interrupted):
        list(parts)
    assert documents.Prefetched(path).document() == documents.load(path)
    assert documents.load(path).content["entries"][0]["cluster form"] == {
        "name": "Synergy",
        "phases": 3,
    }
