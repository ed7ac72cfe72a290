"""A write brings the read models up to date from the events its save returned.

Those events are the ones stored at the save's positions, so the read models
must end up exactly as a rebuild from the store makes them — also when they
lagged behind other writers' events before the save, which catch-up then reads
from the store first. On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opmodel.application import UnitOfWork
from opmodel.commands import build
from opmodel.errors import ClusterAlreadyFormed
from opmodel.projections import PROJECTIONS
from opmodel.service import Service, make_meta


def _write(store: Service, name: str, args: dict[str, Any]) -> None:
    store.execute([(build(name, args), make_meta())])


def test_a_lagging_read_model_reads_other_events_then_the_saved_ones(store_url: str) -> None:
    with Service.open(store_url, write=True) as store:
        _write(store, "cluster form", {"name": "Synergy", "phases": 3})
        # Another writer's events, saved without bringing the read models up to date.
        other = store.app.execute(
            lambda uow: build("department register", {"code": "DWP", "name": "DWP"}).run(
                store.app, uow, make_meta()
            )
        )[1]
        assert all(p["behind"] == len(other.positions) == 2 for p in store.status())
        _write(store, "department join", {"code": "DWP", "cluster": "Synergy"})
        incremental = (store.show().to_json(), [e.to_json() for e in store.history()])
        assert incremental[0]["clusters"][0]["members"] == ["DWP"]
        store.rebuild(list(PROJECTIONS))
        assert (store.show().to_json(), [e.to_json() for e in store.history()]) == incremental
        assert all(p["behind"] == 0 for p in store.status())


def test_an_import_applies_its_own_events_exactly_once(store_url: str, tmp_path: Path) -> None:
    document = tmp_path / "programme.yaml"
    document.write_text(
        "version: 1\nentries:\n"
        + "".join(
            f"  - department register: {{code: D{n:03d}, name: Department {n}}}\n"
            for n in range(2500)  # more than one catch-up batch
        )
        + "  - cluster form: {name: Matrix}\n"
        + "  - department join: {code: D007, cluster: Matrix}\n"
    )
    with Service.open(store_url, write=True) as store:
        report = store.import_file(document)
        incremental = (store.show().to_json(), [e.to_json() for e in store.history()])
        assert len(incremental[1]) == report["last_position"]
        assert [h["position"] for h in incremental[1]] == list(
            range(1, report["last_position"] + 1)
        )
        store.rebuild(list(PROJECTIONS))
        assert (store.show().to_json(), [e.to_json() for e in store.history()]) == incremental


def test_saves_need_no_snapshots_or_cache_kept(store_url: str) -> None:
    # OperatingModel.execute puts events in the event store itself; that equals
    # Application.save only while the application keeps no snapshots and no cache.
    with Service.open(store_url, write=True) as store:
        assert store.app.snapshots is None
        assert store.app.repository.cache is None


def test_a_bulk_unit_on_an_empty_store_runs_again_when_another_writer_got_in_first(
    store_url: str,
) -> None:
    # An import into an empty store loads nothing; if another writer records
    # something meanwhile, the save conflicts and the unit runs again against it.
    attempts: list[int] = []
    with Service.open(store_url, write=True) as store, Service.open(store_url, write=True) as other:

        def work(uow: UnitOfWork) -> str | None:
            attempts.append(1)
            if len(attempts) == 1:
                _write(other, "cluster form", {"name": "Synergy"})
            return build("cluster form", {"name": "Synergy"}).run(store.app, uow, make_meta())

        with pytest.raises(ClusterAlreadyFormed):
            store.app.execute(work, bulk=True)
        assert len(attempts) == 2
        formed = [h for h in [e.to_json() for e in other.history()] if h["event"] == "Formed"]
        assert len(formed) == 1
