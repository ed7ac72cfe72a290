"""The database under a store: one object that every layer above takes.

A :class:`Database` owns the SQLAlchemy engine on the store's database (the
read models' tables live beside the events), connections and write
transactions, the events table's description, and reading and decoding stored
events. What differs between backends is in :mod:`opmodel.store.sqlite` and
:mod:`opmodel.store.postgres`. The event store's own writes go through
eventsourcing's recorder (:mod:`opmodel.application`); everything else that
touches the database goes through here.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, TableClause, column, func, select, table, text
from sqlalchemy.exc import DBAPIError

from opmodel.errors import OpmodelError, StoreUnavailable
from opmodel.store import postgres, sqlite
from opmodel.store.codec import EventMapper, make_mapper
from opmodel.store.events import Envelope, StoredRow
from opmodel.store.execution import fetch_rows
from opmodel.store.location import StoreLocation, locate
from opmodel.store.schema import table_columns


class ReadModelSchema(Protocol):
    """The read models' tables, as the store is prepared for writing (:meth:`Database.prepare`)."""

    def ready(self, columns: dict[str, set[str]], names: set[str]) -> bool:
        """Whether every table exists with every column this version writes."""
        ...

    def create(self, conn: Connection) -> None:
        """Create what is missing (in the given write transaction)."""
        ...


