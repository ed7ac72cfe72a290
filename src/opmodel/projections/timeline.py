"""The timeline read model: when each model event takes effect, for time travel to select by.

One row per stored event that time travel applies (every event but the
bookkeeping ones of :data:`~opmodel.projections.base.INTERNAL_AGGREGATES`):
its position, the thing it is about (originator id and version), its
effective date and the delivery phase it is about, if any. It is kept like
every read model (exactly once, in the batch's transaction, rebuilt by
``projections rebuild``).

:func:`positions_to_apply` answers the selection of SPEC §3 in SQL: the
positions a past model is built from, in the order to apply them (see
:mod:`opmodel.timetravel`). A created-event (version 1) takes effect no later
than any fact about its thing, and a phase's plan no later than the phase's
first start, completion or go-live; those are the window functions below. The
answer is used only when the timeline has applied every event up to the
position asked about; otherwise time travel reads every event instead, so an
answer never depends on how far behind a read model is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    TableClause,
    case,
    event,
    false,
    func,
    insert,
    literal,
    select,
    true,
)

from opmodel.projections.base import INTERNAL_AGGREGATES, AnyOperation, Envelope, Planned, Rows
from opmodel.projections.operating_model import changes_the_model
from opmodel.projections.tracking import tracked_position
from opmodel.store.execution import fetch_rows
from opmodel.store.schema import lacks_columns, table_columns

metadata = MetaData()

timeline = Table(
    "timeline",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("originator_id", String(32), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("effective", Date, nullable=False),
    # Facts about one delivery phase (plan, start, completion, go-lives): ``id:number``.
    Column("phase", String(40)),
    Column("planned", Boolean, nullable=False, server_default=false()),  # a PhasePlanned
    # Whether the operating model changes for it (a cluster's MemberAdmitted does not:
    # the department's own event carries the membership). Others still count for the
    # earliest dates, but are not read.
    Column("applied", Boolean, nullable=False, server_default=true()),
    Index(
        "timeline_thing",
        "originator_id",
        "effective",
        "position",
        "originator_version",
        "applied",
        "planned",
        "phase",
    ),
)

# A partial index: only the few rows about a phase. Written as DDL (the same text on
# SQLite and PostgreSQL) because an Index with dialect options makes SQLAlchemy import
# both dialects, and psycopg, whenever this module is imported (~50 ms per command).
event.listen(
    timeline,
    "after_create",
    DDL("CREATE INDEX timeline_phase ON timeline (phase) WHERE phase IS NOT NULL"),  # type: ignore[no-untyped-call]
)

#: The cluster events that are about one of its delivery phases (they carry its number).
PHASE_EVENTS = frozenset({"PhasePlanned", "PhaseStarted", "PhaseCompleted", "DepartmentOnboarded"})


def phase_of(envelope: Envelope) -> str | None:
    """``clusterid:number`` for a fact about a delivery phase, else None."""
    if envelope.aggregate == "Cluster" and envelope.name in PHASE_EVENTS:
        return f"{envelope.ident}:{envelope.event.number}"
    return None


S_TIMELINE = insert(timeline)


class TimelineProjection:
    """Position, thing, version and effective date of every model event."""

    name: ClassVar[str] = "timeline"
    metadata: ClassVar[MetaData] = metadata
    reads_stored: ClassVar[bool] = False

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        # A row follows from its event alone.
        rows = []
        for envelope in batch:
            event = envelope.event
            kind = _KIND_OF.get(type(event)) or _kind_of(envelope)
            if kind is _BOOKKEEPING:
                continue
            ident = event.originator_id.hex
            rows.append(
                (
                    envelope.position,
                    ident,
                    event.originator_version,
                    event.meta.effective,
                    f"{ident}:{event.number}" if kind.phase else None,
                    kind.planned,
                    kind.applied,
                )
            )
        return Planned([(S_TIMELINE, Rows(TIMELINE_COLUMNS, rows))])

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> list[AnyOperation]:
        return self.plan(batch).operations(conn)


#: The order of a timeline row's values in :meth:`TimelineProjection.plan`: the table's.
TIMELINE_COLUMNS = tuple(column.name for column in timeline.c)


class _Kind(NamedTuple):
    """What the timeline records of every event of one class."""

    phase: bool  # about a delivery phase (its row names it: see phase_of)
    planned: bool
    applied: bool


#: Bookkeeping events have no row.
_BOOKKEEPING = _Kind(False, False, False)
_KIND_OF: dict[type, _Kind] = {}


def _kind_of(envelope: Envelope) -> _Kind:
    """The timeline's view of an event's class (worked out once per class)."""
    if envelope.aggregate in INTERNAL_AGGREGATES:
        kind = _BOOKKEEPING
    else:
        kind = _Kind(
            phase=envelope.aggregate == "Cluster" and envelope.name in PHASE_EVENTS,
            planned=envelope.name == "PhasePlanned",
            applied=changes_the_model(envelope),
        )
    _KIND_OF[type(envelope.event)] = kind
    return kind


def positions_to_apply(
    conn: Connection, up_to: int, as_of: date | None, *, every_event: bool = False
) -> list[int] | None:
    """The positions that make the model at ``@up_to`` (as of ``as_of``), in applying order.

    Only events the operating model changes for, unless ``every_event`` (a replay
    lists them all).

    ``None`` when the timeline has not applied every event up to ``up_to`` (a store
    made before the timeline existed, a read model behind, or being rebuilt): the
    caller then reads the events themselves. Runs in a transaction of its own.
    """
    rows = _select(conn, _selection(up_to, as_of, every_event), up_to)
    return None if rows is None else [row[0] for row in rows]


def stored_events_to_apply(
    conn: Connection,
    events: TableClause,
    up_to: int,
    as_of: date | None,
    *,
    every_event: bool = False,
) -> list[tuple[int, int, Any, int, str, bytes]] | None:
    """The stored events at :func:`positions_to_apply`'s positions, in the same order.

    ``events`` is the event store's table, as :meth:`Database.events_table
    <opmodel.store.database.Database.events_table>` describes it: the
    selection is joined to it, so one query returns position, originator id, version,
    topic and state of each event to apply, after its rank in the applying order.
    ``None`` as for :func:`positions_to_apply`.

    The selection numbers its rows in applying order, and the rows are put in that
    order here: sorting in SQL would carry every state through the sort.
    """
    selected = _selection(up_to, as_of, every_event, numbered=True).subquery()
    columns = tuple(events.c)
    statement = select(selected.c.seq, *columns).join_from(
        selected, events, columns[0] == selected.c.position
    )
    rows = _select(conn, statement, up_to)
    if rows is None:
        return None
    rows.sort(key=itemgetter(0))
    return rows


def _select(conn: Connection, selection: Select[Any], up_to: int) -> list[tuple[Any, ...]] | None:
    with conn.begin():
        if up_to <= 0:
            return []
        if tracked_position(conn, TimelineProjection.name) < up_to:
            return None
        if lacks_columns([timeline], table_columns(conn)):
            return None  # made by an earlier version: rebuilt at the store's next write
        # Hold the table for the rest of the transaction (on PostgreSQL a rebuild's DROP
        # waits for it), then check again: rows at or below a tracked position never
        # change until a rebuild, so the selection below sees all of them.
        conn.execute(select(timeline.c.position).limit(1)).all()
        if tracked_position(conn, TimelineProjection.name) < up_to:
            return None
        return fetch_rows(conn, selection)


def _selection(
    up_to: int, as_of: date | None, every_event: bool, *, numbered: bool = False
) -> Select[Any]:
    """The positions to apply, in applying order (``numbered``: with ``seq``, unordered)."""
    t = timeline.c
    applied = true() if every_event else t.applied
    if as_of is None:
        return _in_order(t.position, (t.position,), numbered).where(t.position <= up_to, applied)
    # A created-event takes effect on the earliest date of any fact about its thing, and
    # a phase's plan no later than the phase's earliest start, completion or go-live
    # (among the events up to ``up_to``); every other event on its own date.
    earliest = func.min(t.effective).over(partition_by=t.originator_id)
    # The earliest start, completion or go-live of the phase (plans left out: a re-plan
    # takes effect on its own date, unless the phase moved on before it). Looked up for
    # plans only, through the partial index on ``phase``: a window over every row, most
    # of them about no phase, cost as much as the rest of the selection.
    other = timeline.alias("progress")
    progress = (
        select(func.min(other.c.effective))
        .where(
            other.c.phase == t.phase,
            other.c.phase.is_not(None),
            other.c.planned.is_(False),
            other.c.position <= up_to,
        )
        .scalar_subquery()
    )
    takes_effect = case(
        (t.originator_version == 1, earliest),
        (t.planned & (progress < t.effective), progress),
        else_=t.effective,
    )
    ordered = (
        select(t.position, t.applied, takes_effect.label("takes_effect"))
        .where(t.position <= up_to)
        .subquery()
    )
    day = literal(as_of, Date)
    order = (ordered.c.takes_effect, ordered.c.position)
    return _in_order(ordered.c.position, order, numbered).where(
        ordered.c.takes_effect <= day, true() if every_event else ordered.c.applied
    )


def _in_order(position: Any, order: tuple[Any, ...], numbered: bool) -> Select[Any]:
    """``SELECT position … ORDER BY order``, or numbered in that order as ``seq``."""
    if numbered:
        return select(func.row_number().over(order_by=order).label("seq"), position)
    return select(position).order_by(*order)
