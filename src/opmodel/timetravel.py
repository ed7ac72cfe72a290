"""The model as it was: as recorded at a moment, as of a date, at a phase, and what changed.

Past answers come from the same events and the same read-model handlers as
the present one: the selected events are applied, by
:class:`~opmodel.projections.operating_model.OperatingModelProjection`, to a
private in-memory SQLite database holding the operating-model tables, and the
same query reads it. The current read models are never touched.

- **As recorded** at ``@P`` (or at a moment T, meaning the last position
  recorded at or before T): only events at positions ≤ P, in position order.
- **As of** a date D: only facts effective on or before D, applied in
  (effective date, position) order. A thing exists from the earliest date any
  fact about it takes effect: if a department's joining is dated before its
  registration was, its registration is applied from the joining's date.
- Both together: positions ≤ P, then effective on or before D.

The selection is made in SQL from the ``timeline`` read model
(:mod:`opmodel.projections.timeline`), and only the selected events are read
and deserialised; while the timeline has not applied every event up to P, every
event is read instead (:func:`scan_events`). See ADR 0005.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.schema import CreateTable

from opmodel.domain.values import parse_date
from opmodel.errors import InvalidInput, NotFound, PhaseNotInProgress
from opmodel.projections.base import INTERNAL_AGGREGATES, AnyOperation, Envelope
from opmodel.projections.history import history, utc_stamp
from opmodel.projections.operating_model import (
    OperatingModelProjection,
    changes_the_model,
    clusters,
    department_ids,
    facts,
    metadata,
    phases,
    query_model,
)
from opmodel.projections.timeline import phase_of, stored_events_to_apply
from opmodel.store.database import Database
from opmodel.store.execution import gc_paused, run_operations

READ_BATCH = 5000


@dataclass(frozen=True)
class PointInTime:
    """Which history to answer from: up to a position, and up to an effective date."""

    position: int | None = None
    recorded: str | None = None  # as the user gave it: "@57" or a timestamp
    as_of: date | None = None
    label: str | None = None  # how diff names it, e.g. "phase:Synergy:2"

    def judged_on(self) -> date:
        """The day contract expiry is judged against."""
        if self.as_of is not None:
            return self.as_of
        if self.recorded and not self.recorded.startswith("@"):
            return parse_moment(self.recorded).date()
        return date.today()


def parse_moment(text: str, *, what: str = "--as-recorded") -> datetime:
    """An ISO timestamp (``2024-01-31T12:00:00Z``); a bare date means the end of that day."""
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = parse_date(value, what=what)
        if day == date.max:  # the end of time: nothing was recorded after it
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC) - timedelta(
            microseconds=1
        )
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(
            f"{what} {text!r} is not a moment: write @POSITION, a date (YYYY-MM-DD) "
            "or a timestamp like 2024-01-31T12:00:00Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def position_recorded_by(database: Database, text: str, *, what: str = "--as-recorded") -> int:
    """The position current at ``@P`` or at a moment T (0 if nothing was recorded by then).

    ``what`` names the option the user gave, for error messages.
    """
    value = text.strip()
    head = database.head()
    if value.startswith("@"):
        number = value[1:]
        if not (number.isascii() and number.isdigit()):
            raise InvalidInput(f"{what} {text!r}: write @ and a position, like @57")
        position = int(number)
        if position > head:
            raise NotFound(f"position {position} does not exist yet: the store's head is {head}")
        return position
    stamp = utc_stamp(parse_moment(value, what=what))
    with database.connect() as conn:
        found = conn.execute(
            select(func.max(history.c.position)).where(history.c.recorded_at <= stamp)
        ).scalar()
    return int(found or 0)


#: More phases than any cluster has; a larger number is not asked of the database.
MAX_PHASE = 2**31 - 1


def phase_date(database: Database, reference: str) -> date:
    """The completion (or, with ``:start``, start) date of phase ``CLUSTER:N[:start]``."""
    parts = reference.strip().split(":")
    want_start = len(parts) == 3 and parts[2].lower() == "start"
    digits = parts[1] if len(parts) > 1 else ""
    if (
        len(parts) not in (2, 3)
        or not (digits.isascii() and digits.isdigit())
        or (len(parts) == 3 and not want_start)
    ):
        raise InvalidInput(
            f"phase {reference!r} is not valid: write CLUSTER:N or CLUSTER:N:start (Synergy:2)"
        )
    name, number = parts[0], int(parts[1])
    with database.connect() as conn:
        cluster = conn.execute(
            select(clusters.c.id, clusters.c.name).where(clusters.c.name_key == name.casefold())
        ).first()
        if cluster is None:
            raise NotFound(f"cluster {name!r} does not exist", cluster=name)
        if number > MAX_PHASE:  # no cluster has that many (nor could the database hold it)
            raise NotFound(f"phase {cluster.name}:{number} has not been planned")
        row = conn.execute(
            select(*facts(phases)).where(
                phases.c.cluster_id == cluster.id, phases.c.number == number
            )
        ).first()
    if row is None:
        raise NotFound(f"phase {cluster.name}:{number} has not been planned")
    when = row.started if want_start else row.completed
    if when is None:
        state = "started" if want_start else "completed"
        if not want_start and row.started is not None:
            hint = (
                f": ask for its start ({cluster.name}:{number}:start, {row.started}) "
                "or for a date with --as-of"
            )
        else:
            hint = ": ask for a date with --as-of, or record the phase's progress first"
        raise PhaseNotInProgress(
            f"phase {cluster.name}:{number} has not {state}, so there is no model "
            f"at its {'start' if want_start else 'completion'}{hint}",
            cluster=cluster.name,
            phase=number,
        )
    return when  # type: ignore[no-any-return]


def point_in_time(
    database: Database,
    *,
    as_of: str | date | None = None,
    as_recorded: str | None = None,
    at_phase: str | None = None,
) -> PointInTime:
    """Resolve the time options of ``show`` into a :class:`PointInTime`."""
    if as_of is not None and at_phase is not None:
        raise InvalidInput("give --as-of or --at-phase, not both")
    day = parse_date(as_of, what="--as-of") if as_of is not None else None
    if at_phase is not None:
        day = phase_date(database, at_phase)
    position = position_recorded_by(database, as_recorded) if as_recorded is not None else None
    return PointInTime(position=position, recorded=as_recorded, as_of=day)


def point_from_reference(database: Database, reference: str) -> PointInTime:
    """``diff`` endpoints: a date, ``@POS``, or ``phase:CLUSTER:N[:start]``."""
    value = reference.strip()
    if value.startswith("@"):
        return PointInTime(
            position=position_recorded_by(database, value), recorded=value, label=value
        )
    if value.lower().startswith("phase:"):
        return PointInTime(as_of=phase_date(database, value[len("phase:") :]), label=value)
    try:
        return PointInTime(as_of=parse_date(value, what="diff endpoint"), label=value)
    except InvalidInput:
        raise InvalidInput(
            f"{reference!r} is not a point in time: write a date (YYYY-MM-DD), @POSITION "
            "or phase:CLUSTER:N"
        ) from None


def select_events(
    database: Database, point: PointInTime, *, every_event: bool = False
) -> list[Envelope]:
    """The events that make the model at ``point``, in the order to apply them.

    The timeline read model names the positions (selected and ordered in SQL) and
    only those events are read and deserialised. When the timeline has not applied
    every event up to the position asked about, every event is read instead
    (:func:`scan_events`): the same answer, only slower.
    """
    rows = _selected_rows(database, point, every_event=every_event)
    with gc_paused():
        if rows is None:
            return scan_events(
                database, _up_to(database, point), point.as_of, every_event=every_event
            )
        return database.envelopes(rows, stored=False)


def _up_to(database: Database, point: PointInTime) -> int:
    return point.position if point.position is not None else database.head()


def _selected_rows(
    database: Database, point: PointInTime, *, every_event: bool = False
) -> list[tuple[Any, ...]] | None:
    """The stored rows of :func:`select_events`, in order (None: the timeline is behind)."""
    events = database.events_table()
    with database.connect() as conn:
        return stored_events_to_apply(
            conn, events, _up_to(database, point), point.as_of, every_event=every_event
        )


def _build(database: Database, point: PointInTime, builder: ModelBuilder) -> None:
    """Apply the events that make the model at ``point`` to ``builder``, in order."""
    rows = _selected_rows(database, point)
    if rows is None:
        builder.apply(scan_events(database, _up_to(database, point), point.as_of))
    else:
        builder.apply(database.envelopes(rows, stored=False))


def _stream(database: Database, up_to: int) -> Iterator[Envelope]:
    after = 0
    while True:
        limit = min(READ_BATCH, up_to - after)
        if limit <= 0:
            return
        batch = database.read_events(after, limit)
        if not batch:
            return
        for envelope in batch:
            if envelope.aggregate not in INTERNAL_AGGREGATES:
                yield envelope
        after = batch[-1].position


def scan_events(
    database: Database, up_to: int, as_of: date | None, *, every_event: bool = False
) -> list[Envelope]:
    """:func:`select_events` by reading every event up to ``up_to`` (no timeline needed)."""
    events = list(_stream(database, up_to))

    def wanted(e: Envelope) -> bool:
        return every_event or changes_the_model(e)

    if as_of is None:
        return [e for e in events if wanted(e)]
    earliest: dict[Any, date] = {}
    for e in events:
        effective = e.meta.effective
        # Per thing, all its facts; per phase, its starts, completions and go-lives.
        phase = phase_of(e) if e.name != "PhasePlanned" else None
        for key in (e.originator_id, phase):
            if key is not None and (key not in earliest or effective < earliest[key]):
                earliest[key] = effective

    def effective_of(e: Envelope) -> date:
        # A created-event (version 1) takes effect no later than any fact about its
        # thing, and a phase's plan no later than the phase's first start, completion
        # or go-live.
        if e.event.originator_version == 1:
            return min(e.meta.effective, earliest[e.originator_id])
        if e.name == "PhasePlanned":
            return min(e.meta.effective, earliest.get(phase_of(e), e.meta.effective))
        return e.meta.effective

    keyed = [(effective_of(e), e.position, e) for e in events]
    # Every fact counts for the earliest dates; only those the model changes for are applied.
    keyed = [k for k in keyed if k[0] <= as_of and wanted(k[2])]
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [k[2] for k in keyed]


class ModelBuilder:
    """An in-memory operating-model read model, fed with chosen events."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://")
        self.conn = self.engine.connect()
        with self.conn.begin():
            # Tables, keys, constraints and unique indexes, but no other index: each
            # row here is written once or twice and the model query reads the tables
            # whole, so those indexes only slowed the writes.
            for table in metadata.sorted_tables:
                self.conn.execute(CreateTable(table))
                for index in table.indexes:
                    if index.unique:
                        index.create(self.conn)
        self.projection = OperatingModelProjection()

    def apply(self, events: Sequence[Envelope]) -> None:
        self.run(self.projection.operations(self.conn, events))

    def run(self, operations: Iterable[AnyOperation]) -> None:
        """Run operations worked out for this read model (by :meth:`apply`, or a helper)."""
        with self.conn.begin():
            run_operations(self.conn, operations)

    def model(self, *, cluster: str | None, on: date, with_ids: bool = False) -> dict[str, Any]:
        with self.conn.begin():
            model = query_model(self.conn, cluster=cluster, on=on)
            if with_ids:
                model["department_ids"] = department_ids(self.conn)
            return model

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()


