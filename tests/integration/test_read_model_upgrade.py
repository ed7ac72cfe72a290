"""Stores whose read models predate this version's layout keep answering, and are
brought up to date by the next write, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from opmodel.commands import build
from opmodel.projections.tracking import projection_tracking
from opmodel.service import Service, make_meta


def _write(store: Service, name: str, args: dict[str, Any]) -> None:
    store.execute([(build(name, args), make_meta())])


def _columns(store: Service, table: str) -> set[str]:
    with store.database.connect() as conn:
        if store.location.kind == "sqlite":
            rows = conn.exec_driver_sql(f"SELECT name FROM pragma_table_info('{table}')")
        else:
            rows = conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = :t"
                ),
                {"s": store.location.schema, "t": table},
            )
        return {r[0] for r in rows}


def test_an_older_operating_model_layout_is_read_then_rebuilt_by_a_write(store_url: str) -> None:
    with Service.open(store_url, write=True) as store:
        _write(store, "cluster form", {"name": "Synergy"})
        _write(store, "department register", {"code": "DWP", "name": "Work and Pensions"})
        _write(store, "department join", {"code": "DWP", "cluster": "Synergy"})
        _write(store, "cluster lead", {"name": "Synergy", "dept": "DWP"})
        expected = store.show().to_json()
    # A store made before the stamp columns existed: same rows, fewer columns.
    with Service.open(store_url, write=True) as store, store.database.connect() as conn:
        conn.exec_driver_sql("ALTER TABLE om_clusters DROP COLUMN lead_at")
        conn.commit()
    with Service.open(store_url) as reader:
        assert "lead_at" not in _columns(reader, "om_clusters")
        assert (
            reader.show().to_json() == expected
        )  # read-only: answered from the old tables as they are

    with Service.open(store_url, write=True) as store:
        assert "lead_at" in _columns(store, "om_clusters")  # opening to write upgraded it
        with store.database.connect() as conn:
            tracked = dict(conn.execute(projection_tracking.select()).all())  # type: ignore[arg-type]
        assert tracked["operating_model"] == 0  # to be applied again from the start
        assert tracked["history"] == store.head()  # the others untouched
        _write(store, "department headcount", {"code": "DWP", "headcount": 5})
        after = store.show().to_json()
        assert all(p["behind"] == 0 for p in store.status())
    department = next(d for d in after["departments"] if d["code"] == "DWP")
    assert department["headcount"] == 5
    assert after["clusters"] == expected["clusters"]


def test_an_older_timeline_is_not_used_by_reads_and_is_rebuilt_by_a_write(store_url: str) -> None:
    with Service.open(store_url, write=True) as store:
        _write(store, "cluster form", {"name": "Synergy"})
        _write(store, "phase plan", {"cluster": "Synergy", "number": 1, "name": "Mobilise"})
        expected = store.show(as_of=date.today()).to_json()
        assert expected["clusters"][0]["phases"][0]["name"] == "Mobilise"
        with store.database.connect() as conn:  # the layout before "planned" (and its index)
            conn.exec_driver_sql("DROP INDEX timeline_thing")
            conn.exec_driver_sql("ALTER TABLE timeline DROP COLUMN planned")
            conn.commit()
    with Service.open(store_url) as reader:
        assert reader.show(as_of=date.today()).to_json() == expected  # every event read instead
    with Service.open(store_url, write=True) as store:
        assert "planned" in _columns(store, "timeline")
        store.catch_up()
        assert store.show(as_of=date.today()).to_json() == expected
