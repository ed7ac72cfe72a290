"""The public face of opmodel: open a store, run commands, read the model and its history.

A :class:`Service` owns the event-sourced application (the write side, on
eventsourcing's own SQLite or PostgreSQL recorder) and a SQLAlchemy engine on
the same database for the read models. Write commands bring every read model
up to date before they return.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, TableClause, create_engine, event, select, text

from opmodel import parallel
from opmodel.application import OperatingModel, Saved, UnitOfWork
from opmodel.domain import ImportBatch
from opmodel.domain.values import Meta, parse_effective
from opmodel.errors import (
    AlreadyImported,
    ConcurrentChange,
    NotFound,
    OpmodelError,
    StoreUnavailable,
)
from opmodel.projections import PROJECTIONS, Projection
from opmodel.projections.base import (
    Envelope,
    Planned,
    Prepared,
    StoredRow,
    advance,
    batches,
    fetch_rows,
    gc_paused,
    lacks_columns,
    moved,
    prepare,
    projection_tracking,
    run_operations,
    run_prepared,
    table_columns,
    tracked_position,
    tracking_metadata,
)
from opmodel.projections.history import history as history_table
from opmodel.projections.history import query_history
from opmodel.projections.operating_model import query_model
from opmodel.projections.timeline import events_table, stored_event_columns
from opmodel.store import (
    SQLITE_GUARDS,
    StoreLocation,
    default_actor,
    locate,
    make_sqlite_file,
    postgres_guards,
    sqlite_store_exists,
)

if TYPE_CHECKING:
    from opmodel.commands import Command
    from opmodel.documents import Parts, Prefetched
    from opmodel.importer import Planner

#: Events read and applied per read-model transaction: large enough that commits
#: (WAL checkpoints on SQLite) are a small share of a rebuild, small enough that
#: memory stays flat however big the store is.
BATCH_SIZE = 5000

#: SQLite's own default: a commit that finds the WAL past this many pages checkpoints it.
WAL_AUTOCHECKPOINT = 1000

T = TypeVar("T")

#: The PostgreSQL advisory lock key that serialises creating a store.
INIT_LOCK = 0x6F706D6F64656C  # "opmodel"


class Progress(Protocol):
    """Something that shows progress: told the total, then advanced."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What a write did: its command id, the positions written, any id it created."""

    command_id: str
    positions: tuple[int, ...]
    results: tuple[str | None, ...]


def make_meta(
    *,
    effective: date | None = None,
    actor: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    command_id: str | None = None,
) -> Meta:
    """Event metadata with the defaults of SPEC §3 (today, ``OPMODEL_ACTOR`` or login).

    An effective date after today is refused (:func:`parse_effective`).
    """
    return Meta(
        effective=date.today() if effective is None else parse_effective(effective),
        actor=(actor or "").strip() or default_actor(),
        command_id=command_id or uuid.uuid4().hex,
        reason=(reason or "").strip() or None,
        source=(source or "").strip() or None,
    )


