"""The ledger: the hash chain over every stored event (SPEC §7), as a read model.

One row per position: the event's identity (originator id and version), the
sha256 of its canonical bytes, and the chain hash up to it. It is kept like
every read model (exactly once, in the batch's transaction) and so is never
behind when a write command returns. ``opmodel.audit`` recomputes the chain
from the stored events and compares it with these rows and with digests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select

from opmodel.audit.canonical import GENESIS, as_bytes, canonical, event_digest, link
from opmodel.projections.base import Envelope, Operation

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


def stored_canonical(envelope: Envelope) -> bytes:
    """The canonical bytes of a stored event, from the notification the store returned."""
    n = envelope.stored
    return canonical(envelope.position, n.originator_id.hex, n.originator_version, n.topic,
                     as_bytes(n.state))  # fmt: skip


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
    cost: ClassVar[int] = 2
    reads_stored: ClassVar[bool] = True

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> Iterable[Operation]:
        _, previous = head_hash(conn)
        for envelope in batch:
            data = stored_canonical(envelope)
            previous = link(previous, data)
            yield (
                S_LEDGER,
                {
                    "position": envelope.position,
                    "originator_id": envelope.stored.originator_id.hex,
                    "originator_version": envelope.stored.originator_version,
                    "event_sha256": event_digest(data),
                    "hash": previous.hex(),
                },
            )
