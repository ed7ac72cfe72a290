"""The ledger: the hash chain over every stored event (SPEC §7), as a read model.

One row per position: the event's identity (originator id and version), the
sha256 of its canonical bytes, and the chain hash up to it. It is kept like
every read model (exactly once, in the batch's transaction) and so is never
behind when a write command returns. ``opmodel.audit`` recomputes the chain
from the stored events and compares it with these rows and with digests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select

from opmodel.audit.canonical import GENESIS, PREFIX, as_bytes, event_digest, link
from opmodel.projections.base import AnyOperation, Envelope, Planned, Rows

metadata = MetaData()

ledger = Table(
    "ledger",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("originator_id", String(32), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("event_sha256", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

S_LEDGER = insert(ledger)


class CanonicalBytes:
    """:func:`~opmodel.audit.canonical.canonical` of stored events, from what the store returned.

    The same bytes (tested against it), made with one formatting per event and each
    topic encoded once: ``canonical`` is the verifier's own, written for clarity in
    the standard library alone, and a rebuild makes one per stored event.
    """

    def __init__(self) -> None:
        self._topics: dict[str, bytes] = {}

    def __call__(self, envelope: Envelope) -> bytes:
        n = envelope.stored
        topic = self._topics.get(n.topic)
        if topic is None:
            topic = self._topics[n.topic] = n.topic.encode("utf-8")
        state = n.state if n.state.__class__ is bytes else as_bytes(n.state)
        return b"%s%d\n%s\n%d\n%s\n%s" % (
            PREFIX,
            envelope.position,
            n.originator_id.hex.encode("ascii"),
            n.originator_version,
            topic,
            state,
        )


def head_hash(conn: Connection) -> tuple[int, bytes]:
    """The ledger's last position and chain hash (0 and the genesis hash when empty)."""
    row = conn.execute(
        select(ledger.c.position, ledger.c.hash).order_by(ledger.c.position.desc()).limit(1)
    ).first()
    return (0, GENESIS) if row is None else (row.position, bytes.fromhex(row.hash))


class LedgerProjection:
    """The hash chain, one row per stored event."""

    name: ClassVar[str] = "ledger"
    metadata: ClassVar[MetaData] = metadata
    reads_stored: ClassVar[bool] = True

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        # Each event's canonical bytes and digest follow from the event as stored; its
        # chain hash needs the one before it, which the previous batch may still be
        # writing: the links are made when the ledger's last hash can be read.
        events = []
        canonical_bytes = CanonicalBytes()
        for envelope in batch:
            data = canonical_bytes(envelope)
            stored = envelope.stored
            events.append(
                (
                    envelope.position,
                    stored.originator_id.hex,
                    stored.originator_version,
                    event_digest(data),
                    data,
                )
            )

        def finish(conn: Connection) -> list[AnyOperation]:
            _, previous = head_hash(conn)
            rows = []
            for position, originator_id, version, digest, data in events:
                previous = link(previous, data)
                rows.append((position, originator_id, version, digest, previous.hex()))
            return [(S_LEDGER, Rows(LEDGER_COLUMNS, rows))]

        return Planned([], finish)

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> list[AnyOperation]:
        return self.plan(batch).operations(conn)


#: The order of a ledger row's values in :meth:`LedgerProjection.plan`: the table's.
LEDGER_COLUMNS = tuple(column.name for column in ledger.c)
