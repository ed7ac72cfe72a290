"""Evidence packs (docs/audit.md): ``audit export`` writes what an auditor re-checks alone.

The pack's ``verify.py`` is run as an auditor would, by a Python that cannot
import opmodel (isolated mode, no site-packages, another working directory).
A tampered pack fails it naming the position; a tampered store is not
exported. The same fixed events give the same, pinned, digest on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.persistence import StoredEvent

from opmodel.service import Service
from opmodel.store import locate
from tests.conftest import Cli
from tests.integration.test_audit_tamper import (
    ACTOR_ENV,
    DIGEST,
    HEAD,
    ORACLE_AWARDED,
    RawStore,
    copy_sqlite,
    edit_payload,
    record_programme,
    take_digest,
)

ROOT = Path(__file__).parent.parent.parent
GOLDEN = ROOT / "tests" / "data" / "events-v1.jsonl"
PACK_FILES = {"events.jsonl", "digest.json", "README.md", "verify.py"}
RECORD_KEYS = {
    "position", "recorded_at", "effective", "actor", "reason", "source", "command_id",
    "event", "topic", "originator_id", "originator_version", "state_base64",
    "event_sha256", "hash",
}  # fmt: skip

#: ``audit digest`` of the 54 events in tests/data/events-v1.jsonl inserted into a fresh
#: store. If this changes, the canonical bytes changed, and every digest ever kept by an
#: auditor stops verifying: that needs a new chain version, not a new constant.
GOLDEN_DIGEST = "54:a917b245bd081b2f6f7b3ac679c15f9c2fbe38911aeeff63e51348ef06b9afdc"


# --- helpers ----------------------------------------------------------------------------


def run_verifier(pack: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python3 PACK/verify.py PACK ARGS`` with nothing but the standard library."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(pack / "verify.py"), str(pack), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read_pack(pack: Path) -> list[dict[str, Any]]:
    lines = (pack / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def write_pack(pack: Path, records: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    (pack / "events.jsonl").write_text(text, encoding="utf-8")


def export(cli: Cli, out: Path) -> str:
    result = cli.ok("audit", "export", "--out", str(out))
    return result.stdout


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with nothing of opmodel in it."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def sqlite_pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The programme recorded in a SQLite file and exported once; the pack and the digest."""
    base = tmp_path_factory.mktemp("pack")
    cli = Cli(f"sqlite:///{base / 'opmodel.db'}", CliRunner(env=ACTOR_ENV))
    record_programme(cli)
    digest = take_digest(cli)
    export(cli, base / "pack")
    return base / "pack", digest


