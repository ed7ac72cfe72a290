"""A rebuild killed with SIGKILL mid-way resumes to exactly the uninterrupted read models.

A store of more than 20,000 events is made once by ``opmodel import`` of an
8,000-entry file; the import brings every read model up to date in one
uninterrupted pass, and ``show --json``/``history --json`` then are the
answer every later path must give. Each test works on a copy of that store:
``opmodel projections rebuild`` runs in a process of its own, is killed with
SIGKILL while its read models are part-way (tracked above 0, below the head),
and the tracked positions must then sit on a batch boundary (the open batch
rolled back). ``projections update`` (resume) or a second ``projections
rebuild`` (start over) must give byte-for-byte the uninterrupted output, with
every event applied exactly once: as many history rows, history names and
ledger rows as the uninterrupted pass made, each position once.

The same crash runs on PostgreSQL with a smaller store (the semantics are the
same; PostgreSQL's rebuild is slower per event). And a batch replayed by a
process holding a stale position is refused by ``advance`` and rolled back.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, func, select, text

from opmodel.catchup import BATCH_SIZE, processes
from opmodel.commands import build
from opmodel.errors import ConcurrentChange
from opmodel.projections.history import history, history_names, history_refs
from opmodel.projections.ledger import ledger
from opmodel.projections.operating_model import (
    OperatingModelProjection,
    clusters,
    departments,
)
from opmodel.projections.tracking import advance, projection_tracking
from opmodel.service import Service, make_meta
from opmodel.store.execution import run_operations
from tests.conftest import Cli

pytestmark = pytest.mark.slow

CLUSTERS = 20

#: Topics of the bookkeeping events (the code index, decision numbering).
BOOKKEEPING = (":DepartmentCode.", ":DecisionNumbering.")


def import_document(departments: int) -> dict[str, Any]:
    """Clusters, then ``departments`` registered, joined and re-coded.

    A registration and a join write 2 events each, a re-code 3 (the department's,
    and the code index's release of the old code and claim of the new one).
    """
    entries: list[dict[str, Any]] = [
        {"cluster form": {"name": f"Cluster {n:02d}"}, "effective": "2021-03-01"}
        for n in range(CLUSTERS)
    ]
    for i in range(departments):
        entries.append(
            {
                "department register": {"code": f"D{i:05d}", "name": f"Department {i}"},
                "effective": f"202{1 + i % 3}-0{1 + i % 9}-1{i % 10}",
                "actor": ("alice", "bob", "carol")[i % 3],
            }
        )
        entries.append(
            {"department join": {"code": f"D{i:05d}", "cluster": f"Cluster {i % 20:02d}"}}
        )
    for i in range(departments):
        entries.append(
            {
                "department rename": {"code": f"D{i:05d}", "new-code": f"R{i:05d}"},
                "reason": "machinery of government",
            }
        )
    return {"version": 1, "defaults": {"actor": "programme-office"}, "entries": entries}


def opmodel(store: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "opmodel_cli.main", "--store", store, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OPMODEL_ACTOR": "crash-test"},
        check=False,
    )


@dataclass(frozen=True)
class Uninterrupted:
    """A store and what its read models say after one uninterrupted pass."""

    url: str
    show: str
    history: str
    head: int
    rows: int  # rows of the history (one per event it shows)
    names: int  # rows of history_names (one per name or code a thing was given)


def read_outputs(url: str) -> tuple[str, str]:
    """``show --json`` and ``history --json`` exactly as printed."""
    cli = Cli(url, CliRunner())
    return cli.ok("show", "--json").stdout, cli.ok("history", "--json").stdout


def make_store(url: str, folder: Path, departments: int) -> Uninterrupted:
    document = folder / "programme.json"
    document.write_text(json.dumps(import_document(departments)), encoding="utf-8")
    imported = opmodel(url, "import", str(document), "--json")
    assert imported.returncode == 0, imported.stderr
    summary = json.loads(imported.stdout)
    shown, rows = read_outputs(url)
    with Service.open(url) as service, service.database.connect() as conn:
        topics = [
            r[0] for r in conn.execute(text(f"SELECT topic FROM {service.location.events_table}"))
        ]
        head = service.head()
        names = conn.execute(select(func.count()).select_from(history_names)).scalar_one()
    assert summary["last_position"] == head == len(topics)
    assert json.loads(shown)["position"] == head
    # One history row per stored event, bookkeeping included (ADR 0003).
    assert len(json.loads(rows)) == head
    bookkeeping = sum(1 for t in topics if any(b in t for b in BOOKKEEPING))
    assert bookkeeping == 3 * departments  # D… claimed, then released; R… claimed
    assert names >= CLUSTERS + departments * 2
    return Uninterrupted(url, shown, rows, head, head, names)


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Uninterrupted:
    """A SQLite store of more than 20,000 events, imported once for the module."""
    folder = tmp_path_factory.mktemp("crash-template")
    made = make_store(f"sqlite:///{folder / 'template.db'}", folder, departments=2900)
    assert made.head >= 20_000
    return made


def copy_sqlite(template: Uninterrupted, folder: Path) -> Uninterrupted:
    source = Path(template.url.removeprefix("sqlite:///"))
    for leftover in source.parent.glob(source.name + "-*"):  # -wal, -shm if any
        shutil.copy(leftover, folder / (f"store.db{leftover.name.removeprefix(source.name)}"))
    shutil.copy(source, folder / "store.db")
    return Uninterrupted(
        f"sqlite:///{folder / 'store.db'}",
        template.show,
        template.history,
        template.head,
        template.rows,
        template.names,
    )


# --- checks ---------------------------------------------------------------------------


def tracked(url: str) -> dict[str, int]:
    """Every read model's tracked position, read through a connection of its own."""
    with Service.open(url) as service, service.database.connect() as conn:
        return {r.name: r.position for r in conn.execute(projection_tracking.select())}


def kill_rebuild_midway(url: str, head: int) -> dict[str, int]:
    """Start ``projections rebuild``, SIGKILL it while its positions are part-way."""
    process = subprocess.Popen(
        [sys.executable, "-m", "opmodel_cli.main", "--store", url, "projections", "rebuild"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OPMODEL_ACTOR": "crash-test"},
    )
    try:
        with Service.open(url) as service:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with service.database.connect() as conn:
                    positions = [r.position for r in conn.execute(projection_tracking.select())]
                if any(0 < p < head for p in positions):
                    os.kill(process.pid, signal.SIGKILL)
                    break
                assert process.poll() is None, "the rebuild ended before it could be killed"
                time.sleep(0.01)
            else:
                pytest.fail("the rebuild never moved part-way")
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    after = tracked(url)
    # The open batch was rolled back: each read model sits where a batch ended.
    boundaries = batch_ends(url, head)
    assert set(after.values()) <= boundaries | {0}, after
    assert any(p in boundaries for p in after.values()), after
    return after


def batch_ends(url: str, head: int) -> set[int]:
    """Where a rebuild's batches end (but the last): on two cores, where the two processes
    take turns (ADR 0009); else every ``BATCH_SIZE`` events."""
    if url.startswith("sqlite") and hasattr(os, "fork") and processes.cores() >= 2:
        return {high for _, high in processes.spans(0, head, BATCH_SIZE)[:-1]}
    return set(range(BATCH_SIZE, head, BATCH_SIZE))


def count(conn: Connection, table: Any, *columns: Any) -> tuple[int, int]:
    """Rows, and distinct rows over ``columns``."""
    rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
    distinct = conn.execute(
        select(func.count()).select_from(select(*columns).distinct().subquery())
    ).scalar_one()
    return rows, distinct


def assert_applied_exactly_once(store: Uninterrupted) -> None:
    shown, rows = read_outputs(store.url)
    assert shown == store.show
    assert rows == store.history
    with Service.open(store.url) as service, service.database.connect() as conn:
        assert [s["behind"] for s in service.status()] == [0] * len(service.status())
        assert count(conn, history, history.c.position) == (store.rows, store.rows)
        refs, distinct_refs = count(conn, history_refs, history_refs.c.position, history_refs.c.ref)
        assert refs == distinct_refs >= store.rows
        # history_names has no key of its own: a double-applied event would add a row.
        assert count(conn, history_names, history_names.c.kind, history_names.c.key,
                     history_names.c.id)[0] == store.names  # fmt: skip
        assert count(conn, ledger, ledger.c.position) == (store.head, store.head)
        assert count(conn, clusters, clusters.c.id) == (CLUSTERS, CLUSTERS)
        model = json.loads(shown)
        assert count(conn, departments, departments.c.id)[0] == len(model["departments"])


# --- SQLite: more than 20,000 events -----------------------------------------------------


def test_a_rebuild_killed_midway_resumes_with_update(
    sqlite_template: Uninterrupted, tmp_path: Path
) -> None:
    store = copy_sqlite(sqlite_template, tmp_path)
    killed_at = kill_rebuild_midway(store.url, store.head)

    # What a reader sees now is the part-way model: fewer departments than at the head.
    partial = json.loads(Cli(store.url, CliRunner()).ok("show", "--json").stdout)
    assert partial["position"] == killed_at["operating_model"] < store.head

    updated = opmodel(store.url, "projections", "update", "--json")
    assert updated.returncode == 0, updated.stderr
    report = json.loads(updated.stdout)
    assert report["applied"] == store.head - min(killed_at.values())
    assert {r["position"] for r in report["read_models"]} == {store.head}
    assert_applied_exactly_once(store)


def test_a_rebuild_killed_midway_then_rebuilt_again_gives_the_same(
    sqlite_template: Uninterrupted, tmp_path: Path
) -> None:
    store = copy_sqlite(sqlite_template, tmp_path)
    kill_rebuild_midway(store.url, store.head)

    rebuilt = opmodel(store.url, "projections", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    summary = json.loads(rebuilt.stdout)
    assert summary["events"] == summary["position"] == store.head
    assert_applied_exactly_once(store)


# --- PostgreSQL: the same crash, on a smaller store ------------------------------------------


@pytest.mark.postgres
def test_a_rebuild_killed_midway_on_postgres_resumes_with_update(
    postgres_url: str, tmp_path: Path
) -> None:
    store = make_store(postgres_url, tmp_path, departments=2400)
    assert store.head > 3 * BATCH_SIZE
    killed_at = kill_rebuild_midway(store.url, store.head)
    updated = opmodel(store.url, "projections", "update", "--json")
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["applied"] == store.head - min(killed_at.values())
    assert_applied_exactly_once(store)


# --- a stale batch is refused -------------------------------------------------------------


@pytest.fixture
def funded(store_url: str) -> Iterator[Service]:
    """A store with one cluster and one funding grant applied by every read model."""
    with Service.open(store_url, write=True) as service:
        meta = make_meta(effective=date(2024, 4, 1), actor="treasury")
        service.execute([(build("cluster form", {"name": "Synergy"}), meta)])
        grant = build("funding grant", {"cluster": "Synergy", "amount": "70k"})
        service.execute([(grant, make_meta(effective=date(2024, 5, 1), actor="treasury"))])
        yield service


def test_replaying_an_applied_batch_with_a_stale_position_is_refused(funded: Service) -> None:
    head = funded.head()
    before = (funded.show().to_json(), [e.to_json() for e in funded.history()], funded.status())
    assert before[0]["clusters"][0]["funding_gbp"] == "70000.00"
    batch = funded.database.read_events(head - 1, 1)  # the FundingGranted event, already applied
    assert [e.name for e in batch] == ["FundingGranted"]

    # A second process read position head-1 before the first committed the batch; its
    # funding UPDATE has no key to collide with, so only the tracking guard stops it.
    with funded.database.engine.connect() as conn:
        conn = conn.execution_options(opmodel_write=True)

        def replay() -> None:
            run_operations(conn, OperatingModelProjection().operations(conn, batch))
            advance(conn, "operating_model", head - 1, head)

        with pytest.raises(ConcurrentChange, match="not applied twice"), conn.begin():
            replay()
        with pytest.raises(ConcurrentChange), conn.begin():
            advance(conn, "history", 0, head)

    assert (
        funded.show().to_json(),
        [e.to_json() for e in funded.history()],
        funded.status(),
    ) == before
    assert funded.show().to_json()["clusters"][0]["funding_gbp"] == "70000.00"


def test_advance_moves_only_from_the_position_held(funded: Service) -> None:
    head = funded.head()
    with funded.database.engine.connect() as conn:
        conn = conn.execution_options(opmodel_write=True)
        transaction = conn.begin()
        advance(conn, "history", head, head + 5)  # the position held: accepted
        assert _position(conn, "history") == head + 5
        transaction.rollback()
        assert _position(conn, "history") == head
        conn.rollback()
        with pytest.raises(ConcurrentChange), conn.begin():
            advance(conn, "history", head + 1, head + 5)  # ahead of it: refused too
    assert {s["position"] for s in funded.status()} == {head}


def _position(conn: Connection, name: str) -> int:
    return int(
        conn.execute(
            select(projection_tracking.c.position).where(projection_tracking.c.name == name)
        ).scalar_one()
    )
