"""A past model built on two cores is the one built in one process (ADR 0012).

With many events to apply, a forked helper deserialises the later half of them and
works out their operations while the command applies the earlier half. The shipped
example is small, so the threshold is lowered here to make every past model use a
helper; each answer must equal the one process's, byte for byte, and a helper that
fails must cost nothing but time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opmodel import parallel, timetravel
from tests.conftest import Cli

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "uk-shared-services.yaml"

QUESTIONS = [
    ("show", "--as-of", "2021-06-30"),
    ("show", "--as-of", "2023-12-31"),
    ("show", "--as-of", "2025-09-30"),
    ("show", "--as-recorded", "@60"),
    ("show", "--as-of", "2024-06-30", "--as-recorded", "@150"),
    ("diff", "2022-12-31", "2025-12-31"),
]


@pytest.fixture
def example(tmp_path: Path) -> Cli:
    cli = Cli(f"sqlite:///{tmp_path / 'uk.db'}", CliRunner())
    cli.ok("import", str(EXAMPLE))
    return cli


def answers(cli: Cli) -> list[str]:
    return [cli.ok(*question, "--json").stdout for question in QUESTIONS]


def test_past_models_on_two_cores_are_the_one_process_ones(
    example: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_EVENTS", 10**9)
    alone = answers(example)
    forked: list[Any] = []
    original = parallel.Streamed.__init__

    def counted(self: parallel.Streamed[Any], produce: Any) -> None:
        original(self, produce)
        forked.append(self.pid)

    monkeypatch.setattr(parallel.Streamed, "__init__", counted)
    monkeypatch.setattr(parallel, "MIN_EVENTS", 1)
    assert answers(example) == alone
    assert len(forked) == len(QUESTIONS) + 1  # a diff builds two past models


def test_a_helper_that_fails_leaves_the_later_events_to_this_process(
    example: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_EVENTS", 10**9)
    alone = answers(example)

    def broken(*_: Any) -> None:
        raise RuntimeError("the helper broke")

    monkeypatch.setattr(timetravel, "_later_operations", broken)
    monkeypatch.setattr(parallel, "MIN_EVENTS", 1)
    assert answers(example) == alone
