"""CLI: ``opmodel replay | head -1`` and ``opmodel show | head`` end quietly, with exit 0.

When the reader of stdout goes away, the program stops writing and exits 0 with
nothing on stderr: no traceback, no "Exception ignored". Real processes, real pipes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.slow


def opmodel(store: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "opmodel_cli.main", "--store", store, *args]


def recorded(cli: Cli, tmp_path: Path, departments: int) -> Cli:
    """A store with a cluster and ``departments`` departments (two events each)."""
    entries = ["  - {cluster form: {name: Synergy}}"]
    for n in range(departments):
        entries.append(f"  - {{department register: {{code: D{n:04d}, name: Department {n}}}}}")
        entries.append(f"  - {{department join: {{code: D{n:04d}, cluster: Synergy}}}}")
    changes = tmp_path / "changes.yaml"
    changes.write_text("version: 1\nentries:\n" + "\n".join(entries) + "\n", encoding="utf-8")
    cli.ok("import", str(changes), "--json")
    return cli


@pytest.mark.parametrize("view", ["show", "history", "replay"])
def test_a_reader_gone_before_the_first_line_ends_the_program_quietly(
    cli: Cli, tmp_path: Path, view: str
) -> None:
    recorded(cli, tmp_path, departments=3)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write fails: EPIPE
    try:
        result = subprocess.run(
            opmodel(cli.store, view), stdout=write_end, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr.decode()) == (0, "")


def test_replay_piped_into_head_1_ends_quietly(cli: Cli, tmp_path: Path) -> None:
    # Far more than a pipe's buffer (64 KiB), so replay is still writing when head leaves.
    recorded(cli, tmp_path, departments=600)
    head = subprocess.Popen(
        opmodel(cli.store, "replay"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert head.stdout is not None
    assert head.stderr is not None
    first = head.stdout.readline()
    head.stdout.close()
    returncode = head.wait(timeout=120)
    stderr = head.stderr.read().decode()
    head.stderr.close()
    assert first.startswith(b"#1 ")
    assert (returncode, stderr) == (0, "")
