"""The store's contract, on a SQLite file and on a real PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from opmodel.errors import StoreUnavailable
from opmodel.service import Service
from opmodel.store import locate
from opmodel.store.sqlite import PAGE_SIZE as SQLITE_PAGE_SIZE
from tests.conftest import Cli


def _record_programme(cli: Cli) -> None:
    cli.ok(
        "cluster",
        "form",
        "Synergy",
        "--effective",
        "2021-03-01",
        "--reason",
        "Shared Services Strategy",
        "--source",
        "https://example.org/strategy",
    )
    cli.ok("department", "register", "DWP", "--name", "Department for Work and Pensions")
    cli.ok("department", "join", "DWP", "Synergy")
    cli.ok("cluster", "lead", "Synergy", "DWP")


def test_commands_are_recorded_with_their_metadata(cli_any: Cli) -> None:
    _record_programme(cli_any)
    model = cli_any.json("show")
    assert model["clusters"][0]["lead"] == "DWP"
    assert model["clusters"][0]["members"] == ["DWP"]
    first = cli_any.history()[0]
    assert first["effective"] == "2021-03-01"
    assert first["actor"] == "test-architect"
    assert first["reason"] == "Shared Services Strategy"
    assert first["source"] == "https://example.org/strategy"
    assert first["subject"] == "cluster:Synergy"


def _tamper(store_url: str, statement: str) -> None:
    location = locate(store_url)
    if location.kind == "sqlite":
        conn = sqlite3.connect(str(location.path))
        try:
            conn.execute(statement.format(table="stored_events"))
            conn.commit()
        finally:
            conn.close()
    else:
        with psycopg.connect(store_url.split("?", 1)[0], autocommit=True) as pg:
            pg.execute(statement.format(table=f'"{location.schema}".opmodel_events'))


@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET topic = 'forged'", "DELETE FROM {table}"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_stored_events(cli_any: Cli, statement: str) -> None:
    _record_programme(cli_any)
    before = cli_any.history()
    errors: tuple[type[Exception], ...] = (sqlite3.DatabaseError, psycopg.Error)
    with pytest.raises(errors, match="append-only"):
        _tamper(cli_any.store, statement)
    assert cli_any.history() == before


def test_a_read_on_a_missing_store_exits_6_and_creates_nothing(cli: Cli, tmp_path) -> None:
    path = tmp_path / "store" / "opmodel.db"
    result = cli("show")
    assert result.exit_code == 6
    assert result.stderr.startswith("Error: ")
    assert "does not exist" in result.stderr
    assert not path.exists()


def test_an_unreachable_postgres_exits_6(cli: Cli) -> None:
    cli.store = "postgresql://nobody@127.0.0.1:1/none"
    result = cli("show")
    assert result.exit_code == 6
    assert "cannot connect" in result.stderr


def test_opening_for_read_an_uninitialised_store_is_refused(store_url: str) -> None:
    with pytest.raises(StoreUnavailable):
        Service.open(store_url, write=False)


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_sqlite_store_is_made_with_larger_pages(cli: Cli, tmp_path: Path) -> None:
    cli.store = str(tmp_path / "new.db")
    _record_programme(cli)
    assert _page_size(tmp_path / "new.db") == SQLITE_PAGE_SIZE


def test_an_existing_sqlite_store_keeps_its_page_size(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)  # made before opmodel's page size, with SQLite's own
    conn.execute("PRAGMA page_size=4096")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    cli.store = str(path)
    _record_programme(cli)
    cli.ok("projections", "rebuild")
    assert _page_size(path) == 4096
    assert cli.json("show")["clusters"][0]["members"] == ["DWP"]
