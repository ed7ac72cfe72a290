"""Where the events live: store URLs and the settings eventsourcing's recorders take.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from opmodel.errors import StoreUnavailable

DEFAULT_STORE = "opmodel.db"
SQLITE_EVENTS_TABLE = "stored_events"  # eventsourcing's SQLite recorder's name
POSTGRES_EVENTS_TABLE = "opmodel_events"  # eventsourcing's PostgreSQL name: "<app>_events"
#: Longest store path accepted (Linux's PATH_MAX), and longest part of one (NAME_MAX).
MAX_PATH, MAX_NAME = 4096, 255


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
            "APPLICATION_RECORDER_TOPIC": "opmodel.store.postgres_recorder:PostgresRecorder",
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
        return _sqlite(text, text[len("sqlite:///") :])
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreUnavailable(
            f"store URL {text!r} uses {scheme!r}, which opmodel does not support: "
            "use a SQLite path (sqlite:///file.db) or postgresql://user@host:5432/db"
        )
    return _sqlite(text, text)


def _sqlite(text: str, path: str) -> StoreLocation:
    """An SQLite store at ``path``; refuse what would not name one file (exit 6)."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    if "?" in path:
        name = path.split("?", 1)[1].split("&")[0].split("=")[0] or "?"
        raise StoreUnavailable(
            f"store {shown!r} has a query parameter ({name!r}), which opmodel does not "
            "support on SQLite stores: give the file's path alone"
        )
    if "\x00" in path:
        raise StoreUnavailable(f"store path {shown!r} holds a NUL character")
    if len(path.encode("utf-8", "surrogateescape")) > MAX_PATH or any(
        len(part.encode("utf-8", "surrogateescape")) > MAX_NAME for part in path.split("/")
    ):
        raise StoreUnavailable(
            f"store path {shown!r} is too long ({len(path)} characters; at most {MAX_PATH}, "
            f"and {MAX_NAME} bytes for each part): choose a shorter path"
        )
    return StoreLocation("sqlite", path=Path(path))


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
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise StoreUnavailable(
            f"store URL has a query parameter ({unknown[0]!r}) opmodel does not support: "
            "the only one is ?schema=NAME"
        )
    schema = query.get("schema", ["public"])[0]
    if not schema.replace("_", "").isalnum() or not schema.isascii():
        raise StoreUnavailable(f"schema {schema!r} in store URL is not a plain identifier")
    if schema.lower() in {"information_schema"} or schema.lower().startswith("pg_"):
        raise StoreUnavailable(
            f"schema {schema!r} in store URL is PostgreSQL's own: choose a schema of your "
            "own (the default is public)"
        )
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
