"""What is particular to a PostgreSQL store.

The append-only triggers, the lock that serialises creating a store, the read
models' engine, LISTEN for new events, and eventsourcing's application
recorder inserting without a psycopg pipeline.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
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


class PostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's recorder, inserting each save in one plain transaction (no pipeline).

    The library's recorder sends a save through a psycopg pipeline. With psycopg
    3.3 a large save (several megabytes: an import of thousands of entries) can
    stall for ever in ``Pipeline.sync()`` after a partial write, with the server
    waiting to read. This recorder does the same work — lock the events table
    (so positions are committed in order), notify listeners, insert every event
    of the save with one statement, return their positions — in one ordinary
    transaction, which psycopg writes in full. Small saves behave as before.

    A save on a connection that was lost (a server restart, a terminated backend) is
    tried again on a new one, exactly as the library's recorder does (its own
    ``retry`` decorator and arguments): the transaction never committed, so
    nothing is written twice.
    """

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.datastore.enable_db_functions or not stored_events:
            inserted: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return inserted
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            self._insert_stored_events(curs, stored_events, **kwargs)
            ids: Sequence[int] | None = self._fetch_ids_after_insert_events(
                curs, stored_events, **kwargs
            )
            return ids
