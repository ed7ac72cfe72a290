"""Time travel against the present: a past answer is the present answer of a smaller store.

Hypothesis draws sequences of write commands over the whole vocabulary of SPEC §6
(``tests.strategies.model_commands``), mostly valid, each run on its own through
:meth:`Service.execute` on a fresh SQLite file, with ``--effective`` dates that never
go back. Then:

(a) for positions P of that store, ``show(as_recorded="@P")`` equals the present
    ``show()`` of another fresh store given only the first P stored events (copied
    byte for byte and caught up): what the store said at P is what a store holding
    exactly that history says now;
(b) because every effective date is on or after the one before it, each date D can
    stand for the moment it was recorded: ``show(as_of=D)`` (facts effective on or
    before D) equals ``show(as_recorded="@P_D")``, where P_D is the last position
    effective on or before D. Contract expiry is the one thing judged on a different
    day (the as-of date against today), so it is checked on its own: as of D, an
    awarded contract is ``expired`` exactly when D is past its end;
(c) with effective dates drawn back and forth (backdated facts, things that exist
    before they were recorded), the timeline read model has one row per model event,
    as the events say, and selecting a past model's events through it gives the same
    events in the same order as reading every event of the store, for positions P and
    days D drawn as above.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from opmodel.commands import build
from opmodel.errors import OpmodelError
from opmodel.projections.base import INTERNAL_AGGREGATES
from opmodel.projections.timeline import positions_to_apply, timeline
from opmodel.service import Service, make_meta
from opmodel.timetravel import PointInTime, scan_events, select_events
from tests.strategies import (
    as_of_probes,
    day_offsets,
    day_steps,
    model_commands,
    store_positions,
    time_travel_steps,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("OPMODEL_TT_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Keys that say which question was asked, not what the model was.
TIME_KEYS = ("position", "as_of", "as_recorded")


#: Memory-backed files where the system has them: the examples commit often, and the
#: property is about answers, not about durability.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def sqlite_store() -> Iterator[Service]:
    """A new SQLite file, opened for writing, removed afterwards."""
    with (
        tempfile.TemporaryDirectory(prefix="opmodel-tt-", dir=SCRATCH) as folder,
        Service.open(f"sqlite:///{Path(folder) / 'opmodel.db'}", write=True) as service,
    ):
        yield service


def record_commands(
    service: Service, data: st.DataObject, *, backdating: bool = False
) -> list[date]:
    """Run drawn commands with never-decreasing effective dates; returns the dates used.

    With ``backdating``, each date is drawn up to 400 days either side of the one before.
    """
    shown = service.show().to_json()
    effective = date(2021, 3, 1)
    used: list[date] = []
    for step in range(data.draw(time_travel_steps, label="steps")):
        name, arguments = data.draw(model_commands(shown), label=f"command {step}")
        if backdating:
            effective += timedelta(days=data.draw(day_offsets, label="days later or earlier"))
        else:
            effective += timedelta(days=data.draw(day_steps, label="days later"))
        effective = min(effective, date.today())  # a fact cannot take effect in the future
        meta = make_meta(effective=effective, actor="prop", reason="time travel property")
        try:
            service.execute([(build(name, arguments), meta)])
        except OpmodelError as exc:
            event(f"rejected: {type(exc).__name__}")
            continue
        event(f"accepted: {name}")
        used.append(effective)
        shown = service.show().to_json()
    return used


def without_time_keys(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in TIME_KEYS}


def expiry_normalised(model: dict[str, Any]) -> dict[str, Any]:
    """The model with ``expired`` read as ``active``: the only field judged on a day."""
    out = without_time_keys(model)
    out["clusters"] = [
        {
            **c,
            "contracts": [
                {**k, "status": "active" if k["status"] == "expired" else k["status"]}
                for k in c["contracts"]
            ],
        }
        for c in model["clusters"]
    ]
    return out


@SETTINGS
@given(data=st.data())
def test_as_recorded_at_p_is_the_present_of_a_store_holding_the_first_p_events(
    data: st.DataObject,
) -> None:
    with sqlite_store() as service:
        record_commands(service, data)
        head = service.head()
        positions = data.draw(store_positions(head), label="positions")
        for position in positions:
            past = service.show(as_recorded=f"@{position}").to_json()
            assert (past["position"], past["as_recorded"], past["as_of"]) == (
                position, f"@{position}", None,
            )  # fmt: skip
            first = service.app.recorder.select_notifications(start=1, limit=position)
            assert [n.id for n in first] == list(range(1, position + 1))
            with sqlite_store() as fresh:
                if first:
                    fresh.app.recorder.insert_events(
                        [
                            StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                            for n in first
                        ]
                    )
                    fresh.catch_up()
                assert fresh.head() == position
                present = fresh.show().to_json()
            assert present["position"] == position
            assert without_time_keys(past) == without_time_keys(present), position
            event(f"position {'= head' if position == head else '< head'}")
        # Asking about the past wrote nothing.
        assert service.head() == head


@SETTINGS
@given(data=st.data())
def test_as_of_a_date_is_as_recorded_when_everything_took_effect_as_it_was_recorded(
    data: st.DataObject,
) -> None:
    with sqlite_store() as service:
        used = record_commands(service, data)
        stream = service.database.read_events(0, service.head() + 1)
        effective = [(e.position, e.meta.effective) for e in stream]
        # The premise: effective dates never go back in position order.
        assert [d for _, d in effective] == sorted(d for _, d in effective)
        for day in data.draw(as_of_probes(used), label="days asked about"):
            p_day = max((p for p, d in effective if d <= day), default=0)
            as_of = service.show(as_of=day).to_json()
            as_recorded = service.show(as_recorded=f"@{p_day}").to_json()
            assert as_of["as_of"] == day.isoformat()
            assert as_recorded["position"] == p_day
            assert expiry_normalised(as_of) == expiry_normalised(as_recorded), day
            # Expiry is judged on the as-of date itself.
            for contract in (k for c in as_of["clusters"] for k in c["contracts"]):
                if contract["status"] in ("active", "expired") and contract["end"] is not None:
                    expired = day > date.fromisoformat(contract["end"])
                    assert contract["status"] == ("expired" if expired else "active"), (
                        day,
                        contract,
                    )
                    event(f"contract {'expired' if expired else 'active'} on the day")
            event("nothing recorded yet" if p_day == 0 else "something recorded")


@SETTINGS
@given(data=st.data())
def test_the_timeline_selects_what_reading_every_event_selects(data: st.DataObject) -> None:
    with sqlite_store() as service:
        used = sorted(record_commands(service, data, backdating=True))
        head = service.head()
        t = timeline.c
        with service.database.connect() as conn:
            rows = conn.execute(
                select(t.position, t.originator_id, t.originator_version, t.effective).order_by(
                    t.position
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            (e.position, e.originator_id.hex, e.event.originator_version, e.meta.effective)
            for e in service.database.read_events(0, head)
            if e.aggregate not in INTERNAL_AGGREGATES
        ]
        days: list[date | None] = [None, *data.draw(as_of_probes(used), label="days")]
        for position in data.draw(store_positions(head), label="positions"):
            for day in days:
                with service.database.connect() as conn:
                    assert positions_to_apply(conn, position, day) is not None
                point = PointInTime(position=position, as_of=day)
                selected = [e.position for e in select_events(service.database, point)]
                scanned = [e.position for e in scan_events(service.database, position, day)]
                assert selected == scanned, (position, day)
                event("some events selected" if selected else "no event selected")


@SETTINGS
@given(data=st.data())
def test_the_present_is_the_model_as_of_today_whatever_order_facts_were_recorded_in(
    data: st.DataObject,
) -> None:
    # SPEC §3: the present model is what we now believe is true, so a fact recorded
    # late with an earlier --effective (a backdated correction) does not overwrite a
    # fact that took effect after it. Read models kept up event by event, and the same
    # read models rebuilt from zero, both agree with the model as of today.
    with sqlite_store() as service:
        record_commands(service, data, backdating=True)
        today = service.show(as_of=date.today()).to_json()
        assert without_time_keys(service.show().to_json()) == without_time_keys(today)
        service.rebuild(["operating_model"])
        assert without_time_keys(service.show().to_json()) == without_time_keys(today)
        event("backdated" if is_backdated(service) else "in order")


def is_backdated(service: Service) -> bool:
    """Whether some event took effect before one recorded ahead of it."""
    days = [e.meta.effective for e in service.database.read_events(0, service.head() + 1)]
    return days != sorted(days)