def model_at(
    database: Database, point: PointInTime, *, cluster: str | None = None, with_ids: bool = False
) -> dict[str, Any]:
    """The operating model at ``point``, in the ``show --json`` shape.

    ``with_ids`` adds ``department_ids`` (code -> lasting id), so a diff can tell a
    re-code from a department leaving and another arriving.
    """
    position = point.position if point.position is not None else database.head()
    with gc_paused():
        builder = ModelBuilder()
        try:
            # The events are let go as soon as they are applied, before the collector
            # runs again: otherwise its first pass walks every one of them.
            _build(database, replace(point, position=position), builder)
            model = builder.model(cluster=cluster, on=point.judged_on(), with_ids=with_ids)
        except NotFound:
            if cluster is not None and _exists_now(database, cluster):
                raise NotFound(
                    f"cluster {cluster!r} did not exist yet {_describe(point)}: it was formed "
                    "later (see opmodel history --cluster)",
                    cluster=cluster,
                ) from None
            raise
        finally:
            builder.close()
    return {
        "position": position,
        "as_of": point.as_of.isoformat() if point.as_of else None,
        "as_recorded": point.recorded,
        **model,
    }


def _exists_now(database: Database, cluster: str) -> bool:
    with database.connect() as conn:
        found = conn.execute(
            select(clusters.c.id).where(clusters.c.name_key == cluster.casefold())
        ).first()
    return found is not None


def _describe(point: PointInTime) -> str:
    """``as of 2020-01-31``, ``as recorded @12``, or both."""
    parts = []
    if point.as_of is not None:
        parts.append(f"as of {point.as_of.isoformat()}")
    if point.recorded is not None:
        parts.append(f"as recorded {point.recorded}")
    return " and ".join(parts) or "then"
