"""CLI: ``phase plan|start|complete|onboard``.

Phases follow the plausible reading of Synergy's five delivery phases in
DOMAIN.md: 1 Mobilise and design; 2 Build and test; 3 Wave 1 (DWP live);
4 Wave 2 (MoJ, Defra); 5 Wave 3 (Home Office) and steady state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import (
    assert_rejected,
    recorded_store,
    restored,
)
from tests.conftest import Cli

# --- helpers ---------------------------------------------------------------------------


def phases_of(cli: Cli, cluster: str = "Synergy") -> dict[int, dict[str, Any]]:
    model = cli.json("show")
    found = next(c for c in model["clusters"] if c["name"] == cluster)
    return {phase["number"]: phase for phase in found["phases"]}


def build_synergy(cli: Cli) -> Cli:
    """Synergy led by DWP with MOJ and HO as members, DEFRA registered elsewhere, and
    phases 1-3 planned; no phase started."""
    since = ("--effective", "2021-03-01")
    cli.ok("cluster", "form", "Synergy", *since)
    cli.ok("cluster", "form", "Matrix", *since)
    for code, name in (
        ("DWP", "Department for Work and Pensions"),
        ("MOJ", "Ministry of Justice"),
        ("HO", "Home Office"),
        ("DEFRA", "Department for Environment, Food and Rural Affairs"),
    ):
        cli.ok("department", "register", code, "--name", name, *since)
    for code in ("DWP", "MOJ", "HO"):
        cli.ok("department", "join", code, "Synergy")
    cli.ok("department", "join", "DEFRA", "Matrix")
    cli.ok("cluster", "lead", "Synergy", "DWP")
    cli.ok(
        "phase", "plan", "Synergy", "1", "--name", "Mobilise and design",
        "--start", "2023-01-01", "--end", "2024-08-30",
    )  # fmt: skip
    cli.ok("phase", "plan", "Synergy", "2", "--name", "Build and test")
    cli.ok("phase", "plan", "Synergy", "3", "--name", "Wave 1 (DWP live)")
    return cli


@pytest.fixture(scope="module")
def synergy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_synergy)


@pytest.fixture
def synergy(cli: Cli, synergy_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_synergy` records."""
    return restored(cli, synergy_store)


def build_under_way(synergy: Cli) -> Cli:
    """Phase 1 complete, phase 2 in progress, phase 3 not started."""
    build_synergy(synergy)
    synergy.ok("phase", "start", "Synergy", "1", "--effective", "2023-02-01")
    synergy.ok("phase", "complete", "Synergy", "1", "--effective", "2024-08-30")
    synergy.ok("phase", "start", "Synergy", "2", "--effective", "2024-09-02")
    return synergy


@pytest.fixture(scope="module")
def under_way_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_under_way)


