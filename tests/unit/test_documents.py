"""An import file read and parsed by a helper while the program starts (Prefetched).

The document must be the one reading it here gives, errors included.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opmodel import documents
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
    assert prefetched._forked is not None  # parsed by a helper
    assert prefetched.document() == documents.load(path)


def test_a_file_that_cannot_be_parsed_gives_the_error_reading_it_here_gives(
    tmp_path: Path, every_file_prefetched: None
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nentries: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidImportFile) as here:
        documents.load(path)
    prefetched = documents.Prefetched(path)
    assert prefetched._forked is not None
    with pytest.raises(InvalidImportFile) as prefetching:
        prefetched.document()
    assert str(prefetching.value) == str(here.value)


def test_a_small_file_is_read_here(tmp_path: Path) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(YAML, encoding="utf-8")
    prefetched = documents.Prefetched(path)
    assert prefetched._forked is None
    assert prefetched.document() == documents.load(path)


def test_a_prefetch_not_wanted_is_discarded(tmp_path: Path, every_file_prefetched: None) -> None:
    path = tmp_path / "programme.yaml"
    path.write_text(YAML, encoding="utf-8")
    prefetched = documents.Prefetched(path)
    forked = prefetched._forked
    assert forked is not None
    prefetched.discard()
    with pytest.raises(ChildProcessError):
        os.waitpid(forked.pid, os.WNOHANG)