class Service:
    """An opened store: the write side, the read models, and their catch-up."""

    def __init__(self, location: StoreLocation, *, write: bool) -> None:
        self.location = location
        self.write = write
        self._app: OperatingModel | None = None
        self._engine: Engine | None = None
        self._create_tables = False
        try:
            if write:
                self._prepare_for_writing()
            else:
                self._check_exists()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, url: str | None = None, *, write: bool = False) -> Service:
        """Open the store at ``url`` (or ``OPMODEL_STORE``, or ``./opmodel.db``)."""
        return cls(locate(url), write=write)

    # --- connections ----------------------------------------------------------

    @property
    def app(self) -> OperatingModel:
        if self._app is None:
            env = self.location.eventsourcing_env(create_tables=self._create_tables)
            try:
                self._app = OperatingModel(env=env)
            except Exception as exc:
                raise StoreUnavailable(
                    f"cannot open the event store at {self.location}: {_first_line(exc)}"
                ) from exc
        return self._app

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = _make_engine(self.location)
        return self._engine

    def close(self) -> None:
        """Release connections."""
        if self._app is not None:
            with suppress(Exception):
                self._app.close()
            self._app = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- initialisation ---------------------------------------------------------

    def _check_exists(self) -> None:
        if self.location.kind == "sqlite":
            assert self.location.path is not None
            if not sqlite_store_exists(self.location.path):
                what = "does not exist" if not self.location.path.exists() else "is not initialised"
                raise StoreUnavailable(
                    f"store {self.location} {what}: record something first, or run "
                    "opmodel init (or pass --store / set OPMODEL_STORE)"
                )
            return
        with self.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT 1 FROM information_schema.tables "
                    "WHERE table_schema = :schema AND table_name = :table"
                ),
                {"schema": self.location.schema, "table": self.location.events_table},
            ).first()
        if found is None:
            raise StoreUnavailable(
                f"store {self.location} is not initialised: run opmodel init "
                "(or point --store at an opmodel store)"
            )

    def _prepare_for_writing(self) -> None:
        """Make sure the event tables, guards and read-model tables exist.

        A store already initialised is left alone (no DDL on the hot path, and none
        racing between concurrent writers). Creating one is serialised: an advisory
        lock on PostgreSQL, SQLite's own write lock on a file.
        """
        if self.location.kind == "sqlite":
            assert self.location.path is not None
            try:
                self.location.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create the directory of store {self.location}: {exc}"
                ) from exc
        with self.connect() as conn:
            ready = _is_initialised(conn, self.location)
        if ready:
            self._create_tables = False
            return
        self._create_tables = True
        postgres = self.location.kind == "postgresql"
        try:
            with self.connect() as lock:
                if postgres:
                    lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": INIT_LOCK})
                    if self.location.schema != "public":
                        lock.exec_driver_sql(
                            f'CREATE SCHEMA IF NOT EXISTS "{self.location.schema}"'
                        )
                    lock.commit()
                try:
                    if self.location.path is not None:  # SQLite: before any table is made
                        make_sqlite_file(self.location.path)
                    self.app  # noqa: B018 - eventsourcing creates the event tables
                    self._create_guards_and_read_models()
                finally:
                    if postgres:
                        lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INIT_LOCK})
                        lock.commit()
        except OpmodelError:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot prepare store {self.location} for writing: {_first_line(exc)}"
            ) from exc

    def _create_guards_and_read_models(self) -> None:
        with self.connect() as conn:
            conn = conn.execution_options(opmodel_write=True)
            with conn.begin():
                guards = (
                    SQLITE_GUARDS
                    if self.location.kind == "sqlite"
                    else postgres_guards(self.location.schema)
                )
                for statement in guards:
                    conn.exec_driver_sql(statement)
                tracking_metadata.create_all(conn)
                # A read model whose tables are missing, or lack columns this version
                # writes, is made again from zero (read models are derived: the next
                # catch-up applies every event to it).
                columns = table_columns(conn)
                existing = {r.name for r in conn.execute(projection_tracking.select())}
                for name, projection in PROJECTIONS.items():
                    if _outdated(projection, columns):
                        projection.metadata.drop_all(conn)
                        projection.metadata.create_all(conn)
                        conn.execute(
                            projection_tracking.delete().where(projection_tracking.c.name == name)
                        )
                        existing.discard(name)
                    if name not in existing:
                        conn.execute(projection_tracking.insert().values(name=name, position=0))

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-model connection, turning connection failures into StoreUnavailable."""
        try:
            conn = self.engine.connect()
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot connect to store {self.location}: {_first_line(exc)}"
            ) from exc
        with conn:
            yield conn

    # --- writing ---------------------------------------------------------------

    def execute(self, items: Sequence[tuple[Command, Meta]]) -> Outcome:
        """Run commands as one atomic unit, then bring the read models up to date."""
        if not self.write:  # pragma: no cover - a programming error
            raise RuntimeError("this store was opened read-only")

        def work(uow: UnitOfWork) -> tuple[str | None, ...]:
            return tuple(command.run(self.app, uow, meta) for command, meta in items)

        results, saved = self._save(work)
        command_id = items[0][1].command_id if items else ""
        return Outcome(command_id, saved.positions, results)

    def _save(
        self,
        work: Callable[[UnitOfWork], T],
        *,
        bulk: bool = False,
        started: UnitOfWork | None = None,
    ) -> tuple[T, Saved]:
        """Run a unit of work atomically, then bring the read models up to date.

        ``bulk`` (an import): while the events are saved, a helper process may work
        out some read models' rows from them (:class:`_Ahead`). ``started``: a unit
        already begun, for the first attempt.
        """
        ahead = _Ahead(self) if bulk else None
        try:
            try:
                outcome = self.app.execute(
                    work,
                    bulk=bulk,
                    before_put=ahead.start if ahead is not None else None,
                    started=started,
                )
            except OpmodelError:
                raise
            except Exception as exc:
                raise _store_error(self.location, exc) from exc
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise
        if ahead is not None and ahead.started:
            ahead.finish(outcome[1])
        else:
            self.catch_up(just_saved=outcome[1])
        return outcome

    def import_file(
        self,
        path: Path,
        *,
        actor: str | None = None,
        reason: str | None = None,
        source: str | None = None,
        progress: Progress | None = None,
        prefetched: Prefetched | None = None,
    ) -> dict[str, Any]:
        """Validate a whole import file, then apply it as one atomic change (once only).

        ``prefetched``: the file being read and parsed by a helper process
        (:class:`~opmodel.documents.Prefetched`); else it is read here.
        """
        with gc_paused():
            return self._import_file(
                path,
                actor=actor,
                reason=reason,
                source=source,
                progress=progress,
                prefetched=prefetched,
            )

    def _import_file(
        self,
        path: Path,
        *,
        actor: str | None,
        reason: str | None,
        source: str | None,
        progress: Progress | None,
        prefetched: Prefetched | None,
    ) -> dict[str, Any]:
        from opmodel.documents import load
        from opmodel.importer import Planner, name_entry

        command_id = uuid.uuid4().hex

        def meta_for(**fields: Any) -> Meta:
            given = {"actor": actor, "reason": reason, "source": source}
            return make_meta(**{**given, **{k: v for k, v in fields.items() if v is not None}})

        def read(parts: Parts) -> _ReadAhead:
            planner = Planner(path, meta_for, command_id=command_id)
            ahead = _ReadAhead(self.app, planner, parts.sha256)
            for part in parts:
                ahead.apply(planner.add(part))
            return ahead

        parts = prefetched.parts() if prefetched is not None else None
        ahead = None
        if parts is not None:
            # Entries are validated, and applied, as the helper hands them over.
            with suppress(parallel.Interrupted):  # it could not: the file is read here
                ahead = read(parts)
        if ahead is None:
            ahead = read(load(path).parts())
        plan = ahead.planner.plan(ahead.sha256)
        # Refuse a second import before showing progress; the unit of work checks
        # again, atomically, in case another writer imports the file meanwhile.
        self.app.execute(lambda uow: self._refuse_if_imported(uow, plan.sha256, plan.filename))
        started = ahead.uow if ahead.planner.as_planned else None
        if progress is not None:
            progress.start(len(plan.items))
            if started is not None:
                progress.advance(len(ahead.results))
        first = plan.items[0][1]
        batch_meta = make_meta(
            command_id=command_id,
            actor=first.actor,
            reason=reason or f"import of {plan.filename}",
            source=source or f"import file {plan.filename} (sha256 {plan.sha256})",
        )

        def work(uow: UnitOfWork) -> list[str | None]:
            self._refuse_if_imported(uow, plan.sha256, plan.filename)
            results: list[str | None] = []
            if uow is started:  # the entries applied as they were read
                ahead.raise_failure()
                results.extend(ahead.results)
            for number in range(len(results) + 1, len(plan.items) + 1):
                command, meta = plan.items[number - 1]
                try:
                    results.append(command.run(self.app, uow, meta))
                except OpmodelError as exc:
                    raise name_entry(number, command, exc) from exc
                if progress is not None:
                    progress.advance(1)
            # The import's own record comes first; its entry count is known only now.
            batch = ImportBatch(
                sha256=plan.sha256, filename=plan.filename, entries=len(plan.items), meta=batch_meta
            )
            uow.stage(batch, first=True)
            return results

        results, saved = self._save(work, bulk=True, started=started)
        return {
            "file": plan.filename,
            "sha256": plan.sha256,
            "command_id": command_id,
            "entries": len(plan.items),
            "events": len(saved.positions),
            "first_position": saved.positions[0] if saved.positions else None,
            "last_position": saved.head,
            "decisions": [r for r in results if r],
        }

    def _refuse_if_imported(self, uow: UnitOfWork, sha256: str, filename: str) -> None:
        existing = uow.get(ImportBatch, ImportBatch.create_id(sha256))
        if existing is not None:
            raise AlreadyImported(
                f"import file {filename} (sha256 {sha256[:12]}…) was already "
                f"imported {existing.created_on:%Y-%m-%d %H:%M:%S} UTC"
                f"{self._import_position(sha256)}; nothing was written",
                sha256=sha256,
            )

    def _import_position(self, sha256: str) -> str:
        with self.connect() as conn:
            row = conn.execute(
                select(history_table.c.position).where(
                    history_table.c.subject == f"import:{sha256[:12]}"
                )
            ).first()
        return f" at position {row.position}" if row else ""

    # --- reading events -------------------------------------------------------------

    def head(self) -> int:
        """The position of the last stored event (0 when empty)."""
        try:
            return int(self.app.recorder.max_notification_id() or 0)
        except Exception as exc:
            raise _store_error(self.location, exc) from exc

    def read_events(self, after: int, limit: int, *, stored: bool = True) -> list[Envelope]:
        """Up to ``limit`` stored events after position ``after``, deserialised.

        Read with one plain query on the read models' connection (the rows as stored,
        no notification object per row) and deserialised by :meth:`envelopes`
        (``stored``: as there).
        """
        columns = stored_event_columns(self.events_table())
        query = select(*columns).where(columns[0] > after).order_by(columns[0]).limit(limit)
        with self.connect() as conn, conn.begin():
            return self.envelopes(fetch_rows(conn, query), stored=stored)

    def envelopes(self, rows: Iterable[Sequence[Any]], *, stored: bool = True) -> list[Envelope]:
        """Stored rows ``(…, position, originator id, version, topic, state)`` as envelopes.

        Deserialised by the application's mapper; a thing's events share one id
        object (each id is parsed once). Anything before the position is ignored.
        ``stored``: keep the stored fields too (the ledger hashes them; a past model,
        which holds tens of thousands of events at once, has no use for them).
        """
        event_of = self.app.mapper.event_of
        ids: dict[Any, uuid.UUID] = {}
        envelopes = []
        for *_, position, originator_id, version, topic, state in rows:
            thing = ids.get(originator_id)
            if thing is None:
                thing = ids[originator_id] = (
                    originator_id
                    if isinstance(originator_id, uuid.UUID)
                    else uuid.UUID(originator_id)
                )
            event = event_of(thing, version, topic, state)
            row = StoredRow(position, thing, version, topic, state) if stored else None
            envelopes.append(Envelope(position, event, row))
        return envelopes

    def events_table(self) -> TableClause:
        """The event store's table, for plain queries (eventsourcing's layout)."""
        location = self.location
        schema = None if location.kind == "sqlite" else location.schema
        return events_table(location.events_table, location.position_column, schema)

    # --- read models ---------------------------------------------------------

    def catch_up(
        self,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        just_saved: Saved | None = None,
    ) -> int:
        """Apply every stored event a read model has not applied yet; returns how many.

        ``just_saved`` is what this process has just written: those events are taken
        as the save returned them instead of being read back and deserialised. When
        many events are to be applied, a helper process applies every other batch
        (:mod:`opmodel.parallel`, ADR 0009).
        """
        with gc_paused():  # a batch's objects go as it ends; its few cycles can wait
            return self._catch_up_all(names, progress, just_saved)

    def _catch_up_all(
        self,
        names: Sequence[str] | None,
        progress: Callable[[int], None] | None,
        just_saved: Saved | None,
    ) -> int:
        projections = [PROJECTIONS[n] for n in (names or list(PROJECTIONS))]
        read = self._reader(just_saved)
        if parallel.can_fork():
            saved_head = just_saved.head if just_saved is not None else None
            head = saved_head if saved_head is not None else self.head()
            with self.connect() as conn:
                starts = {p.name: tracked_position(conn, p.name) for p in projections}
            start = min(starts.values())
            if head - start >= self.parallel_min_events and head - start > self.batch_size:
                return self._catch_up_on_two_cores(projections, read, progress, starts, head)
        return self._catch_up(projections, read, progress)

    #: How many events to apply make catch-up use a helper process (tests lower it).
    parallel_min_events = parallel.MIN_EVENTS

    #: Events read and applied per read-model transaction (tests lower it).
    batch_size = BATCH_SIZE

    def _catch_up(
        self,
        projections: Sequence[Projection],
        read: Callable[[int, int], Sequence[Envelope]],
        progress: Callable[[int], None] | None,
        *,
        turns: parallel.Turns | None = None,
    ) -> int:
        """Catch ``projections`` up from ``read``; with ``turns``, beside a helper process."""
        applied = 0
        for _attempt in range(20):
            try:
                with self.connect() as conn:
                    start = min(tracked_position(conn, p.name) for p in projections)
                for batch in batches(read, start, self.batch_size):
                    self._apply(projections, batch, turns=turns)
                    applied += len(batch)
                    if progress is not None:
                        progress(len(batch))
                return applied
            except ConcurrentChange:
                continue  # another process applied the batch first: read on from there
        raise ConcurrentChange("read models kept moving under this process; run it again")

    def _catch_up_on_two_cores(
        self,
        projections: Sequence[Projection],
        read: Callable[[int, int], Sequence[Envelope]],
        progress: Callable[[int], None] | None,
        starts: dict[str, int],
        head: int,
    ) -> int:
        """Catch up with a forked helper, the two applying every other batch (ADR 0009).

        The positions up to ``head`` are cut into batches (:func:`parallel.spans`):
        this process applies the even ones, the helper the odd ones. Each reads,
        deserialises and plans a batch while the other writes one, then waits for
        the batch before it to be written, and writes its own (every read model's
        rows and tracking row in one transaction, as always). Whatever is left
        afterwards (a helper that failed, events saved meanwhile) is caught up here,
        from where the read models stopped.
        """
        spans = parallel.spans(min(starts.values()), head, self.batch_size)
        written = 0
        if read == self.read_events and not any(p.reads_stored for p in projections):
            read = partial(self.read_events, stored=False)  # no read model needs them

        def step(events: int) -> None:
            nonlocal written
            written += events
            if progress is not None:
                progress(events)

        def in_helper() -> int:
            self._become_helper(turns)
            baton.hold(child=True)
            return int(self._in_turn(projections, read, starts, spans, 1, baton, turns))

        inherited = self._engine
        turns = self._turns()
        baton = parallel.Baton()
        try:
            try:
                helper = parallel.Helper(in_helper)
            except OSError:  # no process to be had (a limit reached): all of it here
                return self._catch_up(projections, read, progress)
            baton.hold(child=False)
            with helper:  # ended if this process fails
                done = False
                try:
                    with self._checkpoints(turns):
                        done = self._in_turn(
                            projections, read, starts, spans, 0, baton, turns, step
                        )
                        if done and len(spans) % 2 == 0:  # the last batch is the helper's
                            done = baton.wait_for(len(spans) - 1, step)
                except ConcurrentChange:
                    pass  # another process applied a batch first: caught up below from there
                baton.close()  # the helper, if still waiting for a batch, stops
                if done:  # every batch is written: the helper only has to end
                    helper.leave()
                # Whatever is left (a helper that failed, events saved meanwhile), from
                # where the read models stopped.
                return written + self._catch_up(projections, read, progress)
        finally:
            baton.close()
            turns.close()
            self._engine = inherited

    def _in_turn(
        self,
        projections: Sequence[Projection],
        read: Callable[[int, int], Sequence[Envelope]],
        starts: dict[str, int],
        spans: Sequence[tuple[int, int]],
        first: int,
        baton: parallel.Baton,
        turns: parallel.Turns,
        written: Callable[[int], None] | None = None,
    ) -> bool:
        """Apply batches ``first``, ``first + 2``, … of ``spans``, each after the one before it.

        ``written(events)`` is told of every batch written, by either process. Stops
        early, leaving the rest, if the other process stops: whether it wrote them all.
        """
        for number in range(first, len(spans), 2):
            low, high = spans[number]
            batch = [e for e in read(low, high - low) if e.position <= high]
            plans = self._plan(projections, batch, starts, low, high)
            if number > 0 and not baton.wait_for(number - 1, written):
                return False  # the other process stopped: the rest is left
            with self._writing(turns) as conn:
                for projection, position, planned, ready in plans:
                    if tracked_position(conn, projection.name, lock=True) != position:
                        raise moved(projection.name, position, high)
                    rest = prepare(conn, planned.finish(conn)) if planned.finish else []
                    run_prepared(conn, ready)
                    run_prepared(conn, rest)
                    advance(conn, projection.name, position, high)
            baton.pass_on(number, len(batch))
            if written is not None:
                written(len(batch))
        return True

    def _plan(
        self,
        projections: Sequence[Projection],
        batch: Sequence[Envelope],
        starts: dict[str, int],
        low: int,
        high: int,
    ) -> list[tuple[Projection, int, Planned, list[Prepared]]]:
        """Each read model's plan for the batch of positions ``(low, high]``.

        A read model is planned from the position it will be at by the time the batch
        before is written (``low``, or further if it started further); the part of the
        plan that needs nothing of its tables is compiled now.
        """
        plans = []
        with self.engine.connect() as conn:  # for the dialect and compiling: nothing is read
            for projection in projections:
                position = max(starts[projection.name], low)
                if position >= high:
                    continue
                planned = projection.plan([e for e in batch if e.position > position])
                plans.append((projection, position, planned, prepare(conn, planned.ready)))
        return plans

    def _become_helper(self, turns: parallel.Turns) -> None:
        """In a forked helper: connections and a turn of its own.

        The parent's connections stay untouched, and are never closed here.
        """
        self._engine = None
        turns.reopen()

    def _turns(self) -> parallel.Turns:
        """Turns at the write lock for this process and a helper (made before the fork)."""
        return parallel.Turns(checkpointed=self._checkpointable())

    def _checkpointable(self) -> bool:
        return self.location.kind == "sqlite" and self.location.path is not None

    def _checkpoints(self, turns: parallel.Turns) -> AbstractContextManager[object]:
        """WAL checkpoints by a thread while two processes write (SQLite; else nothing)."""
        if not turns.checkpointed or self.location.path is None:
            return nullcontext()
        return parallel.Checkpoints(str(self.location.path), turns)

    @contextmanager
    def _writing(self, turns: parallel.Turns | None) -> Iterator[Connection]:
        """A write transaction on a read-model connection, in this process's turn if any."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(opmodel_write=True)
            quiet = turns is not None and turns.checkpointed
            if quiet:  # a thread of the command checkpoints the WAL (parallel.Checkpoints)
                _wal_autocheckpoint(conn, 0)
            try:
                with turns.turn() if turns is not None else nullcontext(), conn.begin():
                    yield conn
            finally:
                if quiet:  # the pooled connection checkpoints as usual again
                    _wal_autocheckpoint(conn, WAL_AUTOCHECKPOINT)

    def _reader(self, saved: Saved | None) -> Callable[[int, int], Sequence[Envelope]]:
        """Read events from the store, or from ``saved`` for the positions it holds.

        The events a save returns are the ones stored at its positions (same objects
        the mapper serialised, same stored state): catch-up then skips reading them
        back. Anything outside those positions (another writer's events) is read.
        """
        if saved is None or not saved.recordings:
            return self.read_events
        recent = [
            Envelope(r.notification.id, r.domain_event, r.notification) for r in saved.recordings
        ]
        first, last = recent[0].position, recent[-1].position
        if last - first + 1 != len(recent):  # not one run of positions: read them back
            return self.read_events

        def read(after: int, limit: int) -> Sequence[Envelope]:
            if first <= after + 1 <= last:
                index = after + 1 - first
                return recent[index : index + limit]
            return self.read_events(after, limit)

        return read

    def _apply(
        self,
        projections: Sequence[Projection],
        batch: Sequence[Envelope],
        *,
        turns: parallel.Turns | None = None,
    ) -> None:
        """Apply a batch to each read model that has not applied it, in one transaction.

        With ``turns`` (a helper process is writing too): work out the rows in a read
        transaction, before taking the write lock, so that the other process can
        write meanwhile; they are used if the read model's position has not moved by
        the time the lock is held (and worked out again under the lock if it has).
        The write itself waits for this process's turn.
        """
        last = batch[-1].position
        planned: dict[str, tuple[int, list[Prepared]]] = {}
        if turns is not None:
            with self.engine.connect() as conn, conn.begin():
                for projection in projections:
                    position = tracked_position(conn, projection.name)
                    todo = [e for e in batch if e.position > position]
                    if todo:
                        operations = projection.operations(conn, todo)
                        planned[projection.name] = (position, prepare(conn, operations))
        with self._writing(turns) as conn:
            for projection in projections:
                position = tracked_position(conn, projection.name, lock=True)
                todo = [e for e in batch if e.position > position]
                if not todo:
                    continue
                plan = planned.get(projection.name)
                if plan is not None and plan[0] == position:
                    run_prepared(conn, plan[1])
                else:
                    run_operations(conn, projection.operations(conn, todo))
                advance(conn, projection.name, position, last)

    def follow(
        self,
        *,
        interval: float = 1.0,
        stop: threading.Event | None = None,
        on_applied: Callable[[int, int], None] | None = None,
    ) -> int:
        """Keep every read model up to date until ``stop`` is set; returns events applied.

        On PostgreSQL it wakes as soon as events are committed (LISTEN/NOTIFY on the
        recorder's channel), and at least every ``interval`` seconds; on SQLite, which
        has no notifications, it polls every ``interval`` seconds.
        """
        stop = stop or threading.Event()
        total = self.catch_up()
        if total and on_applied is not None:
            on_applied(total, self.head())
        waiter = self._notification_waiter(interval)
        try:
            while not stop.is_set():
                waiter(stop)
                applied = self.catch_up()
                if applied:
                    total += applied
                    if on_applied is not None:
                        on_applied(applied, self.head())
        finally:
            waiter.close()  # type: ignore[attr-defined]
        return total

    def _notification_waiter(self, interval: float) -> Callable[[threading.Event], None]:
        if self.location.kind != "postgresql":

            def poll(stop: threading.Event) -> None:
                stop.wait(interval)

            poll.close = lambda: None  # type: ignore[attr-defined]
            return poll

        import psycopg

        channel: str = getattr(self.app.recorder, "channel_name")  # noqa: B009
        loc = self.location
        conn = psycopg.connect(
            host=loc.host, port=loc.port, user=loc.user, password=loc.password or None,
            dbname=loc.dbname, autocommit=True, connect_timeout=5,
        )  # fmt: skip
        conn.execute(f'LISTEN "{channel}"')

        def listen(stop: threading.Event) -> None:
            waited = 0.0
            while not stop.is_set() and waited < interval:
                for _ in conn.notifies(timeout=0.2, stop_after=1):
                    return
                waited += 0.2

        listen.close = conn.close  # type: ignore[attr-defined]
        return listen

    def projection_names(self, name: str | None) -> list[str]:
        """All read models' names, or ``[name]`` if it is one of them."""
        if name is None:
            return list(PROJECTIONS)
        if name not in PROJECTIONS:
            raise NotFound(
                f"read model {name!r} does not exist: use one of {', '.join(PROJECTIONS)}"
            )
        return [name]

    def rebuild(
        self, names: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Drop the named read models and apply every event again from position 1."""
        started = time.perf_counter()
        self._reset(names)
        events = self.catch_up(names, progress=progress)
        seconds = time.perf_counter() - started
        return {
            "rebuilt": list(names),
            "events": events,
            "position": self.head(),
            "seconds": round(seconds, 3),
            "events_per_second": round(events / seconds) if seconds else 0,
        }

    def _reset(self, names: Sequence[str]) -> None:
        """Empty the named read models (their tables made anew) and set them back to 0."""
        with self._writing(None) as conn:
            for name in names:
                metadata = PROJECTIONS[name].metadata
                metadata.drop_all(conn)
                metadata.create_all(conn)
                conn.execute(
                    projection_tracking.update()
                    .where(projection_tracking.c.name == name)
                    .values(position=0)
                )

    def status(self) -> list[dict[str, Any]]:
        """Each read model's position against the store's head."""
        head = self.head()
        with self.connect() as conn:
            positions = {r.name: r.position for r in conn.execute(projection_tracking.select())}
        return [
            {
                "name": name,
                "position": positions.get(name, 0),
                "head": head,
                "behind": head - positions.get(name, 0),
            }
            for name in PROJECTIONS
        ]

    # --- queries -----------------------------------------------------------------

    def show(
        self,
        *,
        cluster: str | None = None,
        as_of: str | date | None = None,
        as_recorded: str | None = None,
        at_phase: str | None = None,
    ) -> dict[str, Any]:
        """The operating model, as ``show --json`` prints it: now, or at a point in time."""
        if as_of is not None or as_recorded is not None or at_phase is not None:
            from opmodel import timetravel

            point = timetravel.point_in_time(
                self, as_of=as_of, as_recorded=as_recorded, at_phase=at_phase
            )
            return timetravel.model_at(self, point, cluster=cluster)
        with self.connect() as conn:
            position = tracked_position(conn, "operating_model")
            model = query_model(conn, cluster=cluster, on=date.today())
        return {"position": position, "as_of": None, "as_recorded": None, **model}

    def diff(self, start: str, end: str) -> dict[str, Any]:
        """What changed between two points (each a date, ``@POS`` or ``phase:C:N``)."""
        from opmodel import timetravel
        from opmodel.diffing import diff_models

        points = [timetravel.point_from_reference(self, ref) for ref in (start, end)]
        before, after = (timetravel.model_at(self, p, with_ids=True) for p in points)
        return {
            "from": {"point": start, "position": before["position"], "as_of": before["as_of"]},
            "to": {"point": end, "position": after["position"], "as_of": after["as_of"]},
            "changes": diff_models(before, after),
        }

    def replay(self, until: str | None = None) -> Iterator[dict[str, Any]]:
        """Event by event, in position order, what each changed in the model."""
        from opmodel import timetravel
        from opmodel.diffing import diff_models

        point = timetravel.PointInTime(
            position=(
                timetravel.position_recorded_by(self, until, what="--until") if until else None
            )
        )
        with self.connect() as conn:
            rows = {r["position"]: r for r in query_history(conn, up_to=point.position)}
        builder = timetravel.ModelBuilder()
        try:
            today = date.today()
            previous = builder.model(cluster=None, on=today, with_ids=True)
            for envelope in timetravel.select_events(self, point, every_event=True):
                builder.apply([envelope])
                current = builder.model(cluster=None, on=today, with_ids=True)
                row = rows.get(envelope.position, {})
                yield {
                    "position": envelope.position,
                    "recorded_at": row.get("recorded_at"),
                    "effective": envelope.meta.effective.isoformat(),
                    "actor": envelope.meta.actor,
                    "event": envelope.name,
                    "subject": row.get("subject"),
                    "summary": row.get("summary"),
                    "changes": diff_models(previous, current),
                }
                previous = current
        finally:
            builder.close()

    def history(self, **filters: Any) -> list[dict[str, Any]]:
        """The audit history, oldest first, as ``history --json`` prints it."""
        with self.connect() as conn:
            return query_history(conn, **filters)


class _ReadAhead:
    """An import's entries applied as they are read, before the whole file is.

    Each entry the planner makes ready is applied to one unit of work, in order,
    while the rest of the file is still being parsed (by a helper,
    :class:`~opmodel.documents.Prefetched`). Nothing is saved: once the whole file
    is read and valid, the unit goes on from there (:attr:`results`); if the plan
    differs from what was applied (:attr:`Planner.as_planned`), it is dropped. The
    first entry that fails stops the applying; its error is raised by
    :meth:`raise_failure`, only once the file has proved valid, since an invalid
    file's error comes first.
    """

    def __init__(self, app: OperatingModel, planner: Planner, sha256: str) -> None:
        self.planner = planner
        self.sha256 = sha256
        self.uow = UnitOfWork(app, store_empty=not app.recorder.max_notification_id())
        self.results: list[str | None] = []
        self._app = app
        self._failure: tuple[int, Command, Exception] | None = None

    def apply(self, ready: list[tuple[int, Command, Meta]]) -> None:
        """Apply the entries just made ready (unless one has failed)."""
        for number, command, meta in ready:
            if self._failure is not None:
                return
            try:
                self.results.append(command.run(self._app, self.uow, meta))
            except Exception as exc:  # raised in its turn, once the file is known valid
                self._failure = (number, command, exc)

    def raise_failure(self) -> None:
        """Raise the first entry's failure, if one failed, named as the entry."""
        if self._failure is None:
            return
        from opmodel.importer import name_entry

        number, command, exc = self._failure
        if isinstance(exc, OpmodelError):
            raise name_entry(number, command, exc) from exc
        raise exc


class _Ahead:
    """Read models worked out while an import's events are being saved (ADR 0008).

    Just before the save, a helper process is forked with the events raised. The
    read models that need nothing of the events as stored (history, operating
    model, timeline) are worked out there, as one batch, for the positions the
    events will have if nobody else writes meanwhile (the head, plus one, and on),
    while this process encodes and saves them. Once the save has committed, this
    process tells the helper the positions they got: if they are the ones assumed,
    the helper writes its rows (each read model's tracking row moving from the old
    head to the new one in the same transaction, as always); this process applies
    the ledger meanwhile. Whatever the helper did not apply (other positions, a read
    model that had moved, a failure) is caught up here afterwards, as without it.
    """

    #: Imports of more events are not worked out ahead (they would be held at once).
    MAX_EVENTS = 100_000

    def __init__(self, service: Service) -> None:
        self.service = service
        self.projections = [p for p in PROJECTIONS.values() if not p.reads_stored]
        self.helper: parallel.Helper | None = None
        self.turns: parallel.Turns | None = None
        self.go: int | None = None  # the pipe telling the helper where the events went

    @property
    def started(self) -> bool:
        return self.helper is not None

    def start(self, events: list[Any]) -> None:
        """Before the save: fork a helper working out its read models from ``events``.

        Whatever stops it (no process to be had, the read models not at hand) only
        means the read models are caught up after the save, as without it.
        """
        self.discard()  # a unit of work run again: its events are new
        try:
            self._start(events)
        except Exception:  # the save goes on without it: catch-up does the rest afterwards
            self.discard()

    def _start(self, events: list[Any]) -> None:
        service = self.service
        if not (service.parallel_min_events <= len(events) <= self.MAX_EVENTS):
            return
        if not parallel.can_fork():
            return
        head = int(service.app.recorder.max_notification_id() or 0)
        with service.connect() as conn:
            if any(tracked_position(conn, p.name) != head for p in PROJECTIONS.values()):
                return  # read models behind: caught up the usual way after the save
        go_read, go_write = os.pipe()
        self.go = go_write
        self.turns = turns = service._turns()
        projections = self.projections

        def work() -> int:
            os.close(go_write)  # so that the parent's end closing reads as the end
            service._become_helper(turns)
            with gc_paused():
                return _apply_ahead(service, projections, events, head, go_read, turns)

        try:
            self.helper = parallel.Helper(work)
        finally:
            os.close(go_read)

    def finish(self, saved: Saved) -> None:
        """After the save: let the helper write, apply the rest, then whatever it left."""
        helper, go, turns = self.helper, self.go, self.turns
        assert helper is not None
        assert go is not None
        assert turns is not None
        service = self.service
        inherited = service._engine
        try:
            with suppress(BrokenPipeError):  # the helper is gone already: wait() says so
                os.write(go, f"{saved.positions[0]} {saved.positions[-1]}\n".encode())
            rest = [p for p in PROJECTIONS.values() if p not in self.projections]
            with service._checkpoints(turns):
                service._catch_up(rest, service._reader(saved), None, turns=turns)
                applied = helper.wait() or 0
        finally:
            self.discard()  # closes the pipe and the turns; the helper, if still there, ends
            service._engine = inherited
        left = [p.name for n, p in enumerate(self.projections) if not applied & (1 << n)]
        if left:
            service.catch_up(left, just_saved=saved)

    def discard(self) -> None:
        """Stop the helper (the save failed, or the unit of work runs again)."""
        if self.helper is not None:
            self.helper.stop()
            self.helper = None
        if self.go is not None:
            os.close(self.go)
            self.go = None
        if self.turns is not None:
            self.turns.close()
            self.turns = None


def _apply_ahead(
    service: Service,
    projections: Sequence[Projection],
    events: Sequence[Any],
    head: int,
    go: int,
    turns: parallel.Turns,
) -> int:  # pragma: no cover - runs in the helper process
    """The helper's work for :class:`_Ahead`: which of ``projections`` it applied (bits)."""
    envelopes = [Envelope(head + n, event) for n, event in enumerate(events, start=1)]
    last = head + len(envelopes)
    planned: dict[str, list[Prepared]] = {}
    with service.engine.connect() as conn, conn.begin():
        for projection in projections:
            if tracked_position(conn, projection.name) == head:
                planned[projection.name] = prepare(conn, projection.operations(conn, envelopes))
    message = b""
    while not message.endswith(b"\n"):
        chunk = os.read(go, 64)
        if not chunk:  # the save did not happen: write nothing
            return 0
        message += chunk
    if message.split() != [str(head + 1).encode(), str(last).encode()]:
        return 0  # the events got other positions (another writer got in first)
    applied = 0
    with service._writing(turns) as conn:
        for n, projection in enumerate(projections):
            prepared = planned.get(projection.name)
            if prepared is None or tracked_position(conn, projection.name, lock=True) != head:
                continue
            run_prepared(conn, prepared)
            advance(conn, projection.name, head, last)
            applied |= 1 << n
    return applied


def _wal_autocheckpoint(conn: Connection, pages: int) -> None:
    """Set SQLite's automatic checkpoint on the connection (on the driver's, outside
    any transaction SQLAlchemy would begin for it)."""
    driver: Any = conn.connection.driver_connection
    driver.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


def _table_names(conn: Connection, location: StoreLocation) -> set[str]:
    """The store's table and trigger names."""
    if location.kind == "sqlite":
        return {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')"
            )
        }
    return {
        r[0]
        for r in conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
                "UNION SELECT tgname FROM pg_trigger t JOIN pg_class c ON t.tgrelid = c.oid "
                "JOIN pg_namespace n ON c.relnamespace = n.oid WHERE n.nspname = :s"
            ),
            {"s": location.schema},
        )
    }


