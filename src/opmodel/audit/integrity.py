"""Audit integrity (SPEC §7): verify the hash chain, take digests, export evidence.

``verify`` recomputes the chain from the stored events, in position order,
and walks it beside the ledger (the read model that recorded the chain as
events were written). The first disagreement is reported with its position
and what it looks like:

- ``payload changed``: the event at a position is the one the ledger recorded
  there (same aggregate and version) but its bytes differ;
- ``event missing``: the ledger recorded an event at a position the store no
  longer holds;
- ``order changed``: the event at a position was recorded by the ledger at
  another position;
- ``event inserted``: the store holds an event the ledger never recorded,
  inside the ledger's range (at or before the last position it recorded);
- ``chain altered``: the events agree with the ledger's per-event hashes but
  its chain hashes were changed.

Events stored after the ledger's last position are not a failure: a write
commits its events before the read models (the ledger among them) catch up,
and a write killed or failing in between leaves them there until the next
catch-up. Their chain is recomputed all the same and they are counted as
``pending`` ("not yet in the ledger").

Given a digest ``N:HEX`` taken earlier (and kept outside the store), it also
checks that the chain recomputed from the stored events reaches exactly that
hash at position N — which catches a rewrite of events and ledger together,
and a truncated tail ("history shorter than the digest").
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from opmodel.audit.canonical import GENESIS, as_bytes, canonical, event_digest, link, parse_digest
from opmodel.errors import IntegrityFailed, InvalidInput
from opmodel.projections.base import plain
from opmodel.store.database import Database

READ_BATCH = 5000
STANDALONE = Path(__file__).with_name("canonical.py")

HEX_DIGITS = "0123456789abcdef"


@dataclass
class Finding:
    """The first place the history does not match."""

    position: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"position {self.position}: {self.kind} ({self.detail})"


@dataclass
class Report:
    """What ``audit verify`` found."""

    events: int = 0
    #: Events stored after the ledger's last position (chained, not yet in the ledger).
    pending: int = 0
    head: tuple[int, str] = (0, GENESIS.hex())
    finding: Finding | None = None
    digest: tuple[int, str] | None = None
    digest_checked: bool = False
    chain: dict[int, str] = field(default_factory=dict, repr=False)
    #: The recomputed chain hash at the digest's position, when the walk reached it.
    digest_hash: str | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.finding is None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "pending": self.pending,
            "position": self.head[0],
            "hash": self.head[1],
            "digest": None if self.digest is None else f"{self.digest[0]}:{self.digest[1]}",
            "failure": None
            if self.finding is None
            else {
                "position": self.finding.position,
                "kind": self.finding.kind,
                "detail": self.finding.detail,
            },
        }


def read_digest(text: str) -> tuple[int, str]:
    """A digest given as ``N:HEX``, or the path of a file holding its JSON form."""
    candidate = Path(text)
    try:
        if not text.strip().startswith("{") and candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
        return parse_digest(text)
    except (ValueError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise InvalidInput(
            f"digest {text.strip()[:80]!r} is not valid: give N:HEX (64 hex digits) or a file "
            'holding {"position": N, "hash": "HEX"}'
        ) from exc


#: A stored event as verify reads it: position, originator id (32 hex), version, topic, bytes.
StoredRow = tuple[int, str, int, str, bytes]
#: A ledger row: position, originator id, version, event sha256, chain hash.
LedgerRow = tuple[int, str, int, str, str]


class _Rows:
    """The events table and the ledger read with plain SQL on one DBAPI connection.

    ``verify`` deserialises no event, so it reads the rows as the database holds
    them (no notification objects, no ``UUID`` per row, no SQLAlchemy rows), in
    pages of :data:`READ_BATCH` by position, inside one read transaction (one
    snapshot on SQLite).
    """

    def __init__(self, cursor: Any, database: Database) -> None:
        self._cursor = cursor
        location = database.location
        position = location.position_column
        if location.kind == "sqlite":
            p, events = "?", location.events_table
        else:
            p, events = "%s", f'"{location.schema}".{location.events_table}'
        columns = f"{position}, originator_id, originator_version, topic, state"
        self._first_events = f"SELECT {columns} FROM {events} ORDER BY {position} LIMIT {p}"
        self._events = (
            f"SELECT {columns} FROM {events} WHERE {position} > {p} ORDER BY {position} LIMIT {p}"
        )
        self._ledger = (
            "SELECT position, originator_id, originator_version, event_sha256, hash "
            f"FROM ledger WHERE position > {p} ORDER BY position LIMIT {p}"
        )
        self._where = (
            f"SELECT position FROM ledger WHERE originator_id = {p} AND originator_version = {p}"
        )

    def _fetch(self, statement: str, params: Sequence[Any]) -> list[Any]:
        self._cursor.execute(statement, params)
        rows: list[Any] = self._cursor.fetchall()
        return rows

    def events(self) -> Iterator[StoredRow]:
        """Every stored event in position order, from the lowest position there is.

        Positions start at 1; reading with no lower bound also brings out any row a
        forger placed at position 0 or below, so it is checked like any other.
        """
        batch = self._fetch(self._first_events, (READ_BATCH,))
        while batch:
            for position, originator_id, version, topic, state in batch:
                if type(state) is not bytes:
                    state = as_bytes(state)
                yield position, _hex(originator_id), version, topic, state
            batch = self._fetch(self._events, (batch[-1][0], READ_BATCH))

    def ledger(self) -> Iterator[LedgerRow]:
        """The ledger's rows in position order."""
        after = 0
        while True:
            batch = self._fetch(self._ledger, (after, READ_BATCH))
            if not batch:
                return
            yield from batch
            after = batch[-1][0]

    def where_ledger_has(self, originator_id: str, version: int) -> int | None:
        """The position the ledger recorded this event at, if any."""
        rows = self._fetch(self._where, (originator_id, version))
        return None if not rows else int(rows[0][0])


