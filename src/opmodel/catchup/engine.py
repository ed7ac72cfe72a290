"""Read models brought up to date: every stored event applied exactly once, in batches.

:class:`CatchUp` reads the events a read model has not applied, in batches of
:attr:`CatchUp.batch_size`, and writes each batch with :meth:`CatchUp.write`:
every read model's rows and its tracking row (:mod:`opmodel.projections.tracking`)
in one transaction, the tracking row moving from the position the batch was
planned from, or the transaction refused (:class:`~opmodel.errors.ConcurrentChange`)
and the catch-up resumed from where the read models are. That is the one place
a read model is written.

How the batches are shared out is a strategy: one process, or — for many
events on a machine with two cores — this process and a forked helper taking
alternate batches (:mod:`opmodel.catchup.two_cores`, ADR 0009).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from opmodel.catchup import processes
from opmodel.catchup.two_cores import Reader, TwoCores
from opmodel.errors import ConcurrentChange, NotFound
from opmodel.projections import PROJECTIONS, Projection
from opmodel.projections.tracking import (
    advance,
    moved,
    projection_tracking,
    tracked_position,
    tracking_metadata,
)
from opmodel.store.database import Database
from opmodel.store.events import Envelope
from opmodel.store.execution import AnyOperation, Prepared, gc_paused, prepare, run_prepared
from opmodel.store.schema import lacks_columns, table_columns

if TYPE_CHECKING:
    from opmodel.unit_of_work import Saved

#: Events read and applied per read-model transaction: large enough that commits
#: (WAL checkpoints on SQLite) are a small share of a rebuild, small enough that
#: memory stays flat however big the store is.
BATCH_SIZE = 5000


@dataclass(frozen=True)
class BatchPlan:
    """One read model's part of a batch: from which position to which, and its operations.

    ``ready`` is compiled already; ``finish`` (see :class:`~opmodel.projections.base.Planned`)
    is worked out in the write, from the tables as the batches before left them.
    """

    projection: Projection
    start: int
    end: int
    ready: list[Prepared]
    finish: Callable[[Connection], Iterable[AnyOperation]] | None


class ReadModelTables:
    """The read models' tables and tracking rows, as a store is prepared for writing."""

    def __init__(self, projections: dict[str, Projection]) -> None:
        self.projections = projections

    def ready(self, columns: dict[str, set[str]], names: set[str]) -> bool:
        return projection_tracking.name in names and not any(
            lacks_columns(p.metadata.tables.values(), columns) for p in self.projections.values()
        )

    def create(self, conn: Connection) -> None:
        """Create what is missing; a read model whose tables lack a column this version
        writes is made again from zero (read models are derived: the next catch-up
        applies every event to it)."""
        tracking_metadata.create_all(conn)
        columns = table_columns(conn)
        existing = {r.name for r in conn.execute(projection_tracking.select())}
        for name, projection in self.projections.items():
            if lacks_columns(projection.metadata.tables.values(), columns):
                projection.metadata.drop_all(conn)
                projection.metadata.create_all(conn)
                conn.execute(projection_tracking.delete().where(projection_tracking.c.name == name))
                existing.discard(name)
            if name not in existing:
                conn.execute(projection_tracking.insert().values(name=name, position=0))


