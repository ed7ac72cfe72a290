"""How far each read model has applied the events: one row per read model.

A read model's rows and its tracking row change in the same transaction, and
the tracking row moves from the position it had (``WHERE position = :old``):
so every event is applied exactly once. A crash rolls the batch back and the
next catch-up resumes from the tracked position; a second process applying the
same batch finds the position moved and rolls back instead of applying twice.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from opmodel.errors import ConcurrentChange

tracking_metadata = MetaData()

projection_tracking = Table(
    "projection_tracking",
    tracking_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)


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
        raise moved(name, old, new)


def moved(name: str, old: int, new: int) -> ConcurrentChange:
    """The error of a batch up to ``new`` planned from ``old``, where ``name`` is no longer."""
    return ConcurrentChange(
        f"read model {name} moved past position {old} while a batch up to {new} was "
        "being applied; the batch was rolled back (not applied twice)"
    )
