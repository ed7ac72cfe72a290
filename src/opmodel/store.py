"""Where the events live: store URLs, settings, and the database's append-only guards.

This is the only module that reads opmodel's environment variables
(``OPMODEL_STORE``, ``OPMODEL_ACTOR``).

Accepted store locations (SPEC §4):

- nothing: ``./opmodel.db``, an embedded SQLite file;
- ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or a plain path;
- ``postgresql://user[:password]@host[:port]/dbname[?schema=NAME]`` (also ``postgres://``).
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from opmodel.errors import StoreUnavailable

DEFAULT_STORE = "opmodel.db"
SQLITE_EVENTS_TABLE = "stored_events"  # eventsourcing's SQLite recorder's name
POSTGRES_EVENTS_TABLE = "opmodel_events"  # eventsourcing's PostgreSQL name: "<app>_events"
GUARD_MESSAGE = "opmodel: stored events are append-only"


@dataclass(frozen=True)
class StoreLocation:
    """A parsed store URL."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"

    def __str__(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        schema = "" if self.schema == "public" else f"?schema={self.schema}"
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}:{self.port}/{self.dbname}{schema}"

    @property
    def events_table(self) -> str:
        """The table eventsourcing's recorder keeps the events in."""
        return SQLITE_EVENTS_TABLE if self.kind == "sqlite" else POSTGRES_EVENTS_TABLE

    @property
    def position_column(self) -> str:
        """The column of :attr:`events_table` holding each event's position."""
        return "rowid" if self.kind == "sqlite" else "notification_id"

    def eventsourcing_env(self, *, create_tables: bool) -> dict[str, str]:
        """Settings for eventsourcing's own SQLite or PostgreSQL recorder."""
        common = {"CREATE_TABLE": "y" if create_tables else "n"}
        if self.kind == "sqlite":
            return {
                **common,
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return {
            **common,
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "2",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "opmodel.pgrecorder:PostgresRecorder",
        }

    def sqlalchemy_url(self) -> str:
        """The URL of the same database for SQLAlchemy (the read models)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        from urllib.parse import quote

        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{quote(self.dbname)}"


def locate(url: str | None = None) -> StoreLocation:
    """Parse a store URL (or ``OPMODEL_STORE``, or the default ``./opmodel.db``)."""
    text = (url if url is not None else os.environ.get("OPMODEL_STORE", "")).strip()
    if not text:
        return StoreLocation("sqlite", path=Path(DEFAULT_STORE))
    if text.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return _locate_postgres(text)
    if text.startswith("sqlite:"):
        if not text.startswith("sqlite:///") or len(text) == len("sqlite:///"):
            raise StoreUnavailable(
                f"store URL {text!r} is not valid: write sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        return StoreLocation("sqlite", path=Path(text[len("sqlite:///") :]))
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreUnavailable(
            f"store URL {text!r} uses {scheme!r}, which opmodel does not support: "
            "use a SQLite path (sqlite:///file.db) or postgresql://user@host:5432/db"
        )
    return StoreLocation("sqlite", path=Path(text))


def _locate_postgres(text: str) -> StoreLocation:
    parts = urlsplit(text)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise StoreUnavailable(
            f"store URL {text!r} names no database: write postgresql://user@host:5432/dbname"
        )
    try:
        port = parts.port or 5432
    except ValueError as exc:
        raise StoreUnavailable(f"store URL {text!r} has an invalid port") from exc
    query = parse_qs(parts.query)
    schema = query.get("schema", ["public"])[0]
    if not schema.replace("_", "").isalnum():
        raise StoreUnavailable(f"schema {schema!r} in store URL is not a plain identifier")
    return StoreLocation(
        "postgresql",
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        dbname=dbname,
        schema=schema,
    )


def default_actor() -> str:
    """Who is acting when ``--actor`` is not given: ``OPMODEL_ACTOR``, else the login name."""
    actor = os.environ.get("OPMODEL_ACTOR", "").strip()
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return "unknown"


# --- append-only guards ----------------------------------------------------------

SQLITE_GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS opmodel_append_only_update BEFORE UPDATE "
    f"ON {SQLITE_EVENTS_TABLE} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}: UPDATE refused'); END",
    f"CREATE TRIGGER IF NOT EXISTS opmodel_append_only_delete BEFORE DELETE "
    f"ON {SQLITE_EVENTS_TABLE} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}: DELETE refused'); END",
]


def postgres_guards(schema: str) -> list[str]:
    """Statements that make the events table refuse UPDATE, DELETE and TRUNCATE."""
    table = f'"{schema}".{POSTGRES_EVENTS_TABLE}'
    function = f'"{schema}".opmodel_append_only'
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{GUARD_MESSAGE}: ' || TG_OP || ' refused'; "
        "END $$",
        f"CREATE OR REPLACE TRIGGER opmodel_append_only_rows BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE OR REPLACE TRIGGER opmodel_append_only_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


#: The page size a new SQLite store is made with (SQLite's default is 4 KiB). Reads and
#: writes move whole pages, one system call each: a rebuild of 26,209 events made
#: ~85,000 of them with 4 KiB pages (ADR 0010). An existing store keeps its own.
SQLITE_PAGE_SIZE = 16384


def make_sqlite_file(path: Path) -> None:
    """Give a new, empty SQLite file opmodel's page size, in WAL mode; leave any other alone.

    Must run before any table is created in it: a page size is fixed once the file
    holds anything.
    """
    conn = sqlite3.connect(path, timeout=30)
    try:
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            conn.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            conn.execute("PRAGMA journal_mode=WAL")  # writes the file's header
    finally:
        conn.close()


def sqlite_store_exists(path: Path) -> bool:
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
