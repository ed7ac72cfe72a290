"""Short commands import only what they use (docs/performance.md), and still work so.

The domain's aggregates are imported on first use (eventsourcing builds every
event class when its module is imported), rich only when something is drawn,
pydantic's models only by a write. In a fresh process, a stored event names
its class by topic, which imports the module it needs: these commands run in
processes of their own to show that nothing relied on an eager import.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

EAGER = (
    "opmodel.domain.cluster",
    "opmodel.domain.contract",
    "opmodel.domain.decision",
    "opmodel.domain.department",
    "opmodel.commands",
    "pydantic.main",
    "rich",
)


def loaded(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_reading_commands_import_no_aggregate_no_validation_model_and_no_rich() -> None:
    modules = loaded(
        "import opmodel.service, opmodel.audit.integrity, opmodel_cli.main, opmodel_cli.render"
    )
    assert not {m for m in modules if m.startswith(EAGER)}


def test_a_department_write_imports_the_department_aggregate_only() -> None:
    modules = loaded("import opmodel.application, opmodel.commands, opmodel.domain.department")
    domain = {m for m in modules if m.startswith("opmodel.domain.")}
    assert domain == {
        "opmodel.domain.base",
        "opmodel.domain.department",
        "opmodel.domain.values",
    }


def opmodel(store: Path, *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "opmodel_cli.main", "--store", str(store), *args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPMODEL_ACTOR": "test-architect"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_fresh_processes_write_read_rebuild_and_verify(tmp_path: Path) -> None:
    store = tmp_path / "opmodel.db"
    opmodel(store, "cluster", "form", "Synergy")
    opmodel(store, "department", "register", "DWP", "--name", "Work and Pensions")
    opmodel(store, "department", "join", "DWP", "Synergy")
    opmodel(store, "department", "headcount", "DWP", "1200")
    opmodel(store, "decision", "propose", "Oracle", "--context", "c", "--decision", "d")
    rebuilt = opmodel(store, "projections", "rebuild")
    assert rebuilt["events"] == rebuilt["position"] > 0
    model = opmodel(store, "show")
    assert model["clusters"][0]["members"] == ["DWP"]
    assert model["departments"][0]["headcount"] == 1200
    report = opmodel(store, "audit", "verify")
    assert report["ok"] is True
    assert report["events"] == rebuilt["events"]


COLLECTOR_PROBE = """
import atexit, gc, sys
from opmodel_cli.main import run
atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr))
sys.argv = ["opmodel", *sys.argv[1:]]
run()
"""


def collector_at_exit(*args: str) -> tuple[int, str]:
    """Run the ``opmodel`` program; its exit code and the collector's state at exit."""
    result = subprocess.run(
        [sys.executable, "-c", COLLECTOR_PROBE, *args], capture_output=True, text=True
    )
    return result.returncode, result.stderr.strip().splitlines()[-1]


def test_the_program_collects_again_once_the_store_is_open(tmp_path: Path) -> None:
    # Held during start-up, then frozen and enabled: a long command keeps collecting.
    store = str(tmp_path / "opmodel.db")
    assert collector_at_exit("--store", store, "init", "--json") == (0, "True True")
    assert collector_at_exit("--store", store, "projections", "status") == (0, "True True")


def test_the_program_leaves_nothing_for_the_collection_at_exit() -> None:
    # --help opens no store: the collector stays held, and all is frozen at exit.
    assert collector_at_exit("--help") == (0, "False True")


def test_calling_main_directly_leaves_the_collector_alone(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opmodel_cli.main import main

    before = gc.get_freeze_count()
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "s.db"), "init"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()
    assert gc.get_freeze_count() == before
