"""The bare eventsourcing library, for the baselines: one plain aggregate, nothing of opmodel.

Its events look like opmodel's: a created-event with a name, a code, a kind and
a headcount, a change-event with an amount of money, and on each a metadata
mapping (effective date, actor, command id, reason, source). The reason is
padded so that the stored events average the same size as the events opmodel
stored for the same workload.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

REASON = "Recorded from the programme board minutes; figures as published, excluding VAT. "


class Item(Aggregate):
    """A thing of the programme, as plain as the library allows."""

    class Registered(Aggregate.Created):
        name: str
        code: str
        kind: str
        headcount: int
        meta: dict[str, Any]

    class Changed(Aggregate.Event):
        amount: Decimal
        period: str
        meta: dict[str, Any]

    @event(Registered)
    def __init__(self, name: str, code: str, kind: str, headcount: int, meta: dict[str, Any]):
        self.name = name
        self.code = code
        self.kind = kind
        self.headcount = headcount
        self.total = Decimal(0)

    @event(Changed)
    def change(self, amount: Decimal, period: str, meta: dict[str, Any]) -> None:
        self.total += amount


class BareApp(Application[uuid.UUID]):
    """The library's Application, unchanged (its table on PostgreSQL: bareapp_events)."""

    name = "BareApp"


def meta(number: int, reason: str) -> dict[str, Any]:
    """Event metadata like opmodel's, as a plain mapping."""
    return {
        "effective": f"20{21 + number % 5}-0{1 + number % 9}-1{number % 10}",
        "actor": "programme-office",
        "command_id": uuid.uuid4().hex,
        "reason": reason,
        "source": f"https://www.find-tender.service.gov.uk/Notice/{number % 99999:06d}-2023",
    }


def padded_reason(app: Application[uuid.UUID], events: int, aggregates: int, size: int) -> str:
    """A reason long enough that ``events`` events average ``size`` stored bytes."""
    probe = Item(name="Department of Finance 1", code="AD00001", kind="ministerial",
                 headcount=1234, meta=meta(1, ""))  # fmt: skip
    probe.change(Decimal("12.34"), "2023-24", meta(2, ""))
    created, changed = (len(app.mapper.to_stored_event(e).state) for e in probe.collect_events())
    average = (aggregates * created + (events - aggregates) * changed) / max(events, 1)
    missing = max(0, round(size - average))
    return (REASON * (missing // len(REASON) + 1))[:missing]


def make_items(app: Application[uuid.UUID], events: int, aggregates: int, size: int) -> list[Item]:
    """``aggregates`` items holding ``events`` events in all, ``size`` bytes each on average."""
    aggregates = max(1, min(aggregates, events))
    reason = padded_reason(app, events, aggregates, size)
    items = [
        Item(
            name=f"Department of Finance {i}",
            code=f"AD{i:05d}",
            kind="ministerial",
            headcount=1000 + i,
            meta=meta(i, reason),
        )
        for i in range(aggregates)
    ]
    for n in range(events - aggregates):
        items[n % aggregates].change(
            Decimal(n % 1000) + Decimal("0.25"), "2023-24", meta(n, reason)
        )
    return items
