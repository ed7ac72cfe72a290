"""Read models brought up to date on two cores (ADR 0009), on SQLite and PostgreSQL.

A helper process applies every other batch while this process applies the rest,
the two taking turns to write them. However they share the work, the read models
must end up exactly as one process makes them, each event applied once, and a
helper that fails must cost nothing but time. On PostgreSQL, eventsourcing's
connection pool runs threads of its own, so no helper is forked there (a fork
beside other threads is not safe) and the same checks show that one process
gives the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from opmodel.catchup import CatchUp, processes
from opmodel.commands import build
from opmodel.projections import PROJECTIONS
from opmodel.projections.base import Envelope, Planned
from opmodel.projections.history import history
from opmodel.service import Service, make_meta

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

ONE_PROCESS = 10**9

#: Batches small enough that the 1,801 events of the fixture make eight of them.
SMALL_BATCHES = 250


def programme(path: Path, departments: int) -> Path:
    """An import file of more than one catch-up batch (three events per department)."""
    path.write_text(
        "version: 1\nentries:\n"
        "  - cluster form: {name: Matrix, phases: 2}\n"
        + "".join(
            f"  - department register: {{code: D{n:04d}, name: Department {n}}}\n"
            f"  - department join: {{code: D{n:04d}, cluster: Matrix}}\n"
            f"  - department headcount: {{code: D{n:04d}, headcount: {100 + n}}}\n"
            for n in range(departments)
        )
    )
    return path


def read_models(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in a fixed order."""
    with service.database.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.c))]
            for projection in PROJECTIONS.values()
            for table in projection.metadata.sorted_tables
        }


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the helper processes started (the real class, counted)."""
    started: list[int] = []
    original = processes.Helper.__init__

    def counted(self: processes.Helper, work: Any) -> None:
        original(self, work)
        started.append(self.pid)

    monkeypatch.setattr(processes.Helper, "__init__", counted)
    return started


def forks(service: Service) -> int:
    """How many helpers a large catch-up starts on this store (none beside threads)."""
    return 1 if service.location.kind == "sqlite" else 0


def on_two_cores(store: Service) -> None:
    """Have ``store`` catch up on two cores, in many small batches."""
    store.read_models.two_cores_from = 1
    store.read_models.batch_size = SMALL_BATCHES


@pytest.fixture
def imported(store_url: str, tmp_path: Path) -> Iterator[Service]:
    """A store holding an import of 1,801 events, read models applied by one process."""
    with Service.open(store_url, write=True) as store:
        store.read_models.two_cores_from = ONE_PROCESS
        store.import_file(programme(tmp_path / "programme.yaml", 600))
        yield store


def test_a_rebuild_on_two_cores_gives_what_one_process_gives(
    imported: Service, helpers: list[int]
) -> None:
    imported.rebuild(list(PROJECTIONS))
    alone = read_models(imported)
    assert helpers == []

    on_two_cores(imported)
    steps: list[int] = []
    report = imported.rebuild(list(PROJECTIONS), progress=steps.append)
    assert len(helpers) == forks(imported)
    assert read_models(imported) == alone
    assert report["events"] == imported.head() == sum(steps)
    head = imported.head()
    batches = (
        processes.spans(0, head, SMALL_BATCHES)
        if forks(imported)
        else range(0, head, SMALL_BATCHES)
    )
    assert len(steps) == len(batches)  # progress after every batch, whoever wrote it
    assert all(p["behind"] == 0 for p in imported.status())


def test_one_read_model_is_rebuilt_on_two_cores(imported: Service, helpers: list[int]) -> None:
    imported.rebuild(list(PROJECTIONS))
    alone = read_models(imported)
    on_two_cores(imported)
    report = imported.rebuild(["history"])
    assert len(helpers) == forks(imported)
    assert report["events"] == imported.head()
    assert read_models(imported) == alone


def test_read_models_at_different_positions_are_caught_up_on_two_cores(
    imported: Service, helpers: list[int]
) -> None:
    imported.rebuild(list(PROJECTIONS))
    alone = read_models(imported)
    imported.read_models.reset(["history", "timeline", "ledger"])
    middle = imported.head() // 2 + 7  # inside a batch, not at its end

    def up_to_middle(after: int, limit: int) -> list[Envelope]:
        return [e for e in imported.database.read_events(after, limit) if e.position <= middle]

    imported.read_models.in_one_process([PROJECTIONS["timeline"]], up_to_middle, None)
    positions = {p["name"]: p["position"] for p in imported.status()}
    assert positions == {
        "operating_model": imported.head(),
        "history": 0,
        "ledger": 0,
        "timeline": middle,
    }
    on_two_cores(imported)
    applied = imported.catch_up()
    assert len(helpers) == forks(imported)
    assert applied == imported.head()  # the most any read model was behind
    assert read_models(imported) == alone


def test_a_thing_renamed_in_another_batch_is_named_as_it_was_then(
    store_url: str, tmp_path: Path, helpers: list[int]
) -> None:
    # Each batch is planned before the one before it is written: a row naming a thing
    # named or renamed in an earlier batch takes the name from the tables when written.
    path = tmp_path / "renames.yaml"
    path.write_text(
        "version: 1\nentries:\n  - cluster form: {name: Matrix, phases: 2}\n"
        + "".join(
            f"  - department register: {{code: D{n:03d}, name: Department {n}}}\n"
            f"  - department join: {{code: D{n:03d}, cluster: Matrix}}\n"
            for n in range(40)
        )
        + "".join(
            f"  - department rename: {{code: D{n:03d}, new-code: E{n:03d}}}\n"
            f"  - department headcount: {{code: E{n:03d}, headcount: {n + 1}}}\n"
            f"  - department rename: {{code: E{n:03d}, new-code: F{n:03d}}}\n"
            f"  - department headcount: {{code: F{n:03d}, headcount: {n + 2}}}\n"
            for n in range(0, 40, 3)
        )
    )
    with Service.open(store_url, write=True) as store:
        store.read_models.two_cores_from = ONE_PROCESS
        store.import_file(path)
        store.rebuild(list(PROJECTIONS))
        alone = read_models(store)
        for size in (7, 3):
            store.read_models.two_cores_from, store.read_models.batch_size = 1, size
            store.rebuild(list(PROJECTIONS))
            assert read_models(store) == alone, size
        assert len(helpers) == 2 * forks(store)
        subjects = [
            r["subject"]
            for r in [e.to_json() for e in store.history(department="F003")]
            if r["subject"].startswith("department:")
        ]
        assert subjects == [f"department:{code}003" for code in "DDEEFF"]


def test_an_import_on_two_cores_gives_what_a_rebuild_gives(
    store_url: str, tmp_path: Path, helpers: list[int]
) -> None:
    with Service.open(store_url, write=True) as store:
        on_two_cores(store)
        summary = store.import_file(programme(tmp_path / "programme.yaml", 600))
        assert len(helpers) == forks(store)
        assert summary["events"] == store.head()
        incremental = read_models(store)
        with store.database.connect() as conn:
            assert _history_rows(conn) == (store.head(), store.head())
        store.read_models.two_cores_from = ONE_PROCESS
        store.rebuild(list(PROJECTIONS))
        assert read_models(store) == incremental


def test_a_helper_that_fails_midway_leaves_the_rest_to_this_process(
    imported: Service, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    imported.rebuild(list(PROJECTIONS))
    alone = read_models(imported)
    _break_planning(monkeypatch, "the helper broke", in_helper=True)
    on_two_cores(imported)
    steps: list[int] = []
    report = imported.rebuild(list(PROJECTIONS), progress=steps.append)
    assert len(helpers) == forks(imported)
    assert report["events"] == imported.head() == sum(steps)
    assert read_models(imported) == alone


def test_a_failure_here_stops_the_helper_and_a_later_catch_up_finishes(
    sqlite_url: str, tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Service.open(sqlite_url, write=True) as imported:
        imported.read_models.two_cores_from = ONE_PROCESS
        imported.import_file(programme(tmp_path / "programme.yaml", 600))
        imported.rebuild(list(PROJECTIONS))
        alone = read_models(imported)
        original = _break_planning(monkeypatch, "this process broke", in_helper=False)
        on_two_cores(imported)
        with pytest.raises(RuntimeError, match="this process broke"):
            imported.rebuild(list(PROJECTIONS))
        assert len(helpers) == 1
        with pytest.raises(ChildProcessError):  # the helper was ended and reaped
            os.waitpid(helpers[0], os.WNOHANG)
        behind = {p["name"]: p["behind"] for p in imported.status()}
        assert min(behind.values()) > 0  # some batches were written, not all

        monkeypatch.setattr(CatchUp, "plan", original)
        imported.catch_up()
        assert read_models(imported) == alone


def _break_planning(
    monkeypatch: pytest.MonkeyPatch, message: str, *, in_helper: bool
) -> Callable[..., Any]:
    """Make ``CatchUp.plan`` fail the second time the helper (or this process) calls it,
    once it has written a batch; returns the original."""
    parent = os.getpid()
    original = CatchUp.plan
    calls = [0]

    def broken(self: CatchUp, *args: Any, **kw: Any) -> Any:
        if (os.getpid() != parent) == in_helper:
            calls[0] += 1
            if calls[0] == 2:
                raise RuntimeError(message)
        return original(self, *args, **kw)

    monkeypatch.setattr(CatchUp, "plan", broken)
    return original


def test_batches_another_process_applies_meanwhile_are_applied_once(
    sqlite_url: str, tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        Service.open(sqlite_url, write=True) as store,
        Service.open(sqlite_url, write=True) as other,
    ):
        store.read_models.two_cores_from = other.read_models.two_cores_from = ONE_PROCESS
        store.import_file(programme(tmp_path / "programme.yaml", 600))
        store.rebuild(list(PROJECTIONS))
        alone = read_models(store)
        store.read_models.reset(list(PROJECTIONS))
        original = CatchUp.plan
        parent = os.getpid()
        calls = [0]

        def other_catches_up(self: CatchUp, *args: Any, **kw: Any) -> Any:
            if os.getpid() == parent:
                calls[0] += 1
                if calls[0] == 2:  # this process has written its first batch
                    other.catch_up()
            return original(self, *args, **kw)

        monkeypatch.setattr(CatchUp, "plan", other_catches_up)
        on_two_cores(store)
        applied = store.catch_up()
        assert len(helpers) == 1
        assert 0 < applied < store.head()  # the other process applied the rest
        with store.database.connect() as conn:
            assert _history_rows(conn) == (store.head(), store.head())
        assert read_models(store) == alone


class _MovedMeanwhile:
    """History, but another process applies the batch while this one plans it."""

    name = "history"
    reads_stored = False

    def __init__(self, other: Service) -> None:
        self.other = other
        self.metadata = PROJECTIONS["history"].metadata
        self.planned = 0

    def plan(self, batch: Any) -> Planned:
        self.planned += 1
        if self.planned == 1:
            self.other.catch_up(["history"])
        return PROJECTIONS["history"].plan(batch)


def test_a_batch_planned_from_a_position_that_moved_is_not_written(
    store_url: str,
) -> None:
    with Service.open(store_url, write=True) as store, Service.open(store_url) as other:
        store.execute([(build("cluster form", {"name": "Synergy", "phases": 3}), make_meta())])
        # Events saved without bringing the read models up to date.
        store.app.execute(
            lambda uow: build("department register", {"code": "DWP", "name": "DWP"}).run(
                store.app, uow, make_meta()
            )
        )
        moved = _MovedMeanwhile(other)
        applied = store.read_models.in_one_process(
            [moved],  # type: ignore[list-item]
            store.database.read_events,
            None,
        )
        assert moved.planned == 1  # refused when written; then nothing was left to do
        assert applied == 0
        with store.database.connect() as conn:
            assert _history_rows(conn) == (store.head(), store.head())
        assert {p["name"]: p["behind"] for p in store.status()}["history"] == 0


def _history_rows(conn: Connection) -> tuple[int, int]:
    rows = conn.execute(select(func.count()).select_from(history)).scalar_one()
    distinct = conn.execute(select(func.count(history.c.position.distinct()))).scalar_one()
    return rows, distinct


# --- an import's catch-up -----------------------------------------------------------------


def _import_and_compare(store: Service, path: Path) -> dict[str, Any]:
    """Import ``path``, then check the read models against a rebuild by one process."""
    summary = store.import_file(path)
    with store.database.connect() as conn:
        assert _history_rows(conn) == (store.head(), store.head())
    assert all(p["behind"] == 0 for p in store.status())
    incremental = read_models(store)
    store.read_models.two_cores_from = ONE_PROCESS
    store.rebuild(list(PROJECTIONS))
    assert read_models(store) == incremental
    return summary


def test_an_import_run_again_after_a_conflict_works_its_read_models_out_again(
    sqlite_url: str, tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.persistence import IntegrityError

    with Service.open(sqlite_url, write=True) as store:
        on_two_cores(store)
        put = store.app.events.put
        calls: list[int] = []

        def conflict_once(events: Any) -> Any:
            calls.append(len(events))
            if len(calls) == 1:
                raise IntegrityError("another writer got there first")
            return put(events)

        monkeypatch.setattr(store.app.events, "put", conflict_once)
        _import_and_compare(store, programme(tmp_path / "programme.yaml", 600))
        assert len(calls) == 2
    assert len(helpers) == 2  # one ahead of each attempt; the first was stopped, never wrote
    with pytest.raises(ChildProcessError):
        os.waitpid(helpers[0], os.WNOHANG)


def _write(store: Service, name: str, args: dict[str, Any]) -> None:
    store.execute([(build(name, args), make_meta())])


def test_without_a_process_to_be_had_one_process_does_it_all(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    with Service.open(sqlite_url, write=True) as store:
        on_two_cores(store)
        summary = store.import_file(programme(tmp_path / "programme.yaml", 600))
        assert summary["events"] == store.head()
        incremental = read_models(store)
        store.rebuild(list(PROJECTIONS))  # its helper cannot be forked either
        assert read_models(store) == incremental


def test_an_import_s_read_models_are_worked_out_while_it_saves(
    sqlite_url: str, tmp_path: Path, helpers: list[int]
) -> None:
    with Service.open(sqlite_url, write=True) as store:
        on_two_cores(store)
        summary = _import_and_compare(store, programme(tmp_path / "programme.yaml", 600))
        assert summary["events"] == store.head()
    assert len(helpers) == 1  # the one ahead of the save; then nothing was left to catch up


def test_events_saved_at_other_positions_are_not_written_ahead(
    sqlite_url: str, tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from opmodel.catchup.two_cores import AheadOfSave

    with (
        Service.open(sqlite_url, write=True) as store,
        Service.open(sqlite_url, write=True) as other,
    ):
        on_two_cores(store)
        other.read_models.two_cores_from = ONE_PROCESS
        _write(other, "cluster form", {"name": "Synergy", "phases": 3})
        start = AheadOfSave.start
        heads: list[int] = []

        def another_writer_first(self: AheadOfSave, events: list[Any]) -> None:
            start(self, events)  # the helper assumes the events follow the head
            monkeypatch.setattr(AheadOfSave, "start", start)
            heads.append(other.head())
            _write(other, "cluster form", {"name": "Vector", "phases": 2})
            heads.append(other.head())

        monkeypatch.setattr(AheadOfSave, "start", another_writer_first)
        summary = _import_and_compare(store, programme(tmp_path / "programme.yaml", 600))
        assert heads[1] > heads[0]
        assert summary["first_position"] == heads[1] + 1  # after the other writer's events
    assert len(helpers) == 2  # the one ahead wrote nothing; then the catch-up's


def test_a_failing_helper_ahead_of_the_save_leaves_its_read_models_to_the_catch_up(
    sqlite_url: str, tmp_path: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    plan = CatchUp.plan

    def broken_in_the_helper(self: CatchUp, *args: Any, **kw: Any) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("the helper broke")
        return plan(self, *args, **kw)

    monkeypatch.setattr(CatchUp, "plan", broken_in_the_helper)
    with Service.open(sqlite_url, write=True) as store:
        on_two_cores(store)
        path = programme(tmp_path / "programme.yaml", 600)
        summary = store.import_file(path)
        assert all(p["behind"] == 0 for p in store.status())
        monkeypatch.setattr(CatchUp, "plan", plan)
        incremental = read_models(store)
        store.read_models.two_cores_from = ONE_PROCESS
        store.rebuild(list(PROJECTIONS))
        assert read_models(store) == incremental
        assert summary["events"] == store.head()