@pytest.fixture
def under_way(cli: Cli, under_way_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_under_way` records."""
    return restored(cli, under_way_store)


# --- phase plan --------------------------------------------------------------------------


def test_planning_a_phase_shows_it_planned_with_its_dates(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy")

    cli.ok(
        "phase", "plan", "Synergy", "1", "--name", "Mobilise and design",
        "--start", "2023-01-01", "--end", "2024-08-30",
    )  # fmt: skip

    assert phases_of(cli)[1] == {
        "number": 1,
        "name": "Mobilise and design",
        "status": "planned",
        "planned_start": "2023-01-01",
        "planned_end": "2024-08-30",
        "started": None,
        "completed": None,
        "onboarded": [],
    }
    last = cli.history()[-1]
    assert (last["subject"], last["event"]) == ("cluster:Synergy", "PhasePlanned")
    assert last["data"]["planned_start"] == "2023-01-01"
    assert "Synergy:1" in last["summary"]


def test_phases_are_listed_by_number_whatever_order_they_were_planned_in(synergy: Cli) -> None:
    synergy.ok("phase", "plan", "Synergy", "5", "--name", "Wave 3 (Home Office)")
    synergy.ok("phase", "plan", "Synergy", "4", "--name", "Wave 2 (MoJ, Defra)")

    assert list(phases_of(synergy)) == [1, 2, 3, 4, 5]


def test_re_planning_a_phase_before_it_starts_replaces_its_name_and_dates(synergy: Cli) -> None:
    synergy.ok(
        "phase", "plan", "Synergy", "2", "--name", "Build, test and migrate",
        "--start", "2024-09-01", "--end", "2025-12-31",
    )  # fmt: skip

    phase = phases_of(synergy)[2]
    assert (phase["name"], phase["planned_start"], phase["planned_end"]) == (
        "Build, test and migrate",
        "2024-09-01",
        "2025-12-31",
    )


def test_planning_a_phase_of_an_unknown_cluster_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "phase", "plan", "Unity", "1", "--name", "Mobilise",
        exit_code=3, naming=("Unity",),
    )  # fmt: skip


def test_planning_a_phase_beyond_the_clusters_phase_count_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "plan", "Synergy", "6", "--name", "Steady state",
        exit_code=4, naming=("Synergy", "6", "5"),
    )  # fmt: skip


def test_planning_a_phase_that_ends_before_it_starts_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "plan", "Synergy", "4", "--name", "Wave 2 (MoJ, Defra)",
        "--start", "2026-04-01", "--end", "2025-04-01",
        exit_code=4, naming=("Synergy:4", "2025-04-01", "2026-04-01"),
    )  # fmt: skip


def test_planning_a_phase_on_a_date_not_in_the_calendar_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "plan", "Synergy", "4", "--name", "Wave 2 (MoJ, Defra)",
        "--start", "2023-02-30", exit_code=2, naming=("2023-02-30",),
    )  # fmt: skip


def test_re_planning_a_started_phase_exits_4_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "plan", "Synergy", "2", "--name", "Build only",
        exit_code=4, naming=("Synergy:2", "started"),
    )  # fmt: skip


def test_planning_a_phase_without_a_name_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "phase", "plan", "Synergy", "4", exit_code=2, naming=("--name",))


def test_planning_a_phase_whose_number_is_not_a_number_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "plan", "Synergy", "four", "--name", "Wave 2",
        exit_code=2, naming=("four",),
    )  # fmt: skip


# --- phase start -------------------------------------------------------------------------


def test_starting_a_phase_marks_it_in_progress_on_the_effective_date(synergy: Cli) -> None:
    synergy.ok("phase", "start", "Synergy", "1", "--effective", "2023-02-01")

    phase = phases_of(synergy)[1]
    assert (phase["status"], phase["started"], phase["completed"]) == (
        "in_progress",
        "2023-02-01",
        None,
    )
    last = synergy.history()[-1]
    assert (last["event"], last["effective"], last["data"]) == (
        "PhaseStarted",
        "2023-02-01",
        {"number": 1},
    )


def test_starting_a_phase_of_an_unknown_cluster_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "phase", "start", "Unity", "1", exit_code=3, naming=("Unity",))


def test_starting_a_phase_never_planned_exits_3_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "start", "Synergy", "4", exit_code=3, naming=("Synergy:4", "plan")
    )


def test_starting_a_phase_before_the_previous_one_started_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "start", "Synergy", "2", exit_code=4, naming=("Synergy:2", "Synergy:1")
    )


def test_starting_a_phase_twice_exits_4_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "start", "Synergy", "2", "--effective", "2024-10-01",
        exit_code=4, naming=("Synergy:2", "2024-09-02"),
    )  # fmt: skip


def test_starting_a_phase_dated_before_the_previous_phase_started_exits_4_and_writes_nothing(
    under_way: Cli,
) -> None:
    # Phase 2 started on 2024-09-02: on 2024-06-01 phase 3 cannot have started already.
    assert_rejected(
        under_way, "phase", "start", "Synergy", "3", "--effective", "2024-06-01",
        exit_code=4, naming=("Synergy:3",),
    )  # fmt: skip


def test_starting_a_phase_on_a_date_not_in_the_calendar_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "phase", "start", "Synergy", "1", "--effective", "2023-02-30",
        exit_code=2, naming=("--effective", "2023-02-30"),
    )  # fmt: skip


# --- phase complete ----------------------------------------------------------------------


def test_completing_a_phase_marks_it_complete_on_the_effective_date(under_way: Cli) -> None:
    under_way.ok("phase", "complete", "Synergy", "2", "--effective", "2025-03-31")

    phases = phases_of(under_way)
    assert (phases[1]["status"], phases[1]["completed"]) == ("complete", "2024-08-30")
    assert (phases[2]["status"], phases[2]["started"], phases[2]["completed"]) == (
        "complete",
        "2024-09-02",
        "2025-03-31",
    )
    assert phases[3]["status"] == "planned"
    last = under_way.history()[-1]
    assert (last["event"], last["effective"]) == ("PhaseCompleted", "2025-03-31")


def test_completing_a_phase_of_an_unknown_cluster_exits_3_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(synergy, "phase", "complete", "Unity", "1", exit_code=3, naming=("Unity",))


def test_completing_a_phase_never_planned_exits_3_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "complete", "Synergy", "5", exit_code=3, naming=("Synergy:5",)
    )


def test_completing_a_phase_not_yet_started_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "phase", "complete", "Synergy", "1", exit_code=4, naming=("Synergy:1", "start")
    )


def test_completing_a_phase_before_the_previous_one_completed_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    synergy.ok("phase", "start", "Synergy", "1", "--effective", "2023-02-01")
    synergy.ok("phase", "start", "Synergy", "2", "--effective", "2024-01-08")

    assert_rejected(
        synergy, "phase", "complete", "Synergy", "2", exit_code=4, naming=("Synergy:2", "Synergy:1")
    )


def test_completing_a_phase_twice_exits_4_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "complete", "Synergy", "1",
        exit_code=4, naming=("Synergy:1", "2024-08-30"),
    )  # fmt: skip


def test_completing_a_phase_dated_before_it_started_exits_4_and_writes_nothing(
    under_way: Cli,
) -> None:
    # Phase 2 started on 2024-09-02; it cannot have completed on 2024-01-01.
    assert_rejected(
        under_way, "phase", "complete", "Synergy", "2", "--effective", "2024-01-01",
        exit_code=4, naming=("Synergy:2",),
    )  # fmt: skip


# --- phase onboard -----------------------------------------------------------------------


def test_onboarding_a_member_lists_it_on_the_phase_in_progress(under_way: Cli) -> None:
    under_way.ok("phase", "onboard", "Synergy", "2", "dwp", "--effective", "2024-11-04")

    assert phases_of(under_way)[2]["onboarded"] == ["DWP"]
    last = under_way.history()[-1]
    assert (last["subject"], last["event"], last["effective"]) == (
        "cluster:Synergy",
        "DepartmentOnboarded",
        "2024-11-04",
    )
    assert (last["data"]["department"], last["data"]["number"]) == ("DWP", 2)


def test_onboarded_departments_are_listed_by_code(under_way: Cli) -> None:
    under_way.ok("phase", "onboard", "Synergy", "2", "MOJ")
    under_way.ok("phase", "onboard", "Synergy", "2", "DWP")

    assert phases_of(under_way)[2]["onboarded"] == ["DWP", "MOJ"]


def test_onboarding_into_an_unknown_cluster_exits_3_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Unity", "2", "DWP", exit_code=3, naming=("Unity",)
    )


def test_onboarding_an_unknown_department_exits_3_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "2", "HMRC", exit_code=3, naming=("HMRC",)
    )


def test_onboarding_into_a_phase_never_planned_exits_3_and_writes_nothing(
    under_way: Cli,
) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "4", "DWP", exit_code=3, naming=("Synergy:4",)
    )


def test_onboarding_into_a_phase_not_yet_started_exits_4_and_writes_nothing(
    under_way: Cli,
) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "3", "DWP",
        exit_code=4, naming=("DWP", "Synergy:3", "not started"),
    )  # fmt: skip


def test_onboarding_into_a_completed_phase_exits_4_and_writes_nothing(under_way: Cli) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "1", "DWP",
        exit_code=4, naming=("DWP", "Synergy:1", "completed"),
    )  # fmt: skip


def test_onboarding_a_department_of_another_cluster_exits_4_and_writes_nothing(
    under_way: Cli,
) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "2", "DEFRA",
        exit_code=4, naming=("DEFRA", "Synergy"),
    )  # fmt: skip


def test_onboarding_a_department_twice_in_one_cluster_exits_4_and_writes_nothing(
    under_way: Cli,
) -> None:
    under_way.ok("phase", "onboard", "Synergy", "2", "DWP")
    under_way.ok("phase", "complete", "Synergy", "2", "--effective", "2025-03-31")
    under_way.ok("phase", "start", "Synergy", "3", "--effective", "2025-04-01")

    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "3", "DWP",
        exit_code=4, naming=("DWP", "Synergy:2"),
    )  # fmt: skip


def test_onboarding_a_malformed_department_code_exits_2_and_writes_nothing(
    under_way: Cli,
) -> None:
    assert_rejected(
        under_way, "phase", "onboard", "Synergy", "2", "D.W.P", exit_code=2, naming=("D.W.P",)
    )
