"""The typed read results hold exactly what ``show --json`` and ``history --json`` print."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from opmodel.projections.results import HistoryEntry, Model
from opmodel.service import Service
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "uk-shared-services.yaml"
DATA = ROOT / "tests" / "data"


def _same_model(document: dict[str, Any]) -> None:
    typed = Model.from_json(document)
    again = typed.to_json()
    assert again == document
    assert list(again) == list(document)  # the keys in SPEC §6's order
    assert json.dumps(again) == json.dumps(document)  # ... at every level


def _same_history(rows: list[dict[str, Any]]) -> None:
    assert rows
    for row in rows:
        again = HistoryEntry.from_json(row).to_json()
        assert json.dumps(again) == json.dumps(row)


@pytest.fixture
def example(cli: Cli) -> Cli:
    """The shipped example imported into a fresh SQLite store."""
    cli.ok("import", str(EXAMPLE))
    return cli


def test_the_examples_model_reads_back_as_the_same_document(example: Cli) -> None:
    document = example.json("show")
    assert document["clusters"]
    assert document["departments"]
    assert document["decisions"]
    _same_model(document)


def test_a_past_model_and_one_cluster_read_back_as_the_same_documents(example: Cli) -> None:
    _same_model(example.json("show", "--as-of", "2024-06-30"))
    _same_model(example.json("show", "--as-recorded", "@40"))
    _same_model(example.json("show", "--cluster", "Synergy"))


def test_the_examples_history_reads_back_as_the_same_rows(example: Cli) -> None:
    _same_history(example.history())


def test_the_version_1_model_reads_back_as_the_same_document() -> None:
    _same_model(json.loads((DATA / "events-v1-show.json").read_text()))


def test_the_version_1_store_reads_back_as_the_same_documents(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (DATA / "events-v1.jsonl").read_text().splitlines()]
    with Service.open(f"sqlite:///{tmp_path / 'v1.db'}", write=True) as service:
        service.app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=UUID(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=json.dumps(row["state"]).encode(),
                )
                for row in rows
            ]
        )
        service.catch_up()
        _same_model(service.show().to_json())
        _same_history([e.to_json() for e in service.history()])


def test_a_read_result_is_frozen_and_takes_no_unknown_keys() -> None:
    document = json.loads((DATA / "events-v1-show.json").read_text())
    model = Model.from_json(document)
    with pytest.raises(FrozenInstanceError):
        model.position = 1  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown keys"):
        Model.from_json({**document, "department_ids": {}})


def test_money_in_a_read_result_is_an_exact_decimal_string() -> None:
    document = json.loads((DATA / "events-v1-show.json").read_text())
    document["clusters"][0]["funding_gbp"] = "1.5"
    with pytest.raises(ValueError, match="not money"):
        Model.from_json(document)


def test_a_change_keeps_field_before_and_after_only_when_a_field_changed() -> None:
    from opmodel.projections.results import Change

    added = {"kind": "cluster", "subject": "cluster:X", "change": "added", "summary": "X."}
    changed = {
        "kind": "department",
        "subject": "department:DWP",
        "change": "changed",
        "field": "cluster",
        "before": None,
        "after": "Synergy",
        "summary": "DWP moved.",
    }
    for document in (added, changed):
        assert json.dumps(Change.from_json(document).to_json()) == json.dumps(document)
