"""What every read model shares: tracking positions, batched application, catch-up.

A read model turns each event into zero or more *operations* (a Core
statement and its parameters). A batch of events becomes one transaction:
consecutive operations that use the same statement go to the database as one
``executemany``, and the read model's tracking row moves from the position
it had to the batch's last position *in the same transaction*, guarded by
``WHERE position = :old``. So every event is applied exactly once: a crash
rolls the batch back and the next catch-up resumes from the tracked
position; a second process applying the same batch finds the position moved
and its transaction is rolled back instead of applying the batch twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    Executable,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from opmodel.domain.values import Meta, format_money
from opmodel.errors import ConcurrentChange

tracking_metadata = MetaData()

projection_tracking = Table(
    "projection_tracking",
    tracking_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)

#: Events of these aggregates are bookkeeping (code index, numbering): they change no model.
INTERNAL_AGGREGATES = frozenset({"DepartmentCode", "DecisionNumbering"})

BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}
)


@dataclass(frozen=True)
class Envelope:
    """One stored event as read models see it: its position and the domain event."""

    position: int
    event: Any
    stored: Any = None  # the notification as stored: originator_id, version, topic, state

    @property
    def aggregate(self) -> str:
        """The aggregate class name (``Cluster``)."""
        return type(self.event).__qualname__.split(".")[0]

    @property
    def name(self) -> str:
        """The event class name (``LeadDesignated``)."""
        return type(self.event).__name__

    @property
    def meta(self) -> Meta:
        meta: Meta = self.event.meta
        return meta

    @property
    def recorded_at(self) -> datetime:
        recorded: datetime = self.event.timestamp
        return recorded

    @property
    def originator_id(self) -> UUID:
        originator: UUID = self.event.originator_id
        return originator

    def data(self) -> dict[str, Any]:
        """The event's own fields as plain JSON values."""
        return {
            f.name: plain(getattr(self.event, f.name))
            for f in fields(self.event)
            if f.name not in BASE_FIELDS
        }


def plain(value: Any) -> Any:
    """A value as JSON shows it: dates ISO, money two-decimal strings, ids as hex."""
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON of a plain value."""
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pence(amount: Decimal | None) -> int | None:
    """Money in whole pence, exact, for SQL arithmetic."""
    return None if amount is None else int(amount * 100)


Operation = tuple[Executable, dict[str, Any]]


class Projection(Protocol):
    """A read model: its tables and how each batch of events changes them."""

    name: ClassVar[str]
    metadata: ClassVar[MetaData]

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> Iterable[Operation]:
        """The statements that apply ``batch``, in order."""
        ...


def run_operations(conn: Connection, operations: Iterable[Operation]) -> None:
    """Execute operations, sending runs of the same statement as one executemany."""
    pending: list[dict[str, Any]] = []
    current: Executable | None = None
    for statement, params in operations:
        if statement is not current and pending:
            assert current is not None
            conn.execute(current, pending)
            pending = []
        current = statement
        pending.append(params)
    if pending and current is not None:
        conn.execute(current, pending)


def tracked_position(conn: Connection, name: str, *, lock: bool = False) -> int:
    """The last position ``name`` applied (0 when it has applied none).

    With ``lock``, the tracking row stays locked until the transaction ends, so a
    second process applying the same read model waits, then sees the new position
    (PostgreSQL; SQLite's writers are already serialised by ``BEGIN IMMEDIATE``).
    """
    statement = select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    if lock:
        statement = statement.with_for_update()
    row = conn.execute(statement).first()
    return int(row[0]) if row else 0


_advance = (
    update(projection_tracking)
    .where(projection_tracking.c.name == bindparam("b_name"))
    .where(projection_tracking.c.position == bindparam("b_old"))
    .values(position=bindparam("b_new"))
)


def advance(conn: Connection, name: str, old: int, new: int) -> None:
    """Move ``name``'s tracking row from ``old`` to ``new``, or refuse (already applied)."""
    if (
        old == 0
        and conn.execute(
            select(projection_tracking.c.name).where(projection_tracking.c.name == name)
        ).first()
        is None
    ):
        conn.execute(insert(projection_tracking).values(name=name, position=new))
        return
    result = conn.execute(_advance, {"b_name": name, "b_old": old, "b_new": new})
    if result.rowcount != 1:
        raise ConcurrentChange(
            f"read model {name} moved past position {old} while a batch up to {new} was "
            "being applied; the batch was rolled back (not applied twice)"
        )


def batches(
    read: Callable[[int, int], Sequence[Envelope]], start_after: int, size: int
) -> Iterator[Sequence[Envelope]]:
    """Batches of envelopes after ``start_after``, in position order, until none is left."""
    position = start_after
    while True:
        batch = read(position, size)
        if not batch:
            return
        yield batch
        position = batch[-1].position