def _outdated(projection: Projection, columns: dict[str, set[str]]) -> bool:
    """Whether a read model's tables are missing or lack a column this version writes."""
    return lacks_columns(projection.metadata.tables.values(), columns)


def _is_initialised(conn: Connection, location: StoreLocation) -> bool:
    """Whether the store has its event table, guards, tracking and current read-model tables."""
    names, columns = _table_names(conn, location), table_columns(conn)
    guards = {"opmodel_append_only_update", "opmodel_append_only_delete"}
    if location.kind == "postgresql":
        guards = {"opmodel_append_only_rows", "opmodel_append_only_truncate"}
    wanted = {location.events_table, projection_tracking.name} | guards
    return wanted <= names and not any(_outdated(p, columns) for p in PROJECTIONS.values())


def _first_line(exc: BaseException) -> str:
    text_ = str(exc).strip() or type(exc).__name__
    return text_.splitlines()[0]


def _store_error(location: StoreLocation, exc: BaseException) -> OpmodelError:
    message = _first_line(exc)
    if "append-only" in message or "read-only" in message or "permission denied" in message:
        return StoreUnavailable(
            f"store {location} refused the write: {message}; "
            "this connection cannot write (a read-only role or file?)"
        )
    return StoreUnavailable(f"store {location} failed: {message}")


