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
    awarded contract is ``expired`` exactly when D is past its end.
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

from opmodel.commands import build
from opmodel.errors import OpmodelError
from opmodel.service import Service, make_meta
from tests.strategies import (
    as_of_probes,
    day_steps,
    model_commands,
    store_positions,
    time_travel_steps,
)

SETTINGS = settings(
    max_examples=15,
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


def record_commands(service: Service, data: st.DataObject) -> list[date]:
    """Run drawn commands with never-decreasing effective dates; returns the dates used."""
    shown = service.show()
    effective = date(2021, 3, 1)
    used: list[date] = []
    for step in range(data.draw(time_travel_steps, label="steps")):
        name, arguments = data.draw(model_commands(shown), label=f"command {step}")
        effective += timedelta(days=data.draw(day_steps, label="days later"))
        meta = make_meta(effective=effective, actor="prop", reason="time travel property")
        try:
            service.execute([(build(name, arguments), meta)])
        except OpmodelError as exc:
            event(f"rejected: {type(exc).__name__}")
            continue
        event(f"accepted: {name}")
        used.append(effective)
        shown = service.show()
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
            past = service.show(as_recorded=f"@{position}")
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
                present = fresh.show()
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
        stream = service.read_events(0, service.head() + 1)
        effective = [(e.position, e.meta.effective) for e in stream]
        # The premise: effective dates never go back in position order.
        assert [d for _, d in effective] == sorted(d for _, d in effective)
        for day in data.draw(as_of_probes(used), label="days asked about"):
            p_day = max((p for p, d in effective if d <= day), default=0)
            as_of = service.show(as_of=day)
            as_recorded = service.show(as_recorded=f"@{p_day}")
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