@pytest.fixture
def pack_copy(sqlite_pack: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the exported pack to tamper with."""
    copy = tmp_path / "copy"
    shutil.copytree(sqlite_pack[0], copy)
    return copy


# --- export and the standalone verifier ---------------------------------------------------


def test_the_verifier_runs_where_opmodel_cannot_be_imported(elsewhere: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-I", "-S", "-c", "import opmodel"],
        cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert probe.returncode != 0
    assert "No module named 'opmodel'" in probe.stderr


def test_export_writes_a_pack_that_verifies_without_opmodel(
    cli_any: Cli, tmp_path: Path, elsewhere: Path
) -> None:
    record_programme(cli_any)
    digest = take_digest(cli_any)
    pack = tmp_path / "evidence" / "2024-q3"
    said = export(cli_any, pack)
    assert f"wrote {HEAD} events to {pack} (digest {digest})" in said

    assert {p.name for p in pack.iterdir()} == PACK_FILES
    head = json.loads((pack / "digest.json").read_text())
    assert f"{head['position']}:{head['hash']}" == digest
    assert (pack / "verify.py").read_bytes() == (
        ROOT / "src" / "opmodel" / "audit" / "canonical.py"
    ).read_bytes()
    assert digest in (pack / "README.md").read_text()

    records = read_pack(pack)
    assert [r["position"] for r in records] == list(range(1, HEAD + 1))
    assert all(set(r) == RECORD_KEYS for r in records)
    assert records[-1]["hash"] == digest.split(":")[1]
    first = records[0]
    assert (first["event"], first["actor"], first["effective"]) == (
        "Cluster.Formed", "test-architect", "2021-03-01",
    )  # fmt: skip
    assert first["reason"] == "Shared Services Strategy for Government"
    stored = {row.position: row for row in RawStore(cli_any.store).rows()}
    for record in records:
        row = stored[record["position"]]
        assert base64.b64decode(record["state_base64"]) == row.state
        assert (record["originator_id"], record["originator_version"], record["topic"]) == (
            row.id_hex, row.originator_version, row.topic,
        )  # fmt: skip

    ok = run_verifier(pack, cwd=elsewhere)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.startswith(f"OK: {HEAD} events, chain intact, head {digest}")
    assert run_verifier(pack, "--digest", digest, cwd=elsewhere).returncode == 0

    wrong = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    failed = run_verifier(pack, "--digest", wrong, cwd=elsewhere)
    assert failed.returncode == 7
    assert failed.stderr.startswith(f"FAILED: position {HEAD}: the chain does not match")
    longer = run_verifier(pack, "--digest", f"{HEAD + 1}:{digest.split(':')[1]}", cwd=elsewhere)
    assert longer.returncode == 7
    assert "history shorter than the digest" in longer.stderr


def test_export_as_json_reports_what_it_wrote(cli: Cli, tmp_path: Path) -> None:
    cli.ok("cluster", "form", "Synergy", "--effective", "2021-03-01")
    digest = take_digest(cli)
    summary = cli.json("audit", "export", "--out", str(tmp_path / "pack"))
    assert summary == {
        "out": str(tmp_path / "pack"),
        "events": 1,
        "position": 1,
        "hash": digest.split(":")[1],
    }


def _edit_state(records: list[dict[str, Any]]) -> None:
    record = records[ORACLE_AWARDED - 1]
    state = base64.b64decode(record["state_base64"])
    assert state.count(b'"Oracle"') == 1
    record["state_base64"] = base64.b64encode(state.replace(b'"Oracle"', b'"Oracla"')).decode()


def _delete_line(records: list[dict[str, Any]]) -> None:
    del records[10]  # position 11


def _swap_lines(records: list[dict[str, Any]]) -> None:
    records[8], records[9] = records[9], records[8]  # positions 9 and 10


def _edit_hash(records: list[dict[str, Any]]) -> None:
    records[14]["hash"] = "ab" * 32  # position 15


def _edit_event_hash(records: list[dict[str, Any]]) -> None:
    records[4]["event_sha256"] = "cd" * 32  # position 5


def _delete_last_line(records: list[dict[str, Any]]) -> None:
    del records[-1]


PACK_TAMPERS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "state-edited": (_edit_state, f"position {ORACLE_AWARDED}: payload changed"),
    "line-deleted": (_delete_line, "position 12: the chain breaks here"),
    "lines-swapped": (_swap_lines, "position 10: the chain breaks here"),
    "hash-edited": (_edit_hash, "position 15: the chain breaks here"),
    "event-hash-edited": (_edit_event_hash, "position 5: payload changed"),
    "last-line-deleted": (_delete_last_line, "digest.json (22:"),
}


@pytest.mark.parametrize("name", list(PACK_TAMPERS))
def test_a_tampered_pack_fails_its_verifier_naming_the_position(
    pack_copy: Path, elsewhere: Path, name: str
) -> None:
    tamper, message = PACK_TAMPERS[name]
    records = read_pack(pack_copy)
    tamper(records)
    write_pack(pack_copy, records)
    result = run_verifier(pack_copy, cwd=elsewhere)
    assert result.returncode == 7, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith(f"FAILED: {message}"), result.stderr


def test_a_pack_read_and_written_back_unchanged_still_passes(
    pack_copy: Path, elsewhere: Path
) -> None:
    # so the failures above come from the tampers, not from rewriting the file
    before = (pack_copy / "events.jsonl").read_bytes()
    write_pack(pack_copy, read_pack(pack_copy))
    assert (pack_copy / "events.jsonl").read_bytes() == before
    assert run_verifier(pack_copy, cwd=elsewhere).returncode == 0


@pytest.mark.parametrize(
    ("field", "forged"), [("actor", "someone-else"), ("effective", "1999-01-01")]
)
def test_a_pack_whose_readable_metadata_was_edited_fails(
    pack_copy: Path, elsewhere: Path, field: str, forged: str
) -> None:
    records = read_pack(pack_copy)
    assert records[0][field] != forged
    records[0][field] = forged
    write_pack(pack_copy, records)
    result = run_verifier(pack_copy, cwd=elsewhere)
    assert result.returncode == 7, result.stdout
    assert result.stderr.startswith("FAILED: position 1"), result.stderr


def test_a_pack_rewritten_consistently_fails_only_against_the_kept_digest(
    pack_copy: Path, sqlite_pack: tuple[Path, str], elsewhere: Path
) -> None:
    records = read_pack(pack_copy)
    _edit_state(records)
    previous = bytes(32)
    for record in records:  # the forger recomputes every hash and the head
        data = b"".join((
            b"opmodel-event-v1\n", str(record["position"]).encode(), b"\n",
            record["originator_id"].encode(), b"\n", str(record["originator_version"]).encode(),
            b"\n", record["topic"].encode(), b"\n", base64.b64decode(record["state_base64"]),
        ))  # fmt: skip
        record["event_sha256"] = hashlib.sha256(data).hexdigest()
        previous = hashlib.sha256(previous + data).digest()
        record["hash"] = previous.hex()
    write_pack(pack_copy, records)
    (pack_copy / "digest.json").write_text(json.dumps({"position": HEAD, "hash": previous.hex()}))

    assert run_verifier(pack_copy, cwd=elsewhere).returncode == 0
    kept = sqlite_pack[1]
    result = run_verifier(pack_copy, "--digest", kept, cwd=elsewhere)
    assert result.returncode == 7
    assert result.stderr.startswith(f"FAILED: position {HEAD}: the chain does not match")


def test_a_pack_whose_digest_file_was_edited_fails(pack_copy: Path, elsewhere: Path) -> None:
    (pack_copy / "digest.json").write_text(json.dumps({"position": HEAD, "hash": "ef" * 32}))
    result = run_verifier(pack_copy, cwd=elsewhere)
    assert result.returncode == 7
    assert result.stderr.startswith("FAILED: digest.json")


def test_exporting_into_a_non_empty_directory_exits_2(cli: Cli, tmp_path: Path) -> None:
    cli.ok("cluster", "form", "Synergy")
    out = tmp_path / "evidence"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("audit", "export", "--out", str(out))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ")
    assert "is not empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_exporting_a_tampered_store_exits_7_and_writes_no_pack(
    store_url: str, sqlite_pack: tuple[Path, str], tmp_path: Path
) -> None:
    cli = Cli(store_url, CliRunner(env=ACTOR_ENV))
    location = locate(store_url)
    if location.kind == "sqlite":
        assert location.path is not None
        copy_sqlite(sqlite_pack[0].parent / "opmodel.db", location.path)
    else:
        record_programme(cli)
    raw = RawStore(store_url)
    raw.drop_guards()
    edit_payload(raw)

    out = tmp_path / "evidence"
    result = cli("audit", "export", "--out", str(out))
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ")
    assert f"position {ORACLE_AWARDED}: payload changed" in result.stderr
    assert not out.exists()


# --- the same hashes on both backends -------------------------------------------------------


def _golden_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLDEN.read_text().splitlines()]


def _documented_chain(rows: list[dict[str, Any]]) -> str:
    """The digest as docs/audit.md defines it, computed here without opmodel."""
    previous = bytes(32)
    for position, row in enumerate(rows, start=1):
        data = (
            f"opmodel-event-v1\n{position}\n{row['originator_id']}\n"
            f"{row['originator_version']}\n{row['topic']}\n"
        ).encode() + json.dumps(row["state"]).encode()
        previous = hashlib.sha256(previous + data).digest()
    return f"{len(rows)}:{previous.hex()}"


def test_the_pinned_digest_is_the_documented_chain_of_the_golden_events() -> None:
    rows = _golden_rows()
    assert [r["position"] for r in rows] == list(range(1, 55))
    assert _documented_chain(rows) == GOLDEN_DIGEST


def test_the_golden_events_give_the_pinned_digest_on_each_backend(
    store_url: str, tmp_path: Path, elsewhere: Path
) -> None:
    with Service.open(store_url, write=True) as service:
        service.app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=uuid.UUID(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=json.dumps(row["state"]).encode(),
                )
                for row in _golden_rows()
            ]
        )
        service.catch_up()
    cli = Cli(store_url, CliRunner(env=ACTOR_ENV))
    digest = take_digest(cli)
    assert DIGEST.match(digest)
    assert digest == GOLDEN_DIGEST
    verified = cli.ok("audit", "verify", "--digest", GOLDEN_DIGEST)
    assert "OK: 54 events verified" in verified.stdout

    export(cli, tmp_path / "pack")
    records = read_pack(tmp_path / "pack")
    assert f"{records[-1]['position']}:{records[-1]['hash']}" == GOLDEN_DIGEST
    checked = run_verifier(tmp_path / "pack", "--digest", GOLDEN_DIGEST, cwd=elsewhere)
    assert checked.returncode == 0, checked.stderr