def _hex(originator_id: Any) -> str:
    """An originator id as 32 lower-case hex digits, exactly as ``UUID(...).hex`` gives it.

    PostgreSQL returns a ``UUID``. SQLite returns the text eventsourcing wrote,
    ``str(uuid)``: when that is 32 lower-case hex digits and hyphens, ``UUID``
    would give those digits back, so they are taken as they are; anything else
    (a forger's text) goes through ``UUID`` as it always did.
    """
    if type(originator_id) is str:
        digits = originator_id.replace("-", "")
        if len(digits) == 32 and not digits.strip(HEX_DIGITS):
            return digits
    elif isinstance(originator_id, UUID):
        return originator_id.hex
    return UUID(originator_id).hex


@contextmanager
def _rows(database: Database) -> Iterator[_Rows]:
    with database.connect() as conn, conn.begin():
        cursor = conn.connection.cursor()
        try:
            yield _Rows(cursor, database)
        finally:
            cursor.close()


def verify(
    database: Database,
    digest: tuple[int, str] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    keep_chain: bool = False,
) -> Report:
    """Recompute the chain from the stored events; compare it with the ledger and a digest."""
    with _rows(database) as rows:
        report = _walk(rows, digest, progress, keep_chain)
    if report.finding is None and digest is not None:
        report.finding = _check_digest(digest, report.digest_hash, report.head[0])
        report.digest_checked = True
    return report


def _walk(
    rows: _Rows,
    digest: tuple[int, str] | None,
    progress: Callable[[int], None] | None,
    keep_chain: bool,
) -> Report:
    """Walk the stored events beside the ledger until the first disagreement."""
    report = Report(digest=digest)
    previous = GENESIS
    stored = rows.events()
    ledger = rows.ledger()
    s = next(stored, None)
    r = next(ledger, None)
    digest_at = digest[0] if digest is not None else None
    unreported = 0
    ledger_head = 0  # the last position the ledger recorded, once it has run out
    while s is not None or r is not None:
        if s is None:
            assert r is not None
            report.finding = Finding(
                r[0],
                "event missing",
                "the ledger recorded an event here; the store ends before it",
            )
            break
        position, oid, version, topic, state = s
        if r is None or position < r[0]:
            where = rows.where_ledger_has(oid, version)
            if r is None and where is None and position > ledger_head:
                # Past the ledger's head: committed, the ledger not caught up yet.
                previous = link(previous, canonical(position, oid, version, topic, state))
                report.pending += 1
                report.head = (position, previous.hex())
                if keep_chain:
                    report.chain[position] = report.head[1]
                if position == digest_at:
                    report.digest_hash = report.head[1]
                s = next(stored, None)
                continue
            report.finding = _misplaced(position, where, r is None)
            break
        l_position, l_oid, l_version, l_event_sha256, l_hash = r
        if l_position < position:
            report.finding = Finding(
                l_position, "event missing", "the ledger recorded an event here; the store has none"
            )
            break
        data = canonical(position, oid, version, topic, state)
        if (oid, version) != (l_oid, l_version):
            where = rows.where_ledger_has(oid, version)
            report.finding = _misplaced(position, where, False)
            break
        if event_digest(data) != l_event_sha256:
            report.finding = Finding(
                position,
                "payload changed",
                "the event's bytes differ from what the ledger recorded",
            )
            break
        previous = link(previous, data)
        chain = previous.hex()
        if chain != l_hash:
            report.finding = Finding(
                position, "chain altered", "the ledger's chain hash differs from the recomputed one"
            )
            break
        report.events += 1
        report.head = (position, chain)
        if keep_chain:
            report.chain[position] = chain
        if position == digest_at:
            report.digest_hash = chain
        if progress is not None:
            unreported += 1
            if unreported == READ_BATCH:
                progress(unreported)
                unreported = 0
        s = next(stored, None)
        ledger_head = position
        r = next(ledger, None)
    if progress is not None and unreported:
        progress(unreported)
    return report


def _misplaced(position: int, where: int | None, past_ledger_head: bool) -> Finding:
    if where is not None:
        return Finding(
            position, "order changed", f"the ledger recorded this event at position {where}"
        )
    if past_ledger_head:
        return Finding(
            position, "event inserted", "the ledger never recorded this event (before position 1)"
        )
    return Finding(position, "event inserted", "the ledger never recorded this event")