def _make_engine(location: StoreLocation) -> Engine:
    if location.kind == "sqlite":
        engine = create_engine(
            location.sqlalchemy_url(),
            connect_args={"timeout": 30, "isolation_level": None},
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: object) -> None:
            # This engine writes only read models, which catch-up can always redo: in
            # WAL mode NORMAL keeps every commit atomic and consistent (tracking row
            # and rows together) and skips the fsync per commit; a power cut can at
            # worst roll back the last batches, which the next catch-up applies again.
            # The event store's own connection keeps eventsourcing's setting.
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
            # Freed pages are not overwritten with zeros when that costs more I/O (some
            # builds of SQLite default to secure_delete=ON, which made dropping the
            # read models' tables for a rebuild write every page of them again). What
            # a read model drops is derived from events the store keeps anyway.
            dbapi_connection.execute("PRAGMA secure_delete=FAST")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Writers take the write lock up front, so two processes never deadlock
            # upgrading a read lock; readers see a consistent snapshot.
            write = conn.get_execution_options().get("opmodel_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    options = {}
    if location.schema != "public":
        options["options"] = f"-csearch_path={location.schema}"
    return create_engine(
        location.sqlalchemy_url(),
        connect_args={"connect_timeout": 5, **options},
        pool_pre_ping=False,
    )
