"""Broken, full, read-only and misnamed stores: a clear ``Error: …``, the right exit code.

Each case says what is wrong and what to do, exits with the SPEC's code (6 for
the store, 8 for a write recorded whose read models could not follow), prints
no traceback, and writes nothing it should not.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cli
from tests.integration.test_audit_auditor_role import Audit
from tests.integration.test_audit_auditor_role import audit as audit  # a fixture

ENV = {"OPMODEL_ACTOR": "test-architect"}
READS = [("show",), ("history",), ("audit", "verify"), ("projections", "status")]


def fails(result: Result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def raw_execute(url: str, *, sqlite_sql: str, postgres_sql: str) -> None:
    """Run a statement on the store behind opmodel's back (a test's sabotage)."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///") :]) as conn:
            conn.executescript(sqlite_sql)
        return
    import psycopg

    base, schema = url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(postgres_sql)


BLOCK_LEDGER_SQLITE = (
    "CREATE TRIGGER block_ledger BEFORE INSERT ON ledger "
    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
)
BLOCK_LEDGER_POSTGRES = (
    "CREATE FUNCTION block_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'could not extend file: No space left on device'; END $$; "
    "CREATE TRIGGER block_ledger BEFORE INSERT ON ledger "
    "FOR EACH ROW EXECUTE FUNCTION block_ledger()"
)


# --- 1. a write either commits and exits 0, or commits nothing; after it: exit 8 ---------


def test_a_write_whose_read_models_cannot_follow_exits_8_and_stays_recorded(
    cli_any: Cli,
) -> None:
    cli_any.ok("department", "register", "DWP", "--name", "Work and Pensions")
    raw_execute(cli_any.store, sqlite_sql=BLOCK_LEDGER_SQLITE, postgres_sql=BLOCK_LEDGER_POSTGRES)

    result = cli_any("department", "register", "DX3", "--name", "Dept X3", "--json")

    fails(result, 8, "recorded (positions 3-4), but the read models could not be updated")
    assert "run opmodel projections update" in result.stderr
    document = json.loads(result.stdout)
    assert document["positions"] == [3, 4]
    assert document["read_models_behind"] is True
    # The ledger is behind the events: that is "not yet in the ledger", never exit 7.
    verified = cli_any.json("audit", "verify")
    assert (verified["ok"], verified["events"], verified["pending"]) == (True, 2, 2)
    assert verified["position"] == 4

    raw_execute(
        cli_any.store,
        sqlite_sql="DROP TRIGGER block_ledger",
        postgres_sql="DROP TRIGGER block_ledger ON ledger",
    )
    cli_any.ok("projections", "update")
    verified = cli_any.json("audit", "verify")
    assert (verified["events"], verified["pending"]) == (4, 0)
    assert [d["code"] for d in cli_any.json("show")["departments"]] == ["DWP", "DX3"]


