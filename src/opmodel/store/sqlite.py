"""What is particular to an embedded SQLite store.

The file (page size, WAL), the append-only triggers, the read models' engine
and its pragmas, the write-ahead log checkpointed by a thread while two
processes write, and statements compiled once for the ``sqlite3`` cursor. The
figures behind each choice are in ADRs 0008-0010.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import ClauseElement, Connection, Engine, Executable, create_engine, event
from sqlalchemy.pool import QueuePool

from opmodel.store.location import SQLITE_EVENTS_TABLE

GUARD_MESSAGE = "opmodel: stored events are append-only"

#: The triggers that make the events table refuse UPDATE and DELETE.
GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS opmodel_append_only_update BEFORE UPDATE "
    f"ON {SQLITE_EVENTS_TABLE} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}: UPDATE refused'); END",
    f"CREATE TRIGGER IF NOT EXISTS opmodel_append_only_delete BEFORE DELETE "
    f"ON {SQLITE_EVENTS_TABLE} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}: DELETE refused'); END",
]
GUARD_NAMES = frozenset({"opmodel_append_only_update", "opmodel_append_only_delete"})

#: The page size a new SQLite store is made with (SQLite's default is 4 KiB): reads and
#: writes move whole pages, one system call each (ADR 0010). An existing store keeps its own.
PAGE_SIZE = 16384

#: SQLite's own default: a commit that finds the WAL past this many pages checkpoints it.
WAL_AUTOCHECKPOINT = 1000


def make_file(path: Path) -> None:
    """Give a new, empty SQLite file opmodel's page size, in WAL mode; leave any other alone.

    Must run before any table is created in it: a page size is fixed once the file
    holds anything.
    """
    conn = sqlite3.connect(path, timeout=30)
    try:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode=WAL")  # writes the file's header
    finally:
        conn.close()


#: The first 16 bytes of every SQLite database file.
HEADER = b"SQLite format 3\x00"


def read_only_uri(path: Path) -> str:
    """The URI that opens ``path`` read-only.

    A store in WAL mode needs its ``-shm`` file to be read; on a read-only
    filesystem (or a folder this user cannot write) where it was not left behind,
    SQLite cannot make one, so the file is opened ``immutable``: nobody can
    change it there while it is read.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    shm = path.with_name(path.name + "-shm")
    if not shm.exists() and not writable(path.parent):
        uri += "&immutable=1"
    return uri


