"""Audit integrity: every way of tampering with the stored history is caught (docs/audit.md).

A small, realistic programme is recorded (Synergy and Matrix, DWP, HO and MOJ,
a lead, a phase, the bundled Oracle/IBM award, a decision: 13 commands, 22
events), a digest is taken, and then, on a fresh copy of that store each time,
someone with database access drops the append-only guards and changes the
events directly. ``audit verify`` must exit 7 naming the first position that
fails and how; the two tampers the store cannot see by itself (a truncated
tail, a rewrite with the ledger recomputed) are caught with the earlier digest.

Each tamper runs on a SQLite file (a copy of one recorded store) and on a
PostgreSQL schema (the programme recorded again in a fresh schema).
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from opmodel.audit.canonical import GENESIS, canonical, event_digest, link
from opmodel.store import locate
from tests.conftest import Cli

DIGEST = re.compile(r"^\d+:[0-9a-f]{64}$")
ACTOR_ENV = {"OPMODEL_ACTOR": "test-architect"}

# --- the programme ----------------------------------------------------------------------

ORACLE = (
    "contract", "award", "SYN-ORACLE-2024", "--cluster", "Synergy", "--kind", "software",
    "--supplier", "Oracle", "--value", "£710m", "--start", "2024-08-30",
    "--term-months", "120", "--extension-months", "24", "--effective", "2024-08-30",
)  # fmt: skip
IBM = (
    "contract", "award", "SYN-IBM-2024", "--cluster", "Synergy",
    "--kind", "systems-integration", "--supplier", "IBM", "--value", "£710m",
    "--start", "2024-08-30", "--term-months", "60", "--extension-months", "24",
    "--bundled-with", "SYN-ORACLE-2024", "--effective", "2024-08-30",
)  # fmt: skip
PROGRAMME: tuple[tuple[str, ...], ...] = (
    (
        "cluster", "form", "Synergy", "--effective", "2021-03-01",
        "--reason", "Shared Services Strategy for Government",
        "--source", "https://www.gov.uk/government/publications/shared-services-strategy",
    ),
    ("cluster", "form", "Matrix", "--effective", "2021-03-01"),
    ("department", "register", "DWP", "--name", "Department for Work and Pensions"),
    ("department", "register", "HO", "--name", "Home Office"),
    ("department", "register", "MOJ", "--name", "Ministry of Justice"),
    ("department", "join", "DWP", "Synergy"),
    ("department", "join", "HO", "Synergy"),
    ("department", "join", "MOJ", "Matrix"),
    ("cluster", "lead", "Synergy", "DWP", "--reason", "largest member"),
    ("phase", "plan", "Synergy", "1", "--name", "Mobilise and design"),
    ORACLE,
    IBM,
    (
        "decision", "propose", "Synergy adopts Oracle Fusion",
        "--context", "Home Office already runs Oracle Fusion.",
        "--decision", "Synergy's shared platform is Oracle Fusion.",
        "--concerns", "cluster:Synergy,contract:SYN-ORACLE-2024",
    ),
)  # fmt: skip

#: Where the programme's events land (asserted when it is recorded).
HEAD = 22
DWP_JOINS, SYNERGY_ADMITS_DWP = 9, 10  # department join DWP Synergy: positions 9-10
HO_JOINS, SYNERGY_ADMITS_HO = 11, 12
PHASE_PLANNED = 16
ORACLE_AWARDED = 17
IBM_BUNDLED = 19  # the IBM award is 18-19, the decision 20-22


def record_programme(cli: Cli) -> None:
    """Record the 13 commands; the store then holds exactly HEAD events."""
    for command in PROGRAMME:
        cli.ok(*command)
    assert cli.json("projections", "status")[0]["head"] == HEAD


def take_digest(cli: Cli) -> str:
    """``audit digest``, checked against its --json form."""
    digest = cli.ok("audit", "digest").stdout.strip()
    assert DIGEST.match(digest), digest
    document = cli.json("audit", "digest")
    assert document == {"position": int(digest.split(":")[0]), "hash": digest.split(":")[1]}
    return digest


# --- changing the database behind opmodel's back ----------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored event, as the events table holds it."""

    position: int
    originator_id: Any  # str on SQLite, uuid.UUID on PostgreSQL: written back as read
    originator_version: int
    topic: str
    state: bytes

    @property
    def id_hex(self) -> str:
        return uuid.UUID(str(self.originator_id)).hex


