"""Shared fixtures: real stores (a SQLite file, a PostgreSQL schema) and the CLI runner.

PostgreSQL tests use ``OPMODEL_TEST_POSTGRES_URL`` (for example
``postgresql://postgres@127.0.0.1:5432/test``); each test gets a schema of its
own, dropped afterwards. Without the variable they are skipped with a reason,
except under ``CI=true``, where a missing or unreachable server fails them.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from opmodel_cli.main import main

POSTGRES_ENV = "OPMODEL_TEST_POSTGRES_URL"


def postgres_base_url() -> str | None:
    """The PostgreSQL server for tests, or skip (fail under CI) when there is none."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not url:
        if in_ci:
            pytest.fail(f"{POSTGRES_ENV} must be set in CI: PostgreSQL tests must run there")
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL tests skipped")
    return url


def _admin_execute(url: str, statement: str) -> None:
    import psycopg

    plain = url.split("?", 1)[0]
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL at {plain} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {plain} is unreachable: {exc}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema on the test PostgreSQL server, as a store URL."""
    base = postgres_base_url()
    assert base is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _admin_execute(base, f'CREATE SCHEMA "{schema}"')
    yield f"{base.split('?', 1)[0]}?schema={schema}"
    _admin_execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file (not yet created) as a store URL."""
    return f"sqlite:///{tmp_path / 'store' / 'opmodel.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
    else:
        url = request.getfixturevalue("postgres_url")
    return url


@dataclass
class Cli:
    """Runs ``opmodel --store URL …`` in-process with click's CliRunner."""

    store: str
    runner: CliRunner

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(
            main, ["--store", self.store, *args], env=env, catch_exceptions=False
        )

    def ok(self, *args: str) -> Result:
        """Run and assert exit 0."""
        result = self(*args)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def json(self, *args: str) -> Any:
        """Run with --json, assert exit 0, and parse stdout."""
        return json.loads(self.ok(*args, "--json").stdout)

    def history(self) -> list[dict[str, Any]]:
        """The full history as JSON."""
        rows: list[dict[str, Any]] = self.json("history")
        return rows


@pytest.fixture
def cli(sqlite_url: str) -> Cli:
    """The CLI on a fresh SQLite file, with a fixed actor."""
    return Cli(sqlite_url, CliRunner(env={"OPMODEL_ACTOR": "test-architect"}))


@pytest.fixture
def cli_any(store_url: str) -> Cli:
    """The CLI on each backend in turn."""
    return Cli(store_url, CliRunner(env={"OPMODEL_ACTOR": "test-architect"}))
