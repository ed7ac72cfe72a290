"""The baseline processes: ``python -m bench.baselines MODE …``, one fresh process per run.

Modes that stand for "the bare library" (``write``, ``read``) and the raw
read-and-hash of ``verify``'s baseline (``hash``) first import the same stack
opmodel's CLI runs on (``eventsourcing.application``, ``sqlalchemy``,
``pydantic``, ``click``), so that a ratio compares the work, not the imports.
``hash --no-stack`` and the ``raw-*`` modes import nothing but what they use:
they are the physical limit.

Each mode prints one JSON line saying what it did, which the runner checks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

TOPIC = "opmodel.domain.department:Department.Registered"


def _import_stack() -> None:
    import click  # noqa: F401
    import eventsourcing.application  # noqa: F401
    import pydantic  # noqa: F401
    import sqlalchemy  # noqa: F401


def library_env(store: str, *, create_table: bool) -> dict[str, str]:
    """eventsourcing's settings for a store given as ``sqlite:///PATH`` or a PostgreSQL URL.

    The same recorder settings opmodel uses (``StoreLocation.eventsourcing_env``).
    """
    common = {"CREATE_TABLE": "y" if create_table else "n"}
    if store.startswith("sqlite:///"):
        return {
            **common,
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": store[len("sqlite:///") :],
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    pg = postgres_parts(store)
    return {
        **common,
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": pg["dbname"],
        "POSTGRES_HOST": pg["host"],
        "POSTGRES_PORT": pg["port"],
        "POSTGRES_USER": pg["user"],
        "POSTGRES_PASSWORD": pg["password"],
        "POSTGRES_SCHEMA": pg["schema"],
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
        "POSTGRES_LOCK_TIMEOUT": "30",
    }


def postgres_parts(url: str) -> dict[str, str]:
    """host, port, user, password, dbname and schema of ``postgresql://…[?schema=S]``."""
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.lstrip("/")),
        "schema": parse_qs(parts.query).get("schema", ["public"])[0],
    }


def postgres_conninfo(url: str) -> str:
    """A libpq connection string for ``url`` (its ``?schema=`` left out)."""
    pg = postgres_parts(url)
    conninfo = f"host={pg['host']} port={pg['port']} dbname={pg['dbname']} connect_timeout=5"
    if pg["user"]:
        conninfo += f" user={pg['user']}"
    if pg["password"]:
        conninfo += f" password={pg['password']}"
    return conninfo


def write(store: str, events: int, aggregates: int, size: int, chunk: int = 0) -> dict[str, Any]:
    """The bare library writing ``events`` events in one save (one transaction).

    With ``chunk``, in saves of that many items instead: only for stores made
    outside the timings (the PostgreSQL read baseline's), since the library's
    PostgreSQL recorder can stall on one save of many MB (docs/performance.md).
    """
    _import_stack()
    from bench.bare import BareApp, make_items

    app = BareApp(env=library_env(store, create_table=False))
    items = make_items(app, events, aggregates, size)
    step = chunk or len(items)
    saved = sum(len(app.save(*items[i : i + step])) for i in range(0, len(items), step))
    app.close()
    return {"events": saved}


def setup(store: str) -> dict[str, Any]:
    """Create the bare library's table (outside the timings)."""
    from bench.bare import BareApp

    app = BareApp(env=library_env(store, create_table=True))
    app.close()
    return {"created": True}


def read(store: str, page: int) -> dict[str, Any]:
    """The bare library reading and deserialising every event, a page at a time."""
    _import_stack()
    from bench.bare import BareApp

    app = BareApp(env=library_env(store, create_table=False))
    select = app.recorder.select_notifications
    to_event = app.mapper.to_domain_event
    count = 0
    after = 0
    while True:
        notifications = select(start=after + 1, limit=page)
        if not notifications:
            break
        for notification in notifications:
            to_event(notification)
        count += len(notifications)
        after = notifications[-1].id
    app.close()
    return {"events": count}


