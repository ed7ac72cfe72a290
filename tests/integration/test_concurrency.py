"""Concurrent writers in real processes: nothing lost, nothing duplicated, ids in order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow

WRITERS = 6


def _opmodel(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "opmodel_cli.main", "--store", store, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OPMODEL_ACTOR": "concurrent-writer"},
        check=False,
    )


def _all_at_once(store: str, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: _opmodel(store, *args), commands))


def test_concurrent_proposals_get_distinct_decision_ids_in_order(cli_any: Cli) -> None:
    cli_any.ok("cluster", "form", "Synergy")
    results = _all_at_once(
        cli_any.store,
        [
            ["decision", "propose", f"Decision {n}", "--context", "c", "--decision", "d",
             "--concerns", "cluster:Synergy", "--json"]
            for n in range(WRITERS)
        ],
    )  # fmt: skip
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    ids = sorted(json.loads(r.stdout)["result"] for r in results)
    assert ids == [f"DEC-{n:04d}" for n in range(1, WRITERS + 1)]
    decisions = cli_any.json("show")["decisions"]
    assert sorted(d["id"] for d in decisions) == ids
    proposed = [h for h in cli_any.history() if h["event"] == "Proposed"]
    assert len(proposed) == WRITERS


def test_concurrent_joins_to_one_cluster_all_land_once(cli_any: Cli) -> None:
    cli_any.ok("cluster", "form", "Synergy")
    codes = [f"D{n}X" for n in range(WRITERS)]
    for code in codes:
        cli_any.ok("department", "register", code, "--name", f"Department {code}")
    results = _all_at_once(cli_any.store, [["department", "join", c, "Synergy"] for c in codes])
    assert [r.returncode for r in results] == [0] * WRITERS, [r.stderr for r in results]
    model = cli_any.json("show")
    assert model["clusters"][0]["members"] == sorted(codes)
    joined = [h for h in cli_any.history() if h["event"] == "JoinedCluster"]
    assert sorted(h["subject"] for h in joined) == sorted(f"department:{c}" for c in codes)


def test_the_same_department_joining_two_clusters_at_once_lands_in_exactly_one(
    cli_any: Cli,
) -> None:
    for name in ("Synergy", "Matrix"):
        cli_any.ok("cluster", "form", name)
    cli_any.ok("department", "register", "DWP", "--name", "Department for Work and Pensions")
    results = _all_at_once(
        cli_any.store,
        [["department", "join", "DWP", name] for name in ("Synergy", "Matrix")] * 2,
    )
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 4, 4, 4], [r.stderr for r in results]
    for result in results:
        if result.returncode:
            assert result.stderr.startswith("Error: department DWP is already a member")
    model = cli_any.json("show")
    members = {c["name"]: c["members"] for c in model["clusters"]}
    assert sorted(members.values()) == [[], ["DWP"]]
    assert len([h for h in cli_any.history() if h["event"] == "JoinedCluster"]) == 1


@pytest.mark.postgres
def test_a_large_import_saves_in_one_transaction_on_postgres(postgres_url: str, tmp_path) -> None:
    """Several megabytes in one save: psycopg's pipeline could stall on this; it must not."""
    lines = ["version: 1", "defaults: {actor: bulk, effective: 2024-01-01}", "entries:"]
    lines += [f"  - cluster form: {{name: C{c}}}" for c in range(5)]
    for n in range(8000):
        lines.append(f"  - department register: {{code: D{n:05d}, name: Department {n}}}")
        lines.append(f"  - department join: {{code: D{n:05d}, cluster: C{n % 5}}}")
    big = tmp_path / "bulk.yaml"
    big.write_text("\n".join(lines) + "\n")
    result = _opmodel(postgres_url, "import", str(big), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["entries"] == 16005
    assert summary["last_position"] == summary["events"] == 1 + 5 + 8000 * 4
    show = json.loads(_opmodel(postgres_url, "show", "--json").stdout)
    assert sum(len(c["members"]) for c in show["clusters"]) == 8000
