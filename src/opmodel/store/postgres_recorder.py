"""eventsourcing's PostgreSQL application recorder, inserting without a psycopg pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry


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