class CatchUp:
    """Applies stored events to the read models, exactly once."""

    #: Events read and applied per read-model transaction (tests lower it).
    batch_size = BATCH_SIZE
    #: How many events to apply make catch-up use a helper process (tests change it).
    two_cores_from = processes.MIN_EVENTS

    def __init__(self, database: Database, projections: dict[str, Projection] = PROJECTIONS):
        self.database = database
        self.projections = projections
        self.tables = ReadModelTables(projections)

    def names(self, name: str | None = None) -> list[str]:
        """All read models' names, or ``[name]`` if it is one of them."""
        if name is None:
            return list(self.projections)
        if name not in self.projections:
            raise NotFound(
                f"read model {name!r} does not exist: use one of {', '.join(self.projections)}"
            )
        return [name]

    def positions(self, names: Sequence[str]) -> dict[str, int]:
        """Where each of the named read models is."""
        with self.database.connect() as conn:
            return {name: tracked_position(conn, name) for name in names}

    # --- catching up ---------------------------------------------------------------

    def run(
        self,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        just_saved: Saved | None = None,
    ) -> int:
        """Apply every stored event a read model has not applied yet; returns how many.

        ``just_saved`` is what this process has just written: those events are taken
        as the save returned them instead of being read back and deserialised.
        """
        projections = [self.projections[n] for n in (names or list(self.projections))]
        read = self.reader(just_saved)
        if read == self.database.read_events and not any(p.reads_stored for p in projections):
            read = partial(self.database.read_events, stored=False)  # none needs the rows
        with gc_paused():  # a batch's objects go as it ends; its few cycles can wait
            # Two cores on SQLite only: it is measured there (ADR 0009, 0013); PostgreSQL
            # has not been, and an import's connection pool runs threads a fork must not copy.
            if self.database.is_sqlite and processes.can_fork():
                saved_head = just_saved.head if just_saved is not None else None
                head = saved_head if saved_head is not None else self.database.head()
                starts = self.positions([p.name for p in projections])
                start = min(starts.values())
                if head - start >= self.two_cores_from and head - start > self.batch_size:
                    written = TwoCores(self).run(projections, read, progress, starts, head)
                    # Whatever is left (a helper that failed, events saved meanwhile).
                    return written + self.in_one_process(projections, read, progress)
            return self.in_one_process(projections, read, progress)

    def in_one_process(
        self,
        projections: Sequence[Projection],
        read: Reader,
        progress: Callable[[int], None] | None,
    ) -> int:
        """Catch ``projections`` up from ``read`` in this process alone; returns how many
        events it applied."""
        applied = 0
        for _attempt in range(20):
            try:
                starts = self.positions([p.name for p in projections])
                position = min(starts.values())
                while batch := read(position, self.batch_size):
                    low, high = position, batch[-1].position
                    self.write(self.plan(projections, batch, starts, low, high))
                    for name in starts:
                        starts[name] = max(starts[name], high)
                    applied += len(batch)
                    position = high
                    if progress is not None:
                        progress(len(batch))
                return applied
            except ConcurrentChange:
                continue  # another process applied a batch first: read on from there
        raise ConcurrentChange("read models kept moving under this process; run it again")

    def plan(
        self,
        projections: Sequence[Projection],
        batch: Sequence[Envelope],
        starts: dict[str, int],
        low: int,
        high: int,
    ) -> list[BatchPlan]:
        """Each read model's plan for the batch of positions ``(low, high]``.

        A read model is planned from the position it will be at when the batch is
        written (``low``, or further if it started further); what needs nothing of
        its tables is compiled now.
        """
        plans = []
        with self.database.engine.connect() as conn:  # for compiling: nothing is read
            for projection in projections:
                position = max(starts[projection.name], low)
                if position >= high:
                    continue
                planned = projection.plan([e for e in batch if e.position > position])
                ready = prepare(conn, planned.ready)
                plans.append(BatchPlan(projection, position, high, ready, planned.finish))
        return plans

    def write(
        self,
        plans: Sequence[BatchPlan],
        turn: AbstractContextManager[object] | None = None,
        *,
        checkpointed_elsewhere: bool = False,
    ) -> None:
        """Write a planned batch: every read model's rows and tracking row, in one transaction.

        Each tracking row must still be where its part was planned from, else nothing
        is written (:class:`~opmodel.errors.ConcurrentChange`: another process got there
        first). ``turn``: the lock two processes take turns at.
        """
        database = self.database
        with database.writing(turn, checkpointed_elsewhere=checkpointed_elsewhere) as conn:
            for plan in plans:
                name = plan.projection.name
                if tracked_position(conn, name, lock=True) != plan.start:
                    raise moved(name, plan.start, plan.end)
                rest = prepare(conn, plan.finish(conn)) if plan.finish is not None else []
                run_prepared(conn, plan.ready)
                run_prepared(conn, rest)
                advance(conn, name, plan.start, plan.end)

    def reader(self, saved: Saved | None) -> Reader:
        """Read events from the store, or from ``saved`` for the positions it holds.

        The events a save returns are the ones stored at its positions (same objects
        the mapper serialised, same stored state): catch-up then skips reading them
        back. Anything outside those positions (another writer's events) is read.
        """
        read_events = self.database.read_events
        if saved is None or not saved.recordings:
            return read_events
        recent = [
            Envelope(r.notification.id, r.domain_event, r.notification) for r in saved.recordings
        ]
        first, last = recent[0].position, recent[-1].position
        if last - first + 1 != len(recent):  # not one run of positions: read them back
            return read_events

        def read(after: int, limit: int) -> Sequence[Envelope]:
            if first <= after + 1 <= last:
                index = after + 1 - first
                return recent[index : index + limit]
            return read_events(after, limit)

        return read

    # --- rebuilding, status, following ----------------------------------------------------

    def rebuild(
        self, names: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Drop the named read models and apply every event again from position 1."""
        started = time.perf_counter()
        self.reset(names)
        events = self.run(names, progress=progress)
        seconds = time.perf_counter() - started
        return {
            "rebuilt": list(names),
            "events": events,
            "position": self.database.head(),
            "seconds": round(seconds, 3),
            "events_per_second": round(events / seconds) if seconds else 0,
        }

    def reset(self, names: Sequence[str]) -> None:
        """Empty the named read models (their tables made anew) and set them back to 0."""
        with self.database.writing() as conn:
            for name in names:
                metadata = self.projections[name].metadata
                metadata.drop_all(conn)
                metadata.create_all(conn)
                conn.execute(
                    projection_tracking.update()
                    .where(projection_tracking.c.name == name)
                    .values(position=0)
                )

    def status(self) -> list[dict[str, Any]]:
        """Each read model's position against the store's head."""
        head = self.database.head()
        with self.database.connect() as conn:
            positions = {r.name: r.position for r in conn.execute(projection_tracking.select())}
        return [
            {
                "name": name,
                "position": positions.get(name, 0),
                "head": head,
                "behind": head - positions.get(name, 0),
            }
            for name in self.projections
        ]

    def follow(
        self,
        *,
        channel: str | None = None,
        interval: float = 1.0,
        stop: threading.Event | None = None,
        on_applied: Callable[[int, int], None] | None = None,
    ) -> int:
        """Keep every read model up to date until ``stop`` is set; returns events applied.

        On PostgreSQL it wakes as soon as events are committed (LISTEN on the
        recorder's ``channel``), and at least every ``interval`` seconds; on SQLite,
        which has no notifications, it polls every ``interval`` seconds.
        """
        stop = stop or threading.Event()
        total = self.run()
        if total and on_applied is not None:
            on_applied(total, self.database.head())
        wait = self.database.waiter(channel)
        try:
            while not stop.is_set():
                wait(stop, interval)
                applied = self.run()
                if applied:
                    total += applied
                    if on_applied is not None:
                        on_applied(applied, self.database.head())
        finally:
            wait.close()
        return total