def writable(path: Path) -> bool:
    """Whether this user can write at ``path`` (its filesystem not mounted read-only)."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return False
    except OSError:
        return False
    return os.access(path, os.W_OK)


def refuses_writes(path: Path) -> str | None:
    """Why an existing store file cannot be written, or None."""
    if not path.exists():
        return None
    if not writable(path.parent if path.is_file() else path):
        return "is on a read-only filesystem or in a folder this user cannot write"
    if path.is_file() and not os.access(path, os.W_OK):
        return "is a read-only file"
    return None


def diagnose(path: Path) -> str | None:
    """What keeps ``path`` from being read as an opmodel store, or None (never creates it).

    Said as the end of a sentence about the store, with what to do next.
    """
    advice = "(or pass --store / set OPMODEL_STORE)"
    if not path.exists():
        return f"does not exist: record something first, or run opmodel init {advice}"
    if path.is_dir():
        return (
            "is a directory, not an SQLite file: point --store (or OPMODEL_STORE) at a store file"
        )
    try:
        with path.open("rb") as file:
            header = file.read(len(HEADER))
    except PermissionError:
        return "cannot be read: permission denied (check the file's owner and mode)"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if not header:
        return f"is empty, not initialised: run opmodel init {advice}"
    if header != HEADER:
        return (
            "is not an SQLite database: point --store (or OPMODEL_STORE) at an opmodel store file"
        )
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        return f"cannot be opened: {exc}"
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (SQLITE_EVENTS_TABLE,)
        ).fetchone()
    except sqlite3.DatabaseError as exc:
        return (
            f"is damaged (SQLite: {exc}): restore it from a backup, or check it with "
            "sqlite3's PRAGMA integrity_check"
        )
    finally:
        conn.close()
    if row is None:
        return f"is not initialised: run opmodel init {advice}"
    return None


def store_exists(path: Path) -> bool:
    """Whether ``path`` is an SQLite file holding an opmodel event table (never creates it)."""
    if not path.is_file():
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (SQLITE_EVENTS_TABLE,)
        ).fetchone()
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return row is not None


def make_engine(url: str, *, read_only: Path | None = None) -> Engine:
    """The read models' engine on the store's file; ``read_only``: on that file, opened
    with ``mode=ro`` (a read command: a read-only file or filesystem can be read)."""
    if read_only is not None:
        uri = read_only_uri(read_only)
        engine = create_engine(
            "sqlite://",
            poolclass=QueuePool,  # a file, not the in-memory database "sqlite://" says
            creator=lambda: sqlite3.connect(
                uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False
            ),
        )
    else:
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        # This engine writes only read models, which catch-up can always redo: in
        # WAL mode NORMAL keeps every commit atomic and consistent (tracking row
        # and rows together) and skips the fsync per commit; a power cut can at
        # worst roll back the last batches, which the next catch-up applies again.
        # The event store's own connection keeps eventsourcing's setting.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        # Freed pages are not overwritten with zeros when that costs more I/O (some
        # builds of SQLite default to secure_delete=ON, which made dropping the read
        # models' tables for a rebuild write every page of them again). What a read
        # model drops is derived from events the store keeps anyway.
        dbapi_connection.execute("PRAGMA secure_delete=FAST")

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two processes never deadlock
        # upgrading a read lock; readers see a consistent snapshot.
        write = conn.get_execution_options().get("opmodel_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def set_wal_autocheckpoint(conn: Connection, pages: int) -> None:
    """Set SQLite's automatic checkpoint on the connection (on the driver's, outside
    any transaction SQLAlchemy would begin for it)."""
    driver: Any = conn.connection.driver_connection
    driver.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


class Checkpoints:
    """A thread checkpointing an SQLite file's write-ahead log while two processes write.

    SQLite checkpoints the WAL in the commit that finds it past 1,000 pages: that
    commit then copies every page written since the last one (both processes'),
    and the process that commits most often pays for most of them. Here a thread
    does it instead, every 20 ms, with a connection of its own: SQLite releases
    the interpreter lock while it copies, so the copying runs beside the writers'
    Python. The writers' commits then leave the WAL alone
    (:func:`set_wal_autocheckpoint` to 0). A context manager, around the writing.

    ``turn`` is a lock the writers take for each write: a truncating checkpoint
    holds it, so that no frame is added while it waits for the readers.
    """

    INTERVAL = 0.02
    #: Past this size the thread also waits for the readers, so that the next commit
    #: starts the WAL again from its beginning (see :meth:`_mode`).
    WAL_LIMIT = 64 << 20

    def __init__(
        self, path: str, turn: Callable[[], AbstractContextManager[object]] | None = None
    ) -> None:
        self.path = path
        self._turn = turn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="opmodel-checkpoints", daemon=True)

    def __enter__(self) -> Checkpoints:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.Error:  # pragma: no cover - the writers checkpoint as usual then
            return
        try:
            while not self._stop.wait(self.INTERVAL):
                if self._mode() == "PASSIVE":
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    continue
                with self._turn() if self._turn is not None else nullcontext():
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error:  # pragma: no cover - a checkpoint is only ever an optimisation
            pass
        finally:
            conn.close()

    def _mode(self) -> str:
        """PASSIVE, or TRUNCATE once the WAL is past :attr:`WAL_LIMIT`.

        A passive checkpoint copies pages into the database but cannot start the
        WAL again while a reader may still need it, and with two processes one of
        them is nearly always reading: the file grew by everything written (10 GB
        for a rebuild of 1,000,000 events). TRUNCATE waits (SQLite's busy wait) for
        the readers of the moment to finish, then empties the file; it is run
        holding a writers' turn, so that no new frame keeps it waiting.
        """
        try:
            size = os.path.getsize(self.path + "-wal")
        except OSError:
            return "PASSIVE"
        return "TRUNCATE" if size > self.WAL_LIMIT else "PASSIVE"


# --- statements straight to the sqlite3 cursor ------------------------------------------


@dataclass(frozen=True)
class CursorPlan:
    """A statement compiled for SQLite: its SQL and how to turn parameters into a row."""

    sql: str
    names: tuple[str, ...]  # the bind names in the order of the SQL's ``?``
    constants: dict[str, Any]  # binds with a value of their own (``SET status = 'active'``)
    processors: dict[str, Callable[[Any], Any]]  # bind processors (dates as ISO text)

    def rows(self, pending: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The positional rows of ``pending`` parameter sets."""
        names, constants, processors = self.names, self.constants, self.processors
        if constants:
            pending = [{**constants, **params} for params in pending]
        if not names:
            return [() for _ in pending]
        if len(names) == 1:
            name = names[0]
            if processors:
                process = processors[name]
                return [(process(params[name]),) for params in pending]
            return [(params[name],) for params in pending]
        get = itemgetter(*names)
        rows: list[tuple[Any, ...]] = [get(params) for params in pending]
        if processors:
            at = [(names.index(n), p) for n, p in processors.items() if names.count(n) == 1]
            if len(at) != len(processors):  # a processed bind used twice: do it by name
                return [
                    tuple(processors[n](params[n]) if n in processors else params[n] for n in names)
                    for params in pending
                ]
            for i, row in enumerate(rows):
                values = list(row)
                for index, process in at:
                    values[index] = process(values[index])
                rows[i] = tuple(values)
        return rows


_PLANS: dict[tuple[int, tuple[str, ...]], tuple[Executable, CursorPlan | None]] = {}


def cursor_plan(
    conn: Connection, statement: Executable, keys: tuple[str, ...]
) -> CursorPlan | None:
    """``statement`` with these parameter names compiled once per process (None: it
    cannot run on the cursor exactly as SQLAlchemy would run it)."""
    cache_key = (id(statement), keys)
    cached = _PLANS.get(cache_key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    plan = compile_for_cursor(conn, statement, keys)
    _PLANS[cache_key] = (statement, plan)  # keeps the statement alive, so its id is stable
    return plan


def compile_for_cursor(
    conn: Connection, statement: Executable, keys: tuple[str, ...]
) -> CursorPlan | None:
    """Compile without caching (see :func:`cursor_plan`)."""
    dialect = conn.dialect
    if not isinstance(statement, ClauseElement):
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (
        not compiled.positional
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or any(bind.expanding or bind.callable for bind in compiled.binds.values())
    ):
        return None
    names = tuple(compiled.positiontup)
    constants: dict[str, Any] = {}
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in names:
        bind = compiled.binds[name]
        if name not in keys:
            if bind.required:
                return None  # SQLAlchemy would refuse it: let it say so
            constants[name] = bind.value
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    return CursorPlan(compiled.string, names, constants, processors)