class RawStore:
    """Direct SQL on a store's events and ledger tables, as a tamperer would run it."""

    def __init__(self, url: str) -> None:
        self.location = locate(url)
        self.url = url
        if self.location.kind == "sqlite":
            self.events, self.ledger, self.pos = "stored_events", "ledger", "rowid"
        else:
            schema = self.location.schema
            self.events = f'"{schema}".opmodel_events'
            self.ledger = f'"{schema}".ledger'
            self.pos = "notification_id"

    @property
    def sqlite(self) -> bool:
        return self.location.kind == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Callable[..., list[tuple[Any, ...]]]]:
        """One transaction; yields ``run(sql, *params)`` with {events} {ledger} {pos} filled."""

        def sql(statement: str) -> str:
            filled = statement.format(events=self.events, ledger=self.ledger, pos=self.pos)
            return filled if self.sqlite else filled.replace("?", "%s")

        if self.sqlite:
            assert self.location.path is not None
            with closing(sqlite3.connect(str(self.location.path))) as lite:

                def run_lite(statement: str, *params: Any) -> list[tuple[Any, ...]]:
                    return lite.execute(sql(statement), params).fetchall()

                yield run_lite
                lite.commit()
            return
        with psycopg.connect(self.url.split("?", 1)[0]) as pg:

            def run_pg(statement: str, *params: Any) -> list[tuple[Any, ...]]:
                cursor = pg.execute(sql(statement), params)  # type: ignore[arg-type]
                return cursor.fetchall() if cursor.description else []

            yield run_pg

    def drop_guards(self) -> None:
        """Drop the append-only triggers, deliberately."""
        with self.transaction() as run:
            if self.sqlite:
                run("DROP TRIGGER opmodel_append_only_update")
                run("DROP TRIGGER opmodel_append_only_delete")
            else:
                run("DROP TRIGGER opmodel_append_only_rows ON {events}")
                run("DROP TRIGGER opmodel_append_only_truncate ON {events}")

    def rows(self) -> list[Row]:
        with self.transaction() as run:
            found = run(
                "SELECT {pos}, originator_id, originator_version, topic, state "
                "FROM {events} ORDER BY {pos}"
            )
        return [Row(int(p), oid, int(v), t, bytes(s)) for p, oid, v, t, s in found]

    def row(self, position: int) -> Row:
        return next(r for r in self.rows() if r.position == position)

    def set_state(self, position: int, state: bytes) -> None:
        with self.transaction() as run:
            run("UPDATE {events} SET state = ? WHERE {pos} = ?", state, position)

    def delete(self, *positions: int) -> None:
        with self.transaction() as run:
            for position in positions:
                run("DELETE FROM {events} WHERE {pos} = ?", position)

    def insert(self, row: Row, position: int | None = None) -> int:
        """Insert ``row`` (at ``position``, else where the store puts a new one)."""
        values = (row.originator_id, row.originator_version, row.topic, row.state)
        with self.transaction() as run:
            if position is None:
                run(
                    "INSERT INTO {events} (originator_id, originator_version, topic, state) "
                    "VALUES (?, ?, ?, ?)",
                    *values,
                )
                return int(run("SELECT max({pos}) FROM {events}")[0][0])
            run(
                "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?, ?)",
                position,
                *values,
            )
        return position

    def swap(self, first: int, second: int) -> None:
        """Exchange the events at two positions (in one transaction)."""
        a, b = self.row(first), self.row(second)
        with self.transaction() as run:
            for position in (first, second):
                run("DELETE FROM {events} WHERE {pos} = ?", position)
            for position, row in ((first, b), (second, a)):
                run(
                    "INSERT INTO {events} ({pos}, originator_id, originator_version, topic, "
                    "state) VALUES (?, ?, ?, ?, ?)",
                    position, row.originator_id, row.originator_version, row.topic, row.state,
                )  # fmt: skip

    def truncate_after(self, position: int) -> None:
        """Delete every event after ``position`` and the ledger's rows for them."""
        with self.transaction() as run:
            run("DELETE FROM {events} WHERE {pos} > ?", position)
            run("DELETE FROM {ledger} WHERE position > ?", position)

    def ledger_hash(self, position: int) -> str:
        with self.transaction() as run:
            return str(run("SELECT hash FROM {ledger} WHERE position = ?", position)[0][0])

    def set_ledger(self, position: int, event_sha256: str, chain: str) -> None:
        with self.transaction() as run:
            run(
                "UPDATE {ledger} SET event_sha256 = ?, hash = ? WHERE position = ?",
                event_sha256, chain, position,
            )  # fmt: skip

    def recompute_ledger_from(self, position: int) -> None:
        """What a careful forger does: rebuild the ledger's hashes with the published chain."""
        previous = bytes.fromhex(self.ledger_hash(position - 1)) if position > 1 else GENESIS
        for row in self.rows():
            if row.position < position:
                continue
            data = canonical(row.position, row.id_hex, row.originator_version, row.topic, row.state)
            previous = link(previous, data)
            self.set_ledger(row.position, event_digest(data), previous.hex())


