"""Event classes are a persisted contract: events stored by version 1 still read back.

``tests/data/events-v1.jsonl`` holds one store's events, written by the first
release from ``events-v1-source.yaml``, covering every event class.
``events-v1-show.json`` is what ``show --json`` said of them. If an event class
is reshaped, these stored events must still load (through an upcaster) and
give the same model.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import StoredEvent

from opmodel import domain
from opmodel.service import Service

DATA = Path(__file__).parent.parent / "data"
DOCS = Path(__file__).parent.parent.parent / "docs" / "events.md"


def _golden() -> list[dict[str, Any]]:
    lines = (DATA / "events-v1.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _event_classes() -> dict[str, type[DomainEvent]]:
    classes = {}
    for aggregate in (
        domain.Cluster, domain.Department, domain.DepartmentCode, domain.Contract,
        domain.Decision, domain.DecisionNumbering, domain.ImportBatch,
    ):  # fmt: skip
        for name, value in vars(aggregate).items():
            is_event = isinstance(value, type) and issubclass(value, DomainEvent)
            if is_event and name not in ("Event", "Created"):
                classes[f"{value.__module__}:{value.__qualname__}"] = value
    return classes


def test_the_golden_store_has_an_event_of_every_class() -> None:
    assert {row["topic"] for row in _golden()} == set(_event_classes())


def test_events_stored_by_version_1_rebuild_the_same_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    with Service.open(url, write=True) as service:
        service.app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=UUID(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=json.dumps(row["state"]).encode(),
                )
                for row in _golden()
            ]
        )
        service.catch_up()
        model = service.show().to_json()
        history = [e.to_json() for e in service.history()]
    expected = json.loads((DATA / "events-v1-show.json").read_text())
    assert model == expected
    assert len(history) == 54  # one row per stored event
    assert history[-1]["summary"] == "Synergy was rated AMBER by IPA."


def test_every_golden_event_deserialises_to_its_class_with_its_fields(tmp_path: Path) -> None:
    classes = _event_classes()
    with Service.open(f"sqlite:///{tmp_path / 'v1.db'}", write=True) as service:
        for row in _golden():
            stored = StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=json.dumps(row["state"]).encode(),
            )
            event = service.app.mapper.to_domain_event(stored)
            assert type(event) is classes[row["topic"]]
            stored_fields = set(row["state"]) - {"timestamp", "class_version"}
            current = {f.name for f in dataclasses.fields(event)} - {
                "originator_id", "originator_version", "timestamp",
            }  # fmt: skip
            assert current == stored_fields, row["topic"]


def test_docs_list_every_event_class_with_its_version() -> None:
    text = DOCS.read_text()
    for topic, cls in _event_classes().items():
        name = topic.split(":")[1]
        version = getattr(cls, "class_version", 1)
        assert re.search(rf"\| `{re.escape(name)}` \| {version} \|", text), name
