#!/usr/bin/env python3
"""The hash chain over opmodel's stored events, and a verifier for an evidence pack.

This file uses the Python standard library only. opmodel computes its ledger
with it, and ``opmodel audit export`` copies it into every evidence pack as
``verify.py``, so an auditor can re-check a pack without opmodel installed::

    python3 verify.py PACK_DIR [--digest N:HEX]

The chain (see ``docs/audit.md``)::

    hash(0) = 32 zero bytes
    hash(n) = sha256(hash(n-1) || canonical(n))
    canonical(n) = b"opmodel-event-v1\\n" + ascii(position) + b"\\n" + ascii(originator_id as
                   32 lower-case hex digits) + b"\\n" + ascii(originator_version) + b"\\n" +
                   utf8(topic) + b"\\n" + state

where ``state`` is the event's stored bytes exactly as the store holds them.
Positions, ids and versions are written in decimal / hex ASCII, so the same
events give the same hashes on SQLite and PostgreSQL and on any Python.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

GENESIS = bytes(32)
PREFIX = b"opmodel-event-v1\n"


def canonical(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The canonical bytes of one stored event."""
    return b"".join(
        (
            PREFIX,
            str(position).encode("ascii"),
            b"\n",
            originator_id.replace("-", "").lower().encode("ascii"),
            b"\n",
            str(originator_version).encode("ascii"),
            b"\n",
            topic.encode("utf-8"),
            b"\n",
            state,
        )
    )


def as_bytes(state: object) -> bytes:
    """Stored bytes as bytes (a database may hand back text or a memoryview)."""
    if isinstance(state, str):
        return state.encode("utf-8")
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    raise TypeError(f"stored state is {type(state).__name__}, not bytes")


def event_digest(canonical_bytes: bytes) -> str:
    """sha256 of one event's canonical bytes, as hex."""
    return hashlib.sha256(canonical_bytes).hexdigest()


def link(previous: bytes, canonical_bytes: bytes) -> bytes:
    """hash(n) from hash(n-1) and canonical(n)."""
    chained = hashlib.sha256(previous)
    chained.update(canonical_bytes)  # without copying the two into one first
    return chained.digest()


READABLE = ("actor", "reason", "source", "command_id", "effective")


def readable_mismatch(record: dict[str, object], state: bytes) -> str | None:
    """Which readable field of a pack line disagrees with the event's own stored bytes.

    The readable copies (actor, reason, source, command id, effective date, when
    recorded) are for people; the hashed bytes are the evidence. They must agree.
    An encrypted store's bytes cannot be read here, so nothing is compared then.
    """
    try:
        stored = json.loads(state)
    except ValueError:
        return None
    meta = stored.get("meta", {}).get("_data_") if isinstance(stored, dict) else None
    if not isinstance(meta, dict):
        return None
    values = dict(meta)
    if isinstance(values.get("effective"), dict):
        values["effective"] = values["effective"].get("_data_")
    for key in READABLE:
        if record.get(key) != values.get(key):
            return f"readable field {key!r} differs from the event's stored bytes"
    stamp = stored.get("timestamp", {}).get("_data_")
    if stamp is not None and record.get("recorded_at") != stamp:
        return "readable field 'recorded_at' differs from the event's stored bytes"
    return None


def parse_digest(text: str) -> tuple[int, str]:
    """``N:HEX`` (or the JSON form ``{"position": N, "hash": "HEX"}``) as (N, hex)."""
    text = text.strip()
    if text.startswith("{"):
        document = json.loads(text)
        position, digest = int(document["position"]), str(document["hash"])
    else:
        head, _, digest = text.partition(":")
        position = int(head)
    digest = digest.strip().lower()
    if position < 0 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{text!r} is not a digest: write N:HEX with 64 hex digits")
    return position, digest


def verify_pack(pack: Path, digest: tuple[int, str] | None = None) -> list[str]:
    """Re-check an evidence pack; returns the problems found (none when intact)."""
    problems: list[str] = []
    previous = GENESIS
    last_position = 0
    chain_at: dict[int, str] = {}
    with (pack / "events.jsonl").open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            record = json.loads(line)
            position = int(record["position"])
            if position <= last_position:
                problems.append(
                    f"position {position}: order changed (line {number} comes "
                    f"after position {last_position})"
                )
                return problems
            state = base64.b64decode(record["state_base64"])
            data = canonical(
                position,
                record["originator_id"],
                int(record["originator_version"]),
                record["topic"],
                state,
            )
            if event_digest(data) != record["event_sha256"]:
                problems.append(f"position {position}: payload changed (its event hash differs)")
                return problems
            mismatch = readable_mismatch(record, state)
            if mismatch:
                problems.append(f"position {position}: {mismatch}")
                return problems
            previous = link(previous, data)
            if previous.hex() != record["hash"]:
                problems.append(
                    f"position {position}: the chain breaks here (an event before it "
                    "is missing or was inserted, or its recorded hash was changed)"
                )
                return problems
            chain_at[position] = previous.hex()
            last_position = position
    pack_digest = json.loads((pack / "digest.json").read_text(encoding="utf-8"))
    if int(pack_digest["position"]) != last_position or pack_digest["hash"] != (
        previous.hex() if last_position else GENESIS.hex()
    ):
        problems.append(
            f"digest.json ({pack_digest['position']}:{pack_digest['hash']}) does not "
            f"match the chain's head ({last_position}:{previous.hex()})"
        )
    if digest is not None:
        position, expected = digest
        if position > last_position:
            problems.append(
                f"history shorter than the digest: the pack ends at position "
                f"{last_position}, the digest is at {position}"
            )
        elif position and position not in chain_at:
            problems.append(f"position {position}: the event the digest ends at is missing")
        elif (chain_at[position] if position else GENESIS.hex()) != expected:
            problems.append(
                f"position {position}: the chain does not match the digest "
                "(history up to it was changed)"
            )
    return problems


def main(argv: list[str]) -> int:
    """``verify.py PACK_DIR [--digest N:HEX]``: exit 0 when intact, 7 when not."""
    args = list(argv)
    digest = None
    if "--digest" in args:
        at = args.index("--digest")
        try:
            digest = parse_digest(args[at + 1])
        except (IndexError, ValueError) as exc:
            print(f"Error: --digest: {exc}", file=sys.stderr)
            return 2
        del args[at : at + 2]
    pack = Path(args[0]) if args else Path(__file__).parent
    try:
        problems = verify_pack(pack, digest)
    except (OSError, ValueError, KeyError) as exc:
        print(f"Error: cannot read the evidence pack in {pack}: {exc}", file=sys.stderr)
        return 7
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}", file=sys.stderr)
        return 7
    head = json.loads((pack / "digest.json").read_text(encoding="utf-8"))
    print(f"OK: {head['position']} events, chain intact, head {head['position']}:{head['hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