class Database:
    """An opened store's database: connections, transactions, and the stored events."""

    def __init__(self, location: StoreLocation, *, read_only: bool = False) -> None:
        self.location = location
        #: Opened by a read command: an SQLite file is opened read-only (``mode=ro``),
        #: so a read-only file or filesystem can still be read.
        self.read_only = read_only
        self._engine: Engine | None = None
        self._mapper: EventMapper | None = None

    @classmethod
    def open(cls, url: str | None = None) -> Database:
        """The database of the store at ``url`` (or ``OPMODEL_STORE``, or ``./opmodel.db``)."""
        return cls(locate(url))

    @property
    def is_sqlite(self) -> bool:
        return self.location.kind == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            location = self.location
            if location.kind == "sqlite":
                self._engine = sqlite.make_engine(
                    location.sqlalchemy_url(),
                    read_only=location.path if self.read_only else None,
                )
            else:
                self._engine = postgres.make_engine(location)
        return self._engine

    @property
    def mapper(self) -> EventMapper:
        """What stored events are decoded with."""
        if self._mapper is None:
            self._mapper = make_mapper()
        return self._mapper

    def close(self) -> None:
        """Release connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def forget_connections(self) -> None:
        """In a forked child: leave the parent's connections alone, and make new ones."""
        self._engine = None

    # --- connections and transactions ----------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection, turning connection and database failures into StoreUnavailable.

        A database error that escapes the block (a connection lost after a save, a
        damaged file, a refused write) is raised as the error a user sees (exit 6),
        never as SQLAlchemy's own.
        """
        try:
            conn = self.engine.connect()
        except Exception as exc:
            error = store_error(self.location, exc)
            if error.message.startswith(
                (f"store {self.location} failed", f"store {self.location} is unreachable")
            ):
                error = StoreUnavailable(
                    f"cannot connect to store {self.location}: {first_line(exc)}"
                )
            raise error from exc
        try:
            with conn:
                yield conn
        except DBAPIError as exc:
            raise store_error(self.location, exc) from exc

    @contextmanager
    def writing(
        self,
        turn: AbstractContextManager[object] | None = None,
        *,
        checkpointed_elsewhere: bool = False,
    ) -> Iterator[Connection]:
        """A write transaction, taken inside ``turn`` if given.

        ``checkpointed_elsewhere``: a thread checkpoints SQLite's write-ahead log
        (:class:`~opmodel.store.sqlite.Checkpoints`), so this commit leaves it alone.
        """
        with self.connect() as conn:
            conn = conn.execution_options(opmodel_write=True)
            quiet = checkpointed_elsewhere and self.is_sqlite
            if quiet:
                sqlite.set_wal_autocheckpoint(conn, 0)
            try:
                with turn if turn is not None else nullcontext(), conn.begin():
                    yield conn
            finally:
                if quiet:  # the pooled connection checkpoints as usual again
                    sqlite.set_wal_autocheckpoint(conn, sqlite.WAL_AUTOCHECKPOINT)

    def checkpoints(
        self, turn: Callable[[], AbstractContextManager[object]] | None = None
    ) -> AbstractContextManager[object]:
        """WAL checkpoints by a thread while two processes write (SQLite; else nothing)."""
        if not self.is_sqlite or self.location.path is None:
            return nullcontext()
        return sqlite.Checkpoints(str(self.location.path), turn)

    # --- the stored events -------------------------------------------------------------

    def events_table(self) -> TableClause:
        """The event store's table (eventsourcing's layout), for plain queries and joins.

        Its columns: the position (``rowid`` in eventsourcing's SQLite table,
        ``notification_id`` in its PostgreSQL one), originator id, version, topic, state.
        """
        location = self.location
        return table(
            location.events_table,
            column(location.position_column),
            column("originator_id"),
            column("originator_version"),
            column("topic"),
            column("state"),
            schema=None if location.kind == "sqlite" else location.schema,
        )

    def head(self) -> int:
        """The position of the last stored event (0 when empty)."""
        position = self.events_table().c[0]
        try:
            with self.engine.connect() as conn:
                found = conn.execute(select(func.max(position))).scalar()
        except Exception as exc:
            raise store_error(self.location, exc) from exc
        return int(found or 0)

    def read_events(self, after: int, limit: int, *, stored: bool = True) -> list[Envelope]:
        """Up to ``limit`` stored events after position ``after``, deserialised.

        Read with one plain query (the rows as stored, no notification object per
        row) and decoded by :meth:`envelopes` (``stored``: keep the rows too).
        """
        columns = tuple(self.events_table().c)
        query = select(*columns).where(columns[0] > after).order_by(columns[0]).limit(limit)
        with self.connect() as conn, conn.begin():
            return self.envelopes(fetch_rows(conn, query), stored=stored)

    def envelopes(self, rows: Iterable[Sequence[Any]], *, stored: bool = True) -> list[Envelope]:
        """Stored rows ``(…, position, originator id, version, topic, state)`` as envelopes.

        A thing's events share one id object (each id is parsed once). Anything
        before the position is ignored. ``stored``: keep the stored fields too (the
        ledger hashes them; a past model, which holds tens of thousands of events at
        once, has no use for them).
        """
        event_of = self.mapper.event_of
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

    def waiter(self, channel: str | None) -> Waiter:
        """A wait for new events: LISTEN on PostgreSQL (the recorder's ``channel``),
        else a plain wait. Close it afterwards."""
        if self.location.kind != "postgresql" or channel is None:
            return Waiter()
        return _Listening(postgres.Listener(self.location, channel))

    # --- the store's tables ----------------------------------------------------------

    def require_exists(self) -> None:
        """Refuse a store that was never initialised (reading never creates one)."""
        location = self.location
        if location.kind == "sqlite":
            assert location.path is not None
            problem = sqlite.diagnose(location.path)
            if problem is not None:
                raise StoreUnavailable(f"store {location} {problem}")
            return
        with self.connect() as conn:
            found = conn.execute(
                text(
                    "SELECT 1 FROM information_schema.tables "
                    "WHERE table_schema = :schema AND table_name = :table"
                ),
                {"schema": location.schema, "table": location.events_table},
            ).first()
        if found is None:
            raise StoreUnavailable(
                f"store {location} is not initialised: run opmodel init "
                "(or point --store at an opmodel store)"
            )

    def prepare(
        self, make_event_tables: Callable[[], object], read_models: ReadModelSchema
    ) -> bool:
        """Make sure the event tables, guards and read-model tables exist; whether they did.

        A store already initialised is left alone (no DDL on the hot path, and none
        racing between concurrent writers). Creating one is serialised: an advisory
        lock on PostgreSQL, SQLite's own write lock on a file. ``make_event_tables``
        has eventsourcing's recorder create its tables.
        """
        location = self.location
        if location.kind == "sqlite":
            assert location.path is not None
            refused = sqlite.refuses_writes(location.path)
            if refused is not None:
                raise StoreUnavailable(
                    f"store {location} {refused}: nothing was written; read commands "
                    "(show, history, audit verify) still work on it"
                )
            try:
                location.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create the directory of store {location}: {exc}"
                ) from exc
        with self.connect() as conn:
            if self._initialised(conn, read_models):
                return True
        postgresql = location.kind == "postgresql"
        try:
            with self.connect() as lock:
                if postgresql:
                    lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": postgres.INIT_LOCK})
                    if location.schema != "public":
                        lock.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{location.schema}"')
                    lock.commit()
                try:
                    if location.path is not None:  # SQLite: before any table is made
                        sqlite.make_file(location.path)
                    make_event_tables()
                    with self.writing() as conn:
                        guards = (
                            sqlite.GUARDS if not postgresql else postgres.guards(location.schema)
                        )
                        for statement in guards:
                            conn.exec_driver_sql(statement)
                        read_models.create(conn)
                finally:
                    if postgresql:
                        lock.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": postgres.INIT_LOCK}
                        )
                        lock.commit()
        except OpmodelError:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot prepare store {location} for writing: {first_line(exc)}"
            ) from exc
        return False

    def _initialised(self, conn: Connection, read_models: ReadModelSchema) -> bool:
        names, columns = self.table_names(conn), table_columns(conn)
        guards = sqlite.GUARD_NAMES if self.is_sqlite else postgres.GUARD_NAMES
        return {self.location.events_table} | guards <= names and read_models.ready(columns, names)

    def table_names(self, conn: Connection) -> set[str]:
        """The store's table and trigger names."""
        if self.is_sqlite:
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
                {"s": self.location.schema},
            )
        }


