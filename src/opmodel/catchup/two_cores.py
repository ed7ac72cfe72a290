"""Catch-up on two cores: this process and a forked helper take alternate batches (ADR 0009).

The positions to apply are cut into batches (:func:`~opmodel.catchup.processes.spans`):
this process writes the even ones, the helper the odd ones. Each reads,
deserialises and plans its next batch while the other writes one, then waits
for the batch before its own to be written (a :class:`~opmodel.catchup.processes.Baton`)
and writes it with :meth:`CatchUp.write <opmodel.catchup.engine.CatchUp.write>`,
like any batch. On SQLite a thread of this process checkpoints the write-ahead
log meanwhile, and the two take :class:`~opmodel.catchup.processes.Turns` at the
write lock.

The helper only ever saves time: if it cannot be forked, fails or dies, this
process stops at the first batch the helper did not write, and the one-process
catch-up applies the rest from the tracked positions.

:class:`AheadOfSave` overlaps an import's read models with the saving of its
events the same way. These are the two-core paths kept (ADR 0013): each pays for
itself on a figure of ``python -m bench``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from opmodel.catchup import processes
from opmodel.errors import ConcurrentChange
from opmodel.projections.base import Projection
from opmodel.store.database import Database
from opmodel.store.events import Envelope

#: Reads up to ``limit`` events after a position.
Reader = Callable[[int, int], Sequence[Envelope]]


class Batches(Protocol):
    """What a catch-up gives this strategy: how to plan a batch and write it
    (:class:`~opmodel.catchup.engine.CatchUp`)."""

    database: Database
    batch_size: int
    two_cores_from: int

    def positions(self, names: Sequence[str]) -> dict[str, int]: ...

    def reader(self, saved: Any) -> Reader: ...

    def in_one_process(
        self,
        projections: Sequence[Projection],
        read: Reader,
        progress: Callable[[int], None] | None,
    ) -> int: ...

    def plan(
        self,
        projections: Sequence[Projection],
        batch: Sequence[Envelope],
        starts: dict[str, int],
        low: int,
        high: int,
    ) -> Sequence[Any]: ...

    def write(
        self,
        plans: Sequence[Any],
        turn: AbstractContextManager[object] | None = None,
        *,
        checkpointed_elsewhere: bool = False,
    ) -> None: ...


class TwoCores:
    """One catch-up shared with a helper process, batch by batch."""

    def __init__(self, engine: Batches) -> None:
        self.engine = engine
        self.database = engine.database

    def run(
        self,
        projections: Sequence[Projection],
        read: Reader,
        progress: Callable[[int], None] | None,
        starts: dict[str, int],
        head: int,
    ) -> int:
        """Apply the events up to ``head``; returns how many were written (by either).

        What is not written when it returns (a helper that failed) is left to the
        caller, from where the read models stopped.
        """
        spans = processes.spans(min(starts.values()), head, self.engine.batch_size)
        written = 0

        def step(events: int) -> None:
            nonlocal written
            written += events
            if progress is not None:
                progress(events)

        def in_helper() -> int:
            self.database.forget_connections()  # the parent's stay untouched
            turns.reopen()
            baton.hold(child=True)
            return int(self._in_turn(projections, read, starts, spans, 1, baton, turns))

        turns = processes.Turns()
        baton = processes.Baton()
        try:
            try:
                helper = processes.Helper(in_helper)
            except OSError:  # no process to be had (a limit reached): all of it in one
                return 0
            baton.hold(child=False)
            with helper:  # ended if this process fails
                done = False
                checkpoints = turns.another()
                try:
                    with self.database.checkpoints(checkpoints.turn):
                        done = self._in_turn(
                            projections, read, starts, spans, 0, baton, turns, step
                        )
                        if done and len(spans) % 2 == 0:  # the last batch is the helper's
                            done = baton.wait_for(len(spans) - 1, step)
                except ConcurrentChange:
                    pass  # another process applied a batch first: the caller goes on from there
                finally:
                    checkpoints.close()
                baton.close()  # the helper, if still waiting for a batch, stops
                if done:  # every batch is written: the helper only has to end
                    helper.leave()
                return written
        finally:
            baton.close()
            turns.close()

    def _in_turn(
        self,
        projections: Sequence[Projection],
        read: Reader,
        starts: dict[str, int],
        spans: Sequence[tuple[int, int]],
        first: int,
        baton: processes.Baton,
        turns: processes.Turns,
        written: Callable[[int], None] | None = None,
    ) -> bool:
        """Apply batches ``first``, ``first + 2``, … of ``spans``, each after the one before it.

        ``written(events)`` is told of every batch written, by either process. Stops
        early, leaving the rest, if the other process stops: whether it wrote them all.
        """
        engine = self.engine
        for number in range(first, len(spans), 2):
            low, high = spans[number]
            batch = [e for e in read(low, high - low) if e.position <= high]
            plans = engine.plan(projections, batch, starts, low, high)
            if number > 0 and not baton.wait_for(number - 1, written):
                return False  # the other process stopped: the rest is left
            engine.write(plans, turns.turn(), checkpointed_elsewhere=True)
            baton.pass_on(number, len(batch))
            if written is not None:
                written(len(batch))
        return True


class AheadOfSave:
    """An import's read models worked out by a helper while its events are saved (ADR 0013).

    Just before the save (:meth:`start`), a helper is forked with the events raised.
    It plans the read models that need nothing of the events as stored (all but the
    ledger) for the positions the events will have if nobody else writes meanwhile
    (the head, plus one, and on), while this process encodes and saves them. Once
    the save has committed (:meth:`finish`), this process tells the helper the
    positions they got: if they are the ones assumed, the helper writes its plans
    with :meth:`CatchUp.write <opmodel.catchup.engine.CatchUp.write>` (each read
    model's tracking row moving from the old head, as always), else nothing; this
    process meanwhile applies the ledger. Whatever the helper did not write is left
    to the catch-up that follows, as without it.
    """

    def __init__(self, engine: Batches, projections: dict[str, Projection]) -> None:
        self.engine = engine
        self.projections = projections
        self.helper: processes.Helper | None = None
        self._go: int | None = None  # the pipe telling the helper where the events went

    def start(self, events: list[Any]) -> None:
        """Before the save: fork a helper working out its read models from ``events``.

        Whatever stops it (no process to be had, read models behind) only means they
        are caught up after the save, as without it.
        """
        self.discard()  # a unit of work run again: its events are new
        try:
            self._start(events)
        except Exception:  # the save goes on without it
            self.discard()

    def _start(self, events: list[Any]) -> None:
        engine, database = self.engine, self.engine.database
        if not database.is_sqlite or len(events) < engine.two_cores_from:
            return
        if not processes.can_fork():
            return
        head = database.head()
        names = list(self.projections)
        if any(position != head for position in engine.positions(names).values()):
            return  # read models behind: caught up the usual way after the save
        projections = [p for p in self.projections.values() if not p.reads_stored]
        envelopes = [Envelope(head + n, event) for n, event in enumerate(events, start=1)]
        last = envelopes[-1].position
        go_read, go_write = os.pipe()

        def work() -> int:  # pragma: no cover - runs in the helper
            os.close(go_write)  # so that this process closing its end reads as the end
            database.forget_connections()
            plans = engine.plan(projections, envelopes, dict.fromkeys(names, head), head, last)
            if _line(go_read) != f"{head + 1} {last}":
                return 0  # not saved, or saved at other positions: write nothing
            engine.write(plans)
            return 1

        try:
            self.helper = processes.Helper(work)
            self._go = go_write
        except OSError:
            os.close(go_write)
        finally:
            os.close(go_read)

    def finish(self, saved: Any) -> None:
        """After the save: let the helper write, apply the ledger here, wait for it.

        Whatever is not written by then (no helper, a helper that wrote nothing) is
        left to the catch-up that follows.
        """
        if self.helper is None or self._go is None:
            return
        try:
            with contextlib.suppress(BrokenPipeError):  # gone already: wait() says so
                os.write(self._go, f"{saved.positions[0]} {saved.positions[-1]}\n".encode())
            os.close(self._go)
            self._go = None
            rest = [p for p in self.projections.values() if p.reads_stored]
            self.engine.in_one_process(rest, self.engine.reader(saved), None)
            self.helper.wait()
            self.helper = None
        finally:
            self.discard()

    def discard(self) -> None:
        """Stop the helper (the save failed, or the unit of work runs again)."""
        if self._go is not None:
            os.close(self._go)
            self._go = None
        if self.helper is not None:
            self.helper.stop()
            self.helper = None


def _line(fd: int) -> str:  # pragma: no cover - runs in the helper
    """One line read from a pipe ('' if it closed first)."""
    message = b""
    while not message.endswith(b"\n"):
        chunk = os.read(fd, 64)
        if not chunk:
            return ""
        message += chunk
    return message.decode().strip()