def edit_one_byte(state: bytes, old: bytes, new: bytes) -> bytes:
    """``state`` with ``old`` replaced by ``new`` once (they differ in one byte)."""
    assert len(old) == len(new)
    assert sum(x != y for x, y in zip(old, new, strict=True)) == 1
    assert state.count(old) == 1, state
    return state.replace(old, new)


# --- stores to tamper with --------------------------------------------------------------


@dataclass
class Recorded:
    """A store holding the programme, and the digest taken after recording it."""

    cli: Cli
    digest: str

    @property
    def raw(self) -> RawStore:
        return RawStore(self.cli.store)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The programme recorded once in a SQLite file, and its digest."""
    path = tmp_path_factory.mktemp("template") / "opmodel.db"
    cli = Cli(f"sqlite:///{path}", CliRunner(env=ACTOR_ENV))
    record_programme(cli)
    return path, take_digest(cli)


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (the backup API, so the WAL comes along)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(str(source))) as src, closing(sqlite3.connect(str(target))) as dst:
        src.backup(dst)


@pytest.fixture
def recorded(store_url: str, sqlite_template: tuple[Path, str]) -> Recorded:
    """A fresh store holding the programme: a copy of the SQLite file, or a new recording."""
    cli = Cli(store_url, CliRunner(env=ACTOR_ENV))
    location = locate(store_url)
    if location.kind == "sqlite":
        assert location.path is not None
        template, digest = sqlite_template
        copy_sqlite(template, location.path)
        assert take_digest(cli) == digest
        return Recorded(cli, digest)
    record_programme(cli)
    return Recorded(cli, take_digest(cli))


# --- assertions ---------------------------------------------------------------------------


def verify(cli: Cli, *args: str) -> Result:
    result = cli("audit", "verify", *args)
    assert "Traceback" not in result.output
    return result


def assert_intact(cli: Cli, *args: str, events: int) -> dict[str, Any]:
    """``audit verify ARGS`` exits 0 with ``events`` events; returns its --json form."""
    result = verify(cli, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stdout.startswith(f"OK: {events} events verified, chain head ")
    document: dict[str, Any] = json.loads(verify(cli, *args, "--json").stdout)
    assert document["ok"] is True
    assert document["failure"] is None
    assert document["events"] == events
    return document


def assert_fails(cli: Cli, *args: str, position: int, kind: str) -> dict[str, Any]:
    """``audit verify ARGS`` exits 7 naming ``position`` and ``kind``, plain and as JSON."""
    result = verify(cli, *args)
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: "), result.stderr
    assert f"position {position}: {kind} (" in result.stderr, result.stderr
    as_json = verify(cli, *args, "--json")
    assert as_json.exit_code == 7, (as_json.stdout, as_json.stderr)
    document: dict[str, Any] = json.loads(as_json.stdout)
    assert document["ok"] is False
    failure = document["failure"]
    assert (failure["position"], failure["kind"]) == (position, kind), failure
    return document


# --- the untouched store ------------------------------------------------------------------


def test_the_digest_is_the_chain_head_and_an_old_digest_still_verifies(cli_any: Cli) -> None:
    record_programme(cli_any)
    digest = take_digest(cli_any)
    position, head = digest.split(":")
    assert int(position) == HEAD
    assert take_digest(cli_any) == digest  # reading does not move it

    cli_any.ok("phase", "plan", "Synergy", "2", "--name", "Build and test")
    later = take_digest(cli_any)
    assert later.split(":")[0] == str(HEAD + 1)
    assert later.split(":")[1] != head
    # history only grows: the earlier digest still proves the first 22 events.
    document = assert_intact(cli_any, "--digest", digest, events=HEAD + 1)
    assert document["digest"] == digest
    assert_intact(cli_any, "--digest", later, events=HEAD + 1)


def test_the_untouched_store_verifies_with_and_without_its_digest(
    recorded: Recorded, tmp_path: Path
) -> None:
    cli, digest = recorded.cli, recorded.digest
    document = assert_intact(cli, events=HEAD)
    assert f"{document['position']}:{document['hash']}" == digest
    assert document["digest"] is None

    result = verify(cli, "--digest", digest)
    assert result.exit_code == 0, result.stderr
    assert f"chain head {digest}; matches digest {digest}" in result.stdout

    saved = tmp_path / "digest.json"
    saved.write_text(cli.ok("audit", "digest", "--json").stdout)
    assert_intact(cli, "--digest", str(saved), events=HEAD)
    assert_intact(cli, str(saved), events=HEAD)  # the FILE argument
    (tmp_path / "digest.txt").write_text(digest + "\n")
    assert_intact(cli, "--digest", str(tmp_path / "digest.txt"), events=HEAD)


def test_digests_that_do_not_match_the_untouched_store_fail(recorded: Recorded) -> None:
    cli, digest = recorded.cli, recorded.digest
    position, head = digest.split(":")
    flipped = head[:-1] + ("0" if head[-1] != "0" else "1")
    assert_fails(cli, "--digest", f"{position}:{flipped}", position=HEAD, kind="digest mismatch")
    # the right hash claimed for an earlier position is a mismatch too
    assert_fails(cli, "--digest", f"{HEAD - 1}:{head}", position=HEAD - 1, kind="digest mismatch")
    assert_fails(
        cli, "--digest", f"{HEAD + 5}:{head}", position=HEAD + 5,
        kind="history shorter than the digest",
    )  # fmt: skip
    for malformed in (head, f"{position}:{head[:-1]}", f"{position}:{head[:-1]}g", "x:y"):
        result = verify(cli, "--digest", malformed)
        assert result.exit_code == 2, (malformed, result.stderr)
        assert result.stderr.startswith("Error: digest ")


def test_with_its_guards_in_place_the_store_refuses_an_update(recorded: Recorded) -> None:
    raw = recorded.raw
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
        raw.set_state(ORACLE_AWARDED, b"{}")
    assert_intact(recorded.cli, "--digest", recorded.digest, events=HEAD)


# --- the tamper matrix ----------------------------------------------------------------------


def edit_payload(raw: RawStore) -> None:
    """The Oracle award's supplier becomes "Oracla": one byte of its stored state."""
    row = raw.row(ORACLE_AWARDED)
    assert row.topic.endswith("Contract.Awarded")
    raw.set_state(row.position, edit_one_byte(row.state, b'"Oracle"', b'"Oracla"'))


