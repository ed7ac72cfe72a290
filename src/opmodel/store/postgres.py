"""What is particular to a PostgreSQL store.

The append-only triggers, the lock that serialises creating a store, the read
models' engine and LISTEN for new events. eventsourcing's application recorder
is in :mod:`opmodel.store.postgres_recorder`, so that nothing here imports
psycopg or the library's PostgreSQL module until a PostgreSQL store is used.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine

from opmodel.store.location import POSTGRES_EVENTS_TABLE, StoreLocation

GUARD_MESSAGE = "opmodel: stored events are append-only"
GUARD_NAMES = frozenset({"opmodel_append_only_rows", "opmodel_append_only_truncate"})

#: The advisory lock key that serialises creating a store.
INIT_LOCK = 0x6F706D6F64656C  # "opmodel"


def guards(schema: str) -> list[str]:
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


def make_engine(location: StoreLocation) -> Engine:
    """The read models' engine, on the store's schema."""
    options = {}
    if location.schema != "public":
        options["options"] = f"-csearch_path={location.schema}"
    return create_engine(
        location.sqlalchemy_url(),
        connect_args={"connect_timeout": 5, **options},
        pool_pre_ping=False,
    )


class Listener:
    """Waits for events to be committed: LISTEN on the recorder's NOTIFY channel."""

    def __init__(self, location: StoreLocation, channel: str) -> None:
        import psycopg

        loc = location
        self._conn = psycopg.connect(
            host=loc.host, port=loc.port, user=loc.user, password=loc.password or None,
            dbname=loc.dbname, autocommit=True, connect_timeout=5,
        )  # fmt: skip
        self._conn.execute(f'LISTEN "{channel}"')

    def wait(self, stop: threading.Event, interval: float) -> None:
        """Return when an event is committed, ``stop`` is set, or ``interval`` seconds pass."""
        waited = 0.0
        while not stop.is_set() and waited < interval:
            for _ in self._conn.notifies(timeout=0.2, stop_after=1):
                return
            waited += 0.2

    def close(self) -> None:
        self._conn.close()
