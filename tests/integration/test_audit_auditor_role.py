"""A read-only auditor on PostgreSQL (docs/audit.md): SELECT is all an audit needs.

A LOGIN role is granted exactly what the docs say (CONNECT, USAGE on the
schema, SELECT on its tables). Connected as that role, every read and audit
command works; a write command exits 6 saying the connection cannot write,
and nothing is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from opmodel.store import locate
from tests.conftest import Cli
from tests.integration.test_audit_tamper import (
    ACTOR_ENV,
    HEAD,
    record_programme,
    take_digest,
)

pytestmark = pytest.mark.postgres


@dataclass
class Audit:
    """The programme recorded by the superuser, and the same store seen by the auditor."""

    owner: Cli
    auditor: Cli
    role: str
    digest: str


def _admin(url: str, *statements: str) -> None:
    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def audit(postgres_url: str) -> Iterator[Audit]:
    owner = Cli(postgres_url, CliRunner(env=ACTOR_ENV))
    record_programme(owner)
    digest = take_digest(owner)

    location = locate(postgres_url)
    schema, database = location.schema, location.dbname
    role = f"opmodel_auditor_{uuid.uuid4().hex[:12]}"
    _admin(
        postgres_url,
        f'CREATE ROLE "{role}" LOGIN',
        f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT SELECT ON TABLES TO "{role}"',
    )
    url = f"postgresql://{role}@{location.host}:{location.port}/{database}?schema={schema}"
    try:
        yield Audit(owner, Cli(url, CliRunner(env=ACTOR_ENV)), role, digest)
    finally:
        _admin(
            postgres_url,
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" REVOKE ALL ON TABLES FROM "{role}"',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"',
            f'REVOKE ALL ON SCHEMA "{schema}" FROM "{role}"',
            f'REVOKE ALL ON DATABASE "{database}" FROM "{role}"',
            f'DROP OWNED BY "{role}"',
            f'DROP ROLE "{role}"',
        )


def test_the_auditor_role_cannot_write_the_events_table(audit: Audit) -> None:
    # the premise: this really is a connection that cannot write
    schema = locate(audit.auditor.store).schema
    insert = (
        f'INSERT INTO "{schema}".opmodel_events (originator_id, originator_version) VALUES (%s, 1)'
    )
    with (
        psycopg.connect(audit.auditor.store.split("?", 1)[0]) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(insert, (uuid.uuid4(),))  # type: ignore[arg-type]


def test_an_auditor_can_read_verify_digest_and_export(audit: Audit, tmp_path: Path) -> None:
    auditor, owner = audit.auditor, audit.owner
    assert auditor.json("show") == owner.json("show")
    history = auditor.history()
    assert history == owner.history()
    assert history[0]["subject"] == "cluster:Synergy"

    verified = auditor.ok("audit", "verify")
    assert verified.stdout.startswith(f"OK: {HEAD} events verified")
    auditor.ok("audit", "verify", "--digest", audit.digest)
    assert take_digest(auditor) == audit.digest

    pack = tmp_path / "pack"
    exported = auditor.json("audit", "export", "--out", str(pack))
    assert f"{exported['position']}:{exported['hash']}" == audit.digest
    assert len((pack / "events.jsonl").read_text().splitlines()) == HEAD
    assert json.loads((pack / "digest.json").read_text())["position"] == HEAD


def test_a_write_as_the_auditor_exits_6_and_writes_nothing(audit: Audit) -> None:
    before = (audit.owner.history(), audit.owner.json("projections", "status"))

    result = audit.auditor("cluster", "form", "Unity", "--effective", "2021-03-01")

    assert result.exit_code == 6, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    assert "permission denied for table opmodel_events" in result.stderr
    assert "cannot write" in result.stderr
    assert audit.role in result.stderr  # it names the store it was refused by
    assert (audit.owner.history(), audit.owner.json("projections", "status")) == before
    assert take_digest(audit.owner) == audit.digest
