"""``kill -9`` at random moments of an import and of single writes: the store survives whole.

Each round starts ``opmodel import`` (a few hundred entries) or a single write
as a subprocess and kills it with SIGKILL after a seeded random delay. Then,
with no repair step, the store opens, ``audit verify`` exits 0 (events the
ledger has not reached are "not yet in the ledger", never a failure), and each
import landed whole or not at all. The slow variant runs more rounds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import Cli

ENTRIES = 200


def import_file(folder: Path, round_: int) -> Path:
    path = folder / f"round-{round_}.yaml"
    lines = ["version: 1", "entries:"]
    lines += [
        f"  - {{department register: {{code: K{round_:02d}{n:03d}, name: Department {n}}}}}"
        for n in range(ENTRIES)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def opmodel(store: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPMODEL_ACTOR": "killer"}
    return subprocess.Popen(
        [sys.executable, "-m", "opmodel_cli.main", "--store", store, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_rounds(store: str, folder: Path, rounds: int, seed: int) -> dict[int, str]:
    """Run ``rounds`` imports or single writes, each SIGKILLed at a random moment."""
    rng = random.Random(seed)
    kinds: dict[int, str] = {}
    for round_ in range(rounds):
        if rng.random() < 0.6:
            kinds[round_] = "import"
            process = opmodel(store, "import", str(import_file(folder, round_)), "--json")
        else:
            kinds[round_] = "write"
            code = f"K{round_:02d}999"
            process = opmodel(store, "department", "register", code, "--name", "Single")
        time.sleep(rng.uniform(0.3, 2.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    return kinds


def check_survived(store: str, kinds: dict[int, str]) -> None:
    cli = Cli(store, CliRunner(env={"OPMODEL_ACTOR": "checker"}))
    verified = cli("audit", "verify", "--json")  # no repair step first
    assert verified.exit_code == 0, (verified.stdout, verified.stderr)
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    cli.ok("show")
    cli.ok("projections", "update")
    assert json.loads(cli("audit", "verify", "--json").stdout)["pending"] == 0
    codes = [d["code"] for d in cli.json("show")["departments"]]
    for round_, kind in kinds.items():
        landed = sum(1 for c in codes if c.startswith(f"K{round_:02d}"))
        assert landed in ((0, ENTRIES) if kind == "import" else (0, 1)), (round_, landed)


def run(store: str, folder: Path, rounds: int, seed: int) -> None:
    Cli(store, CliRunner(env={"OPMODEL_ACTOR": "setup"})).ok("init")
    kinds = kill_rounds(store, folder, rounds, seed)
    check_survived(store, kinds)


def test_kill_9_during_imports_and_writes_leaves_a_store_that_verifies(
    store_url: str, tmp_path: Path
) -> None:
    run(store_url, tmp_path, rounds=8, seed=20240601)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("OPMODEL_SLOW"), reason="slow: set OPMODEL_SLOW=1")
def test_kill_9_many_times_leaves_a_store_that_verifies(store_url: str, tmp_path: Path) -> None:
    run(store_url, tmp_path, rounds=40, seed=7)