def _check_digest(digest: tuple[int, str], found: str | None, last: int) -> Finding | None:
    position, expected = digest
    if position == 0:
        return None if expected == GENESIS.hex() else Finding(0, "digest mismatch", "bad genesis")
    if position > last:
        return Finding(
            position,
            "history shorter than the digest",
            f"the store's history ends at position {last}; the digest is at {position}",
        )
    if found is None:
        return Finding(position, "event missing", "the event the digest ends at is not stored")
    if found != expected:
        return Finding(
            position,
            "digest mismatch",
            "the history up to this position was rewritten: the recomputed chain "
            f"gives {found}, the digest says {expected}",
        )
    return None


def require_intact(report: Report) -> None:
    """Raise :class:`IntegrityFailed` (exit 7) naming the first failure."""
    if report.finding is not None:
        raise IntegrityFailed(f"history is not intact at {report.finding}", **report.as_json())


def take_digest(database: Database) -> tuple[int, str]:
    """The chain's head, recomputed from the stored events and checked against the ledger."""
    report = verify(database)
    require_intact(report)
    return report.head


def export(
    database: Database, out: Path, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Write an evidence pack to ``out``; the history must verify first."""
    report = verify(database, keep_chain=True)
    require_intact(report)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create {out}: {exc.strerror}") from exc
    if any(out.iterdir()):
        raise InvalidInput(f"{out} is not empty: choose a new directory for the evidence pack")
    event_of = database.mapper.event_of
    written = 0
    with _rows(database) as rows, _create(out, "events.jsonl") as lines:
        for position, oid, version, topic, state in rows.events():
            event: Any = event_of(UUID(oid), version, topic, state)
            data = canonical(position, oid, version, topic, state)
            meta = event.meta
            record = {
                "position": position,
                "recorded_at": plain(event.timestamp),
                "effective": meta.effective.isoformat(),
                "actor": meta.actor,
                "reason": meta.reason,
                "source": meta.source,
                "command_id": meta.command_id,
                "event": type(event).__qualname__,
                "topic": topic,
                "originator_id": oid,
                "originator_version": version,
                "state_base64": base64.b64encode(state).decode("ascii"),
                "event_sha256": event_digest(data),
                "hash": report.chain[position],
            }
            lines.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            written += 1
            if progress is not None:
                progress(1)
    position, head = report.head
    with _create(out, "digest.json") as file:
        file.write(json.dumps({"position": position, "hash": head}, indent=2) + "\n")
    with _create(out, "verify.py") as file:
        file.write(STANDALONE.read_text(encoding="utf-8"))
    with _create(out, "README.md") as file:
        file.write(_pack_readme(position, head, written))
    return {"out": str(out), "events": written, "position": position, "hash": head}


def _create(out: Path, name: str) -> Any:
    """A new file ``name`` in the folder ``out``, for writing text; never through a link.

    Created exclusively (``O_EXCL``), relative to the folder opened once, and not
    following a symbolic link (``O_NOFOLLOW``): in a folder others can write, a
    link or file planted there after the emptiness check is refused, so nothing is
    written outside ``out`` nor over anything already there.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fd = os.open(name, flags, 0o644, dir_fd=folder)
    except FileExistsError as exc:
        raise InvalidInput(
            f"{out / name} appeared while the evidence pack was written (a file or link "
            "someone else put there): refusing to write through it; use a folder only you "
            "can write"
        ) from exc
    except OSError as exc:
        raise InvalidInput(f"cannot create {out / name}: {exc.strerror}") from exc
    finally:
        os.close(folder)
    return os.fdopen(fd, "w", encoding="utf-8")


def _pack_readme(position: int, head: str, events: int) -> str:
    return f"""# opmodel evidence pack

This folder holds the complete recorded history of an opmodel store:
{events} events, up to position {position}, whose hash chain ends in

    {position}:{head}

## Files

- `events.jsonl`: one event per line, in position order: its position, when it
  was recorded, its effective date, actor, reason, source, command id, its
  class (`event`, `topic`), the aggregate it belongs to and its version there,
  its stored bytes exactly as the store held them (`state_base64`), the sha256
  of its canonical bytes (`event_sha256`) and the chain hash up to it (`hash`).
- `digest.json`: the chain's head, `{{"position": N, "hash": "HEX"}}`.
- `verify.py`: a verifier that needs nothing but Python 3.

## How to verify it without opmodel

    python3 verify.py .                 # the chain is intact and ends at digest.json
    python3 verify.py . --digest N:HEX  # ... and it matches a digest you kept

It recomputes, for every event in order,

    canonical(n) = b"opmodel-event-v1\\n" + position + "\\n" + originator id (32 hex)
                   + "\\n" + version + "\\n" + topic + "\\n" + stored bytes
    hash(n)      = sha256(hash(n-1) + canonical(n)),   hash(0) = 32 zero bytes

and prints `OK` (exit 0), or `FAILED` with the first position that does not
match (exit 7). Compare the head with a digest you obtained independently
(for example, one printed by `opmodel audit digest` and kept outside the
store): a pack whose events and hashes were rewritten together still fails
against your digest.
"""