def delete_one(raw: RawStore) -> None:
    """Home Office's joining Synergy disappears."""
    assert raw.row(HO_JOINS).topic.endswith("Department.JoinedCluster")
    raw.delete(HO_JOINS)


def swap_two(raw: RawStore) -> None:
    """DWP's joining and Synergy's admitting DWP change places."""
    raw.swap(DWP_JOINS, SYNERGY_ADMITS_DWP)


def insert_after_head(raw: RawStore) -> None:
    """A copy of the phase plan, as Synergy's next version, appended after the head."""
    source = raw.row(PHASE_PLANNED)
    forged = Row(0, source.originator_id, 99, source.topic, source.state)
    assert raw.insert(forged) == HEAD + 1


def insert_before_the_first(raw: RawStore) -> None:
    """A copy of the phase plan, as Synergy's next version, at position 0 (before 1)."""
    source = raw.row(PHASE_PLANNED)
    raw.insert(Row(0, source.originator_id, 99, source.topic, source.state), position=0)


def replace_with_forgery(raw: RawStore) -> None:
    """Synergy's admitting HO deleted, and a forged event put in its place."""
    source = raw.row(PHASE_PLANNED)
    raw.delete(SYNERGY_ADMITS_HO)
    forged = Row(0, source.originator_id, 99, source.topic, source.state)
    raw.insert(forged, position=SYNERGY_ADMITS_HO)


def alter_ledger_chain(raw: RawStore) -> None:
    """Only the ledger's chain hash at the lead's designation is changed."""
    with raw.transaction() as run:
        run("UPDATE {ledger} SET hash = ? WHERE position = ?", "ab" * 32, 15)


def truncate_tail(raw: RawStore) -> None:
    """The decision (positions 20-22) is cut off, events and ledger rows alike."""
    raw.truncate_after(IBM_BUNDLED)


def rewrite_and_recompute(raw: RawStore) -> None:
    """The Oracle award rewritten (£710m becomes £910m) and the ledger recomputed."""
    row = raw.row(ORACLE_AWARDED)
    forged = edit_one_byte(row.state, b'"710000000.00"', b'"910000000.00"')
    raw.set_state(row.position, forged)
    raw.recompute_ledger_from(ORACLE_AWARDED)