def test_the_library_s_own_environment_variables_do_not_move_the_store(
    cli: Cli, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    env = {
        **ENV,
        "OPMODEL_SQLITE_DBNAME": str(elsewhere),
        "OPMODEL_CREATE_TABLE": "y",
        "OPMODEL_PERSISTENCE_MODULE": "eventsourcing.popo",
        "OPMODEL_POSTGRES_SCHEMA": "elsewhere",
    }
    result = cli("department", "register", "DX3", "--name", "Dept X3", env=env)
    assert result.exit_code == 0, result.output
    assert not elsewhere.exists()
    assert [d["code"] for d in cli.json("show")["departments"]] == ["DX3"]


# --- 2. what is wrong with a store file, said as it is -----------------------------------


def recorded_store(folder: Path) -> Path:
    path = folder / "real.db"
    Cli(f"sqlite:///{path}", CliRunner(env=ENV)).ok(
        "department", "register", "DWP", "--name", "Work and Pensions"
    )
    return path


def flip_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(7)
    for page in range(1, len(data) // 16384):
        start = page * 16384
        data[start : start + 16384] = rng.randbytes(16384)
    path.write_bytes(bytes(data))


def broken(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    if kind == "directory":
        path.mkdir()
    elif kind == "random bytes":
        path.write_bytes(random.Random(1).randbytes(40_000))
    elif kind == "empty file":
        path.write_bytes(b"")
    else:
        real = recorded_store(tmp_path)
        if kind == "truncated":
            path.write_bytes(real.read_bytes()[:20_000])
        else:
            path.write_bytes(real.read_bytes())
            flip_pages(path)
    return path


BROKEN = {
    "directory": "is a directory",
    "random bytes": "is not an SQLite database",
    "empty file": "is empty, not initialised",
    "truncated": "is damaged",
    "flipped pages": "is damaged",
}


@pytest.mark.parametrize("kind", list(BROKEN))
@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_broken_store_file_says_what_is_wrong(
    tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    path = broken(kind, tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = Cli(f"sqlite:///{path}", CliRunner(env=ENV))(*command)
    fails(result, 6, BROKEN[kind])
    assert "run opmodel init" not in result.stderr or kind == "empty file"
    after = {p.name for p in tmp_path.iterdir()}
    assert after - set(before) <= {"store.db-shm", "store.db-wal"}  # SQLite's own, if any


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file all the same")
def test_an_unreadable_store_says_permission_denied(tmp_path: Path) -> None:
    path = recorded_store(tmp_path)
    path.chmod(0)
    try:
        fails(Cli(f"sqlite:///{path}", CliRunner(env=ENV))("show"), 6, "permission denied")
    finally:
        path.chmod(0o644)


def test_a_read_only_store_file_can_still_be_read(tmp_path: Path) -> None:
    path = recorded_store(tmp_path)
    path.chmod(0o444)
    cli = Cli(f"sqlite:///{path}", CliRunner(env=ENV))
    try:
        assert [d["code"] for d in cli.json("show")["departments"]] == ["DWP"]
        assert cli.json("audit", "verify")["ok"] is True
    finally:
        path.chmod(0o644)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A small filesystem of its own (root only: mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_store_on_a_read_only_filesystem_is_read_and_refuses_writes(tmpfs: Path) -> None:
    path = recorded_store(tmpfs)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    cli = Cli(f"sqlite:///{path}", CliRunner(env=ENV))
    assert [d["code"] for d in cli.json("show")["departments"]] == ["DWP"]
    assert cli.json("audit", "verify")["events"] == 2
    fails(cli("department", "register", "DX3", "--name", "X"), 6, "read-only filesystem")


def test_a_full_disk_commits_nothing_or_reports_the_read_models_behind(tmpfs: Path) -> None:
    path = recorded_store(tmpfs)
    cli = Cli(f"sqlite:///{path}", CliRunner(env=ENV))
    filler = tmpfs / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    head = 2
    outcomes = set()
    for n in range(10):  # a long reason (the most allowed), so a save needs new pages
        result = cli("department", "register", f"D{n}", "--name", "X", "--reason", "r" * 10_000)
        assert result.exit_code in (0, 6, 8), (result.exit_code, result.output)
        assert "Traceback" not in result.output
        outcomes.add(result.exit_code)
        if result.exit_code == 6:
            assert "is full" in result.stderr or "disk is not full" in result.stderr
        else:
            head += 2
    assert outcomes & {6, 8}, "the disk never filled up"
    filler.unlink()
    cli.ok("projections", "update")
    verified = cli.json("audit", "verify")
    assert (verified["ok"], verified["events"], verified["pending"]) == (True, head, 0)


# --- 3. store URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("store", "phrase"),
    [
        ("real.db?timeout=5", "query parameter ('timeout')"),
        ("sqlite:///real.db?mode=ro", "query parameter ('mode')"),
        ("a" * 5000, "too long"),
        ("postgresql://u@127.0.0.1:1/db?schema=information_schema", "PostgreSQL's own"),
        ("postgresql://u@127.0.0.1:1/db?schema=pg_catalog", "PostgreSQL's own"),
        ("postgresql://u@127.0.0.1:1/db?schema=pg_toast", "PostgreSQL's own"),
        ("postgresql://u@127.0.0.1:1/db?schema=pg_mine", "PostgreSQL's own"),
        ("postgresql://u@127.0.0.1:1/db?sslmode=disable", "query parameter ('sslmode')"),
    ],
)
@pytest.mark.parametrize("command", [("show",), ("department", "register", "DX3", "--name", "X")])
def test_a_store_url_opmodel_cannot_honour_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    phrase: str,
    command: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    fails(Cli(store, CliRunner(env=ENV))(*command), 6, phrase)
    assert list(tmp_path.iterdir()) == []


# --- 5. a lost PostgreSQL connection ------------------------------------------------------


def _terminate_recorder_connections(service: object, admin_url: str) -> int:
    """Kill (pg_terminate_backend) the server side of every connection in the recorder's pool."""
    from contextlib import ExitStack

    import psycopg

    pool = service.app.recorder.datastore.pool  # type: ignore[attr-defined]
    with ExitStack() as stack:  # every idle connection in the pool, at once
        idle = pool.get_stats()["pool_available"]
        pids = {stack.enter_context(pool.connection()).info.backend_pid for _ in range(idle)}
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return len(pids)


@pytest.mark.postgres
def test_a_save_after_the_connection_was_lost_is_retried_on_a_new_one(postgres_url: str) -> None:
    from opmodel.commands import build
    from opmodel.service import Service, make_meta

    with Service.open(postgres_url, write=True) as service:
        service.execute([(build("department register", {"code": "DWP", "name": "W"}), make_meta())])
        command = build("department register", {"code": "DX3", "name": "Dept X3"})
        meta = make_meta()
        killed = []

        def work(uow: object) -> object:
            result = command.run(service.app, uow, meta)  # type: ignore[arg-type]
            # Between the command's reads and its save, the server drops the connections.
            killed.append(_terminate_recorder_connections(service, postgres_url.split("?")[0]))
            return result

        _, saved = service.writer.save(work)  # type: ignore[arg-type]
        assert killed[0] >= 1
        assert saved.positions == (3, 4)
    cli = Cli(postgres_url, CliRunner(env=ENV))
    assert [d["code"] for d in cli.json("show")["departments"]] == ["DWP", "DX3"]
    assert cli.json("audit", "verify")["events"] == 4


# --- 6. refused writes and read-model connections lost in a long-lived process -----------


@pytest.mark.postgres
def test_a_rebuild_as_the_read_only_auditor_exits_6_like_other_refused_writes(
    audit: Audit,
) -> None:
    before = audit.owner.json("projections", "status")
    result = audit.auditor("projections", "rebuild", "--json")
    fails(result, 6, "refused the write", "cannot write")
    assert audit.owner.json("projections", "status") == before


@pytest.mark.postgres
def test_read_model_connections_lost_after_a_save_raise_store_unavailable(
    postgres_url: str,
) -> None:
    from contextlib import ExitStack

    import psycopg
    from sqlalchemy import text

    from opmodel.commands import build
    from opmodel.errors import StoreUnavailable
    from opmodel.service import Service, make_meta

    with Service.open(postgres_url, write=True) as service:
        service.execute([(build("department register", {"code": "DWP", "name": "W"}), make_meta())])
        with ExitStack() as stack:  # every idle connection of the read models' pool
            idle = service.database.engine.pool.checkedin()  # type: ignore[attr-defined]
            conns = [stack.enter_context(service.database.connect()) for _ in range(idle)]
            pids = [conn.execute(text("SELECT pg_backend_pid()")).scalar() for conn in conns]
        with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        with pytest.raises(StoreUnavailable, match="connection was lost"):
            service.show()
        assert [d.code for d in service.show().departments] == ["DWP"]  # a new connection


# --- 7. numbers and text past what a store holds, on read commands ------------------------


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (("show", "--as-recorded", "9999-12-31"), 0, None),
        (("replay", "--until", "9999-12-31"), 0, None),
        (("show", "--at-phase", "Synergy:999999999999999999999"), 3, "has not been planned"),
        (("diff", "phase:Synergy:99999999999999999999", "2024-01-01"), 3, "has not been planned"),
        (("history", "--limit", "99999999999999999999999"), 2, "--limit"),
        (("history", "--cluster", "\udcff"), 2, "not valid text"),
        (("show", "--cluster", "\udcff"), 2, "not valid text"),
        (("show", "--as-recorded", "@99999999999999999999999"), 3, "does not exist yet"),
    ],
)
def test_overflowing_input_on_a_read_command_is_answered_or_refused(
    cli_any: Cli, args: tuple[str, ...], code: int, phrase: str | None
) -> None:
    cli_any.ok("cluster", "form", "Synergy", "--effective", "2021-03-01")
    cli_any.ok("phase", "plan", "Synergy", "1", "--name", "Mobilise")
    result = cli_any(*args)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    if phrase is not None:
        fails(result, code, phrase)


# --- 8. audit export never writes through a link ---------------------------------------


def test_audit_export_refuses_a_link_planted_in_a_world_writable_folder(
    cli: Cli, tmp_path: Path
) -> None:
    from opmodel.audit.integrity import export
    from opmodel.errors import InvalidInput
    from opmodel.service import Service

    cli.ok("department", "register", "DWP", "--name", "Work and Pensions")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)

    (shared / "README.md").symlink_to(victim)  # planted before: the folder is not empty
    fails(cli("audit", "export", "--out", str(shared)), 2, "is not empty")
    (shared / "README.md").unlink()

    def plant(_: int) -> None:  # planted while the pack is written
        if not (shared / "digest.json").is_symlink():
            (shared / "digest.json").symlink_to(victim)

    with Service.open(cli.store) as service, pytest.raises(InvalidInput, match="refusing"):
        export(service.database, shared, progress=plant)
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in shared.iterdir()) == ["digest.json", "events.jsonl"]