class Waiter:
    """Waits ``interval`` seconds, or until ``stop`` is set (a store with no notifications)."""

    def __call__(self, stop: threading.Event, interval: float) -> None:
        stop.wait(interval)

    def close(self) -> None:
        """Nothing to release."""


class _Listening(Waiter):
    """Waits until an event is committed (PostgreSQL's LISTEN), at most ``interval``."""

    def __init__(self, listener: postgres.Listener) -> None:
        self._listener = listener

    def __call__(self, stop: threading.Event, interval: float) -> None:
        self._listener.wait(stop, interval)

    def close(self) -> None:
        self._listener.close()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name if it has none)."""
    text_ = str(exc).strip() or type(exc).__name__
    return text_.splitlines()[0]


def store_error(location: StoreLocation, exc: BaseException) -> OpmodelError:
    """A database failure as the error a user sees (exit 6)."""
    message = first_line(exc)
    lowered = message.lower()
    if any(
        words in lowered
        for words in ("append-only", "read-only", "readonly", "permission denied", "must be owner")
    ):
        return StoreUnavailable(
            f"store {location} refused the write: {message}; "
            "this connection cannot write (a read-only role or file?)"
        )
    if "disk is full" in lowered or "no space left" in lowered:
        return StoreUnavailable(
            f"store {location} is full ({message}): nothing was written; free some space "
            "and run the command again"
        )
    if "disk i/o error" in lowered:
        return StoreUnavailable(
            f"store {location} could not be read or written ({message}): check that its "
            "disk is not full and the file is healthy, then run the command again"
        )
    if "malformed" in lowered or "not a database" in lowered:
        return StoreUnavailable(
            f"store {location} is damaged ({message}): restore it from a backup "
            "(opmodel audit export keeps the events in a pack)"
        )
    if any(
        words in lowered
        for words in ("server closed", "connection", "terminating", "consuming input failed")
    ):
        return StoreUnavailable(
            f"store {location} is unreachable: the connection was lost ({message}); "
            "run the command again once the server is back"
        )
    return StoreUnavailable(f"store {location} failed: {message}")