def hash_rows(db: str, *, stack: bool) -> dict[str, Any]:
    """Read every stored event's row raw (sqlite3) and sha256 it."""
    if stack:
        _import_stack()
    import hashlib
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    count = 0
    last = ""
    rows = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state "
        "FROM stored_events ORDER BY rowid"
    )
    for rowid, originator_id, version, topic, state in rows:
        head = f"{rowid}\n{originator_id}\n{version}\n{topic}\n".encode()
        last = hashlib.sha256(head + state).hexdigest()
        count += 1
    conn.close()
    return {"events": count, "last": last}


def _rows(events: int, size: int) -> list[tuple[str, int, str, bytes]]:
    import uuid

    state = os.urandom(size)
    return [(uuid.uuid4().hex, 1, TOPIC, state) for _ in range(events)]


SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)


def raw_sqlite(db: str, events: int, size: int, *, create: bool) -> dict[str, Any]:
    """``events`` rows of ``size`` bytes into eventsourcing's table layout: one transaction."""
    import sqlite3

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    if create:
        conn.execute(SQLITE_TABLE)
        conn.close()
        return {"created": True}
    rows = _rows(events, size)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return {"events": len(rows)}


def raw_postgres(url: str, events: int, size: int, *, create: bool) -> dict[str, Any]:
    """``events`` rows of ``size`` bytes into eventsourcing's table layout: one transaction."""
    import psycopg

    schema = postgres_parts(url)["schema"]
    with psycopg.connect(postgres_conninfo(url)) as conn:
        if create:
            conn.execute(
                f'CREATE TABLE "{schema}".raw_events (originator_id uuid NOT NULL, '
                "originator_version bigint NOT NULL, topic text, state bytea, "
                "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
            )
            conn.execute(
                f'CREATE UNIQUE INDEX raw_events_nid ON "{schema}".raw_events (notification_id)'
            )
            return {"created": True}
        rows = _rows(events, size)
        with conn.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{schema}".raw_events (originator_id, originator_version, topic, '
                "state) VALUES (%s, %s, %s, %s)",
                rows,
            )
    return {"events": len(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("write", help="the bare library writes N events in one save")
    p.add_argument("--store", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--aggregates", type=int, required=True)
    p.add_argument("--size", type=int, required=True, help="average stored bytes per event")
    p.add_argument("--chunk", type=int, default=0, help="save this many items at a time")
    p = sub.add_parser("setup", help="create the bare library's table")
    p.add_argument("--store", required=True)
    p = sub.add_parser("read", help="the bare library reads and deserialises every event")
    p.add_argument("--store", required=True)
    p.add_argument("--page", type=int, default=1000)
    p = sub.add_parser("hash", help="raw read + sha256 of every row of an SQLite store")
    p.add_argument("--db", required=True)
    p.add_argument("--no-stack", action="store_true", help="do not import the stack first")
    for name in ("raw-sqlite", "raw-postgres"):
        p = sub.add_parser(name, help="raw inserts of N rows of SIZE bytes")
        p.add_argument("--store", required=True, help="a file (SQLite) or a URL (PostgreSQL)")
        p.add_argument("--events", type=int, default=0)
        p.add_argument("--size", type=int, default=0)
        p.add_argument("--create", action="store_true", help="only create the table")
    args = parser.parse_args(argv)
    result: dict[str, Any]
    if args.mode == "write":
        result = write(args.store, args.events, args.aggregates, args.size, args.chunk)
    elif args.mode == "setup":
        result = setup(args.store)
    elif args.mode == "read":
        result = read(args.store, args.page)
    elif args.mode == "hash":
        result = hash_rows(args.db, stack=not args.no_stack)
    elif args.mode == "raw-sqlite":
        result = raw_sqlite(args.store, args.events, args.size, create=args.create)
    else:
        result = raw_postgres(args.store, args.events, args.size, create=args.create)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