@dataclass(frozen=True)
class Tamper:
    change: Callable[[RawStore], None]
    position: int
    kind: str
    #: how many events verify without a digest (None: it fails without one, too)
    self_consistent: int | None = None


TAMPERS = {
    "payload-edited": Tamper(edit_payload, ORACLE_AWARDED, "payload changed"),
    "event-deleted": Tamper(delete_one, HO_JOINS, "event missing"),
    "events-swapped": Tamper(swap_two, DWP_JOINS, "order changed"),
    "event-before-position-1": Tamper(insert_before_the_first, 0, "event inserted"),
    "event-replaced": Tamper(replace_with_forgery, SYNERGY_ADMITS_HO, "event inserted"),
    "ledger-chain-altered": Tamper(alter_ledger_chain, 15, "chain altered"),
    "tail-truncated": Tamper(
        truncate_tail, HEAD, "history shorter than the digest", self_consistent=IBM_BUNDLED
    ),
    "rewritten-with-ledger": Tamper(
        rewrite_and_recompute, HEAD, "digest mismatch", self_consistent=HEAD
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_a_tampered_store_fails_verify_at_the_first_position_that_differs(
    recorded: Recorded, name: str
) -> None:
    tamper = TAMPERS[name]
    raw = recorded.raw
    before = raw.rows()
    raw.drop_guards()
    tamper.change(raw)
    assert raw.rows() != before or name == "ledger-chain-altered"

    if tamper.self_consistent is None:
        assert_fails(recorded.cli, position=tamper.position, kind=tamper.kind)
    else:
        # the store only vouches for itself: this is what a kept digest is for
        assert_intact(recorded.cli, events=tamper.self_consistent)
    document = assert_fails(
        recorded.cli, "--digest", recorded.digest, position=tamper.position, kind=tamper.kind
    )
    assert document["digest"] == recorded.digest


def test_an_event_stored_after_the_ledger_head_is_not_yet_in_the_ledger_not_a_failure(
    recorded: Recorded,
) -> None:
    # Formerly a tamper ("event inserted", exit 7). A write killed between its commit
    # and the read models' catch-up leaves exactly this, so it is chained and counted
    # as pending; a digest taken afterwards covers it.
    raw = recorded.raw
    raw.drop_guards()
    insert_after_head(raw)

    result = verify(recorded.cli)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"OK: {HEAD} events verified, chain head {HEAD + 1}:" in result.stdout
    assert "1 later event not yet in the ledger" in result.stdout
    document = assert_intact(recorded.cli, "--digest", recorded.digest, events=HEAD)
    assert (document["pending"], document["position"]) == (1, HEAD + 1)


def test_an_order_change_names_where_the_event_was_recorded(recorded: Recorded) -> None:
    raw = recorded.raw
    raw.drop_guards()
    swap_two(raw)
    document = assert_fails(recorded.cli, position=DWP_JOINS, kind="order changed")
    assert f"position {SYNERGY_ADMITS_DWP}" in document["failure"]["detail"]


def _bump_sequence(url: str, by: int) -> None:
    """Consume sequence numbers, as transactions that rolled back would."""
    schema = locate(url).schema
    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as pg:
        for _ in range(by):
            pg.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id'))",
                (f'"{schema}".opmodel_events',),
            )


@pytest.mark.postgres
def test_an_event_forged_into_a_gap_in_the_positions_is_caught(postgres_url: str) -> None:
    cli = Cli(postgres_url, CliRunner(env=ACTOR_ENV))
    record_programme(cli)
    _bump_sequence(postgres_url, 2)  # positions 23 and 24 are never used
    written = cli.json("phase", "plan", "Synergy", "2", "--name", "Build and test")
    assert written["positions"] == [HEAD + 3]
    assert_intact(cli, events=HEAD + 1)  # a gap is not a tamper
    digest = take_digest(cli)
    assert digest.startswith(f"{HEAD + 3}:")

    raw = RawStore(postgres_url)
    raw.drop_guards()
    source = raw.row(PHASE_PLANNED)
    raw.insert(Row(0, source.originator_id, 99, source.topic, source.state), position=HEAD + 1)

    assert_fails(cli, position=HEAD + 1, kind="event inserted")
    assert_fails(cli, "--digest", digest, position=HEAD + 1, kind="event inserted")
