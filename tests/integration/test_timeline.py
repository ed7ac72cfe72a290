"""The timeline read model, and time travel's two ways of choosing its events.

Time travel selects the events of a past model in SQL from the ``timeline`` read
model (one row per model event: position, thing, version, effective date) and
reads only those; when the timeline has not applied every event up to the
position asked about, it reads every event instead. Here, on both backends:

- the timeline's rows are what the events say, after each write's catch-up and
  after a rebuild (of the timeline alone, or of every read model);
- both ways select the same events in the same order, for every date the
  programme's history turns on, at several positions, with backdated facts;
- a timeline behind the store is not used, and the answer is the same;
- a store made before the timeline existed answers from its events, and its
  first write (or ``projections update``) builds the timeline.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from opmodel.application import UnitOfWork
from opmodel.commands import build
from opmodel.projections.base import INTERNAL_AGGREGATES
from opmodel.projections.timeline import positions_to_apply, timeline
from opmodel.projections.tracking import projection_tracking
from opmodel.service import Service, make_meta
from opmodel.timetravel import PointInTime, scan_events, select_events
from opmodel_cli.main import main

Row = tuple[int, str, int, date]

#: A small programme, recorded one command at a time, some facts late and backdated.
PROGRAMME: list[tuple[str, str, dict[str, Any]]] = [
    ("cluster form", "2021-01-04", {"name": "Meridian", "phases": 3}),
    ("cluster form", "2021-01-04", {"name": "Lattice"}),
    ("department register", "2021-01-04", {"code": "DCA", "name": "Coastal Affairs"}),
    ("department register", "2021-01-04", {"code": "DRI", "name": "Rural Infrastructure"}),
    ("department register", "2021-01-04", {"code": "TSO", "name": "Tidal Survey Office"}),
    ("department join", "2021-02-01", {"code": "DCA", "cluster": "Meridian"}),
    ("department join", "2021-02-01", {"code": "DRI", "cluster": "Meridian"}),
    ("department join", "2021-02-01", {"code": "TSO", "cluster": "Lattice"}),
    ("cluster lead", "2021-02-01", {"name": "Meridian", "dept": "DCA"}),
    # Registered effective 2022, its joining backdated to 2021: it exists from the joining.
    ("department register", "2022-01-01",
     {"code": "NLA", "name": "Lighthouse Agency", "kind": "alb", "parent": "DCA"}),
    ("department join", "2021-06-01", {"code": "NLA", "cluster": "Meridian"}),
    ("contract award", "2021-04-01",
     {"ref": "MER-LEDGER", "cluster": "Meridian", "kind": "software", "supplier": "Ledgerline",
      "value": "100m", "start": "2021-04-01", "term_months": 36, "extension_months": 12}),
    ("assurance rate", "2023-03-01", {"cluster": "Lattice", "rating": "amber"}),
    ("department move", "2022-07-01", {"code": "DRI", "cluster": "Lattice"}),
    ("contract vary", "2022-10-01", {"ref": "MER-LEDGER", "value": "120m"}),
    ("contract correct", "2022-01-01", {"ref": "MER-LEDGER", "term_months": 48}),
    ("decision propose", "2021-03-01",
     {"title": "One ledger", "context": "Two ledgers", "decision": "Keep one",
      "concerns": ["cluster:Meridian", "contract:MER-LEDGER"]}),
    ("decision accept", "2021-03-15", {"id": "DEC-0001"}),
    ("phase plan", "2021-01-10", {"cluster": "Meridian", "number": 1, "name": "Discovery"}),
    ("phase start", "2021-05-01", {"cluster": "Meridian", "number": 1}),
    ("phase onboard", "2021-05-02", {"cluster": "Meridian", "number": 1, "dept": "DCA"}),
    ("department rename", "2021-09-01", {"code": "TSO", "new_code": "TSA"}),
]  # fmt: skip


@pytest.fixture
def service(store_url: str) -> Iterator[Service]:
    with Service.open(store_url, write=True) as opened:
        yield opened


def run(service: Service, name: str, effective: str, arguments: dict[str, Any]) -> None:
    meta = make_meta(
        effective=date.fromisoformat(effective), actor="timeline-test", reason="as it happened"
    )
    service.execute([(build(name, arguments), meta)])


def record_programme(service: Service) -> None:
    for name, effective, arguments in PROGRAMME:
        run(service, name, effective, arguments)


def expected_rows(service: Service) -> list[Row]:
    """What the stored events say: one row per event time travel applies."""
    return [
        (e.position, e.originator_id.hex, e.event.originator_version, e.meta.effective)
        for e in service.database.read_events(0, service.head())
        if e.aggregate not in INTERNAL_AGGREGATES
    ]


def timeline_rows(service: Service) -> list[Row]:
    t = timeline.c
    with service.database.connect() as conn:
        found = conn.execute(
            select(t.position, t.originator_id, t.originator_version, t.effective).order_by(
                t.position
            )
        )
        return [(r[0], r[1], r[2], r[3]) for r in found]


def tracked(service: Service) -> int:
    return next(s["position"] for s in service.status() if s["name"] == "timeline")


def interesting_days() -> list[date | None]:
    """Every effective date of the programme, the day before it, and no date at all."""
    days = {date.fromisoformat(effective) for _, effective, _ in PROGRAMME}
    return [None, *sorted(days | {d - timedelta(days=1) for d in days})]


def both_ways(service: Service, point: PointInTime) -> tuple[list[int], list[int]]:
    """Positions selected through the timeline, and by reading every event."""
    up_to = point.position if point.position is not None else service.head()
    selected = [e.position for e in select_events(service.database, point)]
    scanned = [e.position for e in scan_events(service.database, up_to, point.as_of)]
    return selected, scanned


def test_the_timeline_has_a_row_per_model_event_after_each_write_and_after_a_rebuild(
    service: Service,
) -> None:
    for name, effective, arguments in PROGRAMME:
        run(service, name, effective, arguments)
        # Each write's catch-up keeps the timeline level with the store.
        assert timeline_rows(service) == expected_rows(service), name
        assert tracked(service) == service.head()
    rows = timeline_rows(service)
    # Bookkeeping (code index, decision numbering) has no row; everything else has one.
    assert 0 < len(rows) < service.head()
    assert len({r[0] for r in rows}) == len(rows)

    summary = service.rebuild(["timeline"])
    assert summary["rebuilt"] == ["timeline"]
    assert timeline_rows(service) == rows
    service.rebuild(service.projection_names(None))
    assert timeline_rows(service) == rows
    assert tracked(service) == service.head()


def test_the_timeline_selects_what_reading_every_event_selects(service: Service) -> None:
    record_programme(service)
    head = service.head()
    positions = sorted({1, head // 3, head // 2, head - 5, head - 1, head})
    with service.database.connect() as conn:
        for up_to in positions:
            for day in interesting_days():
                # The timeline is level with the store, so it is the one used here.
                assert positions_to_apply(conn, up_to, day) is not None
    for up_to in [None, *positions]:
        for day in interesting_days():
            selected, scanned = both_ways(service, PointInTime(position=up_to, as_of=day))
            assert selected == scanned, (up_to, day)
    # The backdated joining puts the Lighthouse Agency in Meridian from June 2021.
    shown = service.show(as_of="2021-06-01").to_json()
    assert [d["cluster"] for d in shown["departments"] if d["code"] == "NLA"] == ["Meridian"]


def test_a_timeline_behind_the_store_is_not_used_and_the_answer_is_the_same(
    service: Service,
) -> None:
    record_programme(service)
    level = service.head()
    # A rating recorded without bringing the read models up to date (as if the writer
    # had crashed before its catch-up), backdated to 2021.
    rate = build("assurance rate", {"cluster": "Meridian", "rating": "red"})
    meta = make_meta(effective=date(2021, 5, 1), actor="timeline-test")

    def work(uow: UnitOfWork) -> None:
        rate.run(service.app, uow, meta)

    service.app.execute(work)
    head = service.head()
    assert head > level == tracked(service)

    with service.database.connect() as conn:
        assert positions_to_apply(conn, head, date(2021, 6, 1)) is None
        assert positions_to_apply(conn, head, None) is None
        assert positions_to_apply(conn, level, date(2021, 6, 1)) is not None
    for day in interesting_days():
        selected, scanned = both_ways(service, PointInTime(as_of=day))
        assert selected == scanned, day
        assert selected == [
            e.position for e in select_events(service.database, PointInTime(as_of=day))
        ]
    behind = service.show(as_of="2021-06-01").to_json()
    meridian = next(c for c in behind["clusters"] if c["name"] == "Meridian")
    assert (behind["position"], meridian["rating"]) == (head, "red")

    service.catch_up()
    assert tracked(service) == head
    assert timeline_rows(service) == expected_rows(service)
    with service.database.connect() as conn:
        assert positions_to_apply(conn, head, date(2021, 6, 1)) is not None
    assert service.show(as_of="2021-06-01").to_json() == behind


@pytest.mark.parametrize("upgrade", ["write", "projections update"])
def test_a_store_made_before_the_timeline_answers_and_is_upgraded(
    store_url: str, upgrade: str
) -> None:
    days = ["2021-01-31", "2021-06-01", "2022-06-30", "2022-07-01", "2023-12-31"]
    with Service.open(store_url, write=True) as service:
        record_programme(service)
        answers = {day: service.show(as_of=day).to_json() for day in days}
        recorded = service.show(as_recorded="@20", as_of="2022-07-01").to_json()
        # What a store made before the timeline existed looks like: no table, no row.
        with service.database.engine.connect() as conn, conn.begin():
            timeline.drop(conn)
            tracking = projection_tracking
            conn.execute(delete(tracking).where(tracking.c.name == "timeline"))

    with Service.open(store_url) as old:  # read-only: nothing is created
        assert {day: old.show(as_of=day).to_json() for day in days} == answers
        assert old.show(as_recorded="@20", as_of="2022-07-01").to_json() == recorded
        status = {s["name"]: s for s in old.status()}
        head = old.head()
        assert (status["timeline"]["position"], status["timeline"]["behind"]) == (0, head)
        with old.database.connect() as conn:
            assert positions_to_apply(conn, head, date(2022, 7, 1)) is None
    assert gc.isenabled()

    # The next write (its catch-up), or projections update, creates and fills the timeline.
    command = ["projections", "update"]
    if upgrade == "write":
        command = ["funding", "grant", "Lattice", "--amount", "5m", "--effective", "2024-01-01"]
    cli = CliRunner(env={"OPMODEL_ACTOR": "timeline-test"})
    result = cli.invoke(main, ["--store", store_url, *command, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Service.open(store_url) as upgraded:
        now = upgraded.head()
        assert now == head + (1 if upgrade == "write" else 0)
        assert tracked(upgraded) == now
        assert timeline_rows(upgraded) == expected_rows(upgraded)
        with upgraded.database.connect() as conn:
            assert positions_to_apply(conn, now, date(2022, 7, 1)) is not None
        # The grant took effect in 2024: the earlier answers are as they were.
        assert {day: upgraded.show(as_of=day).to_json() for day in days[:-1]} == {
            day: {**answers[day], "position": now} for day in days[:-1]
        }
        assert upgraded.show(as_recorded="@20", as_of="2022-07-01").to_json() == recorded
