"""CLI: ``init``, ``cluster form|lead``, ``department register|rename|headcount|join|leave|move``.

Each command: one success checked through ``show --json`` and ``history --json``,
then one test per way it can fail, each checking the exit code, the ``Error: …``
message on stderr, an empty stdout, and that nothing was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from opmodel_cli.main import main
from tests.cli.support import (
    assert_nothing_written,
    assert_rejected,
    everything_visible,
    recorded_store,
    restored,
)
from tests.conftest import Cli

DWP = "Department for Work and Pensions"
HO = "Home Office"
MOJ = "Ministry of Justice"
DEFRA = "Department for Environment, Food and Rural Affairs"
BEIS = "Department for Business, Energy and Industrial Strategy"
DSIT = "Department for Science, Innovation and Technology"
STRATEGY_LAUNCHED = "2021-03-01"


# --- helpers ---------------------------------------------------------------------------


def cluster_named(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in model["clusters"] if c["name"] == name)


def department_coded(model: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in model["departments"] if d["code"] == code)


def events_of(history: list[dict[str, Any]], command_id: str) -> list[tuple[str, str]]:
    return [(row["subject"], row["event"]) for row in history if row["command_id"] == command_id]


def build_synergy(cli: Cli) -> Cli:
    """Synergy (DWP lead, HO member) and an empty Matrix; MOJ and DEFRA registered, unattached."""
    since = ("--effective", STRATEGY_LAUNCHED)
    cli.ok("cluster", "form", "Synergy", *since)
    cli.ok("cluster", "form", "Matrix", *since)
    cli.ok("department", "register", "DWP", "--name", DWP, "--headcount", "90000", *since)
    cli.ok("department", "register", "HO", "--name", HO, *since)
    cli.ok("department", "register", "MOJ", "--name", MOJ, *since)
    cli.ok("department", "register", "DEFRA", "--name", DEFRA, *since)
    cli.ok("department", "join", "DWP", "Synergy")
    cli.ok("department", "join", "HO", "Synergy")
    cli.ok("cluster", "lead", "Synergy", "DWP")
    return cli


@pytest.fixture(scope="module")
def synergy_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_synergy)


@pytest.fixture
def synergy(cli: Cli, synergy_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_synergy` records."""
    return restored(cli, synergy_store)


# --- init ------------------------------------------------------------------------------


def test_init_creates_an_empty_store_and_reports_it_as_json(cli: Cli) -> None:
    report = cli.json("init")

    assert report == {"store": report["store"], "initialised": True, "position": 0}
    assert "opmodel.db" in report["store"]
    assert cli.history() == []
    model = cli.json("show")
    assert (model["clusters"], model["departments"], model["decisions"]) == ([], [], [])


def test_init_run_again_keeps_everything_already_recorded(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy")
    before = everything_visible(cli)

    report = cli.json("init")

    assert report["position"] == before[0][-1]["position"]
    assert_nothing_written(cli, before)


def test_init_on_an_unsupported_store_url_exits_6_naming_the_scheme() -> None:
    runner = CliRunner(env={"OPMODEL_ACTOR": "test-architect"})

    result = runner.invoke(
        main, ["--store", "mysql://programme@db.example/opmodel", "init"], catch_exceptions=False
    )

    assert result.exit_code == 6, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "mysql" in result.stderr
    assert "Traceback" not in result.output


# --- cluster form ----------------------------------------------------------------------


def test_forming_a_cluster_shows_it_with_five_phases_no_lead_and_no_members(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy", "--description", "DWP, HO, MoJ and Defra on Oracle")

    synergy = cluster_named(cli.json("show"), "Synergy")
    assert synergy["phase_count"] == 5
    assert (synergy["lead"], synergy["members"], synergy["phases"]) == (None, [], [])
    [formed] = cli.history()
    assert (formed["subject"], formed["event"]) == ("cluster:Synergy", "Formed")
    assert formed["data"]["description"] == "DWP, HO, MoJ and Defra on Oracle"
    assert "Synergy" in formed["summary"]


def test_forming_a_cluster_with_a_phase_count_keeps_that_count(cli: Cli) -> None:
    cli.ok("cluster", "form", "Defence", "--phases", "3")

    assert cluster_named(cli.json("show"), "Defence")["phase_count"] == 3
    assert cli.history()[0]["data"]["phase_count"] == 3


def test_forming_a_cluster_again_in_another_case_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(synergy, "cluster", "form", "SYNERGY", exit_code=4, naming=("Synergy",))


def test_forming_a_cluster_with_zero_phases_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "cluster", "form", "Defence", "--phases", "0", exit_code=2, naming=("phases",)
    )


def test_forming_a_cluster_with_a_blank_name_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "cluster", "form", "   ", exit_code=2, naming=("name", "blank"))


# --- cluster lead ----------------------------------------------------------------------


def test_designating_another_member_as_lead_replaces_the_previous_lead(synergy: Cli) -> None:
    result = synergy.ok("cluster", "lead", "Synergy", "ho", "--reason", "HO already on Oracle")

    assert "position" in result.stdout
    assert cluster_named(synergy.json("show"), "Synergy")["lead"] == "HO"
    last = synergy.history()[-1]
    assert (last["subject"], last["event"]) == ("cluster:Synergy", "LeadDesignated")
    assert last["data"]["department"] == "HO"
    assert last["reason"] == "HO already on Oracle"


def test_designating_a_lead_of_an_unknown_cluster_exits_3_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(synergy, "cluster", "lead", "Unity", "DWP", exit_code=3, naming=("Unity",))


def test_designating_an_unregistered_lead_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "cluster", "lead", "Synergy", "HMRC", exit_code=3, naming=("HMRC",))


def test_designating_a_lead_who_is_not_a_member_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    result = assert_rejected(
        synergy, "cluster", "lead", "Synergy", "MOJ", exit_code=4, naming=("MOJ", "Synergy")
    )
    assert "member" in result.stderr


def test_designating_a_lead_with_a_malformed_code_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(synergy, "cluster", "lead", "Synergy", "D", exit_code=2, naming=("'D'",))


# --- department register -----------------------------------------------------------------


def test_registering_a_department_upper_cases_its_code_and_shows_it_unattached(
    cli: Cli,
) -> None:
    cli.ok("department", "register", "moj", "--name", MOJ, "--headcount", "88000")

    assert cli.json("show")["departments"] == [
        {
            "code": "MOJ",
            "name": MOJ,
            "kind": "ministerial",
            "parent": None,
            "cluster": None,
            "headcount": 88000,
        }
    ]
    registered, claimed = cli.history()
    assert (registered["subject"], registered["event"]) == ("department:MOJ", "Registered")
    assert (claimed["subject"], claimed["event"]) == ("code:MOJ", "Claimed")
    assert registered["data"]["name"] == MOJ


def test_registering_a_non_ministerial_department_records_its_kind(cli: Cli) -> None:
    cli.ok(
        "department", "register", "HMRC", "--name", "HM Revenue and Customs",
        "--kind", "non-ministerial",
    )  # fmt: skip

    assert department_coded(cli.json("show"), "HMRC")["kind"] == "non-ministerial"


def test_registering_an_arms_length_body_names_its_parent_department(cli: Cli) -> None:
    cli.ok("department", "register", "DSIT", "--name", DSIT)

    cli.ok(
        "department", "register", "UKSA", "--name", "UK Space Agency",
        "--kind", "alb", "--parent", "dsit",
    )  # fmt: skip

    uksa = department_coded(cli.json("show"), "UKSA")
    assert (uksa["kind"], uksa["parent"]) == ("alb", "DSIT")


def test_registering_a_department_twice_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "register", "dwp", "--name", "Work and Pensions",
        exit_code=4, naming=("DWP", "already registered"),
    )  # fmt: skip


@pytest.mark.parametrize("code", ["D", "DW P", "DEPARTMENT-FOR", "DWP!"])
def test_registering_a_malformed_code_exits_2_and_writes_nothing(synergy: Cli, code: str) -> None:
    assert_rejected(
        synergy, "department", "register", code, "--name", DWP, exit_code=2, naming=(code,)
    )


def test_registering_an_unknown_kind_exits_2_and_writes_nothing(synergy: Cli) -> None:
    result = assert_rejected(
        synergy, "department", "register", "HMRC", "--name", "HM Revenue and Customs",
        "--kind", "agency", exit_code=2, naming=("kind", "agency"),
    )  # fmt: skip
    assert "non-ministerial" in result.stderr


def test_registering_without_a_name_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "register", "HMRC", exit_code=2, naming=("--name",))


def test_registering_an_arms_length_body_without_a_parent_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "register", "LAA", "--name", "Legal Aid Agency", "--kind", "alb",
        exit_code=4, naming=("LAA", "--parent"),
    )  # fmt: skip


def test_registering_a_ministerial_department_with_a_parent_exits_4_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "register", "HMRC", "--name", "HM Revenue and Customs",
        "--parent", "DWP", exit_code=4, naming=("HMRC", "alb"),
    )  # fmt: skip


def test_registering_an_arms_length_body_of_an_unknown_parent_exits_3_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "register", "UKSA", "--name", "UK Space Agency",
        "--kind", "alb", "--parent", "BEIS", exit_code=3, naming=("BEIS",),
    )  # fmt: skip


def test_registering_a_negative_headcount_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "register", "HMRC", "--name", "HM Revenue and Customs",
        "--headcount", "-1", exit_code=2, naming=("headcount",),
    )  # fmt: skip


# --- department rename -------------------------------------------------------------------


def test_renaming_a_department_keeps_its_code_and_cluster(synergy: Cli) -> None:
    synergy.ok("department", "rename", "HO", "--name", "Home Office (Migration and Borders)")

    ho = department_coded(synergy.json("show"), "HO")
    assert (ho["name"], ho["cluster"]) == ("Home Office (Migration and Borders)", "Synergy")
    last = synergy.history()[-1]
    assert (last["subject"], last["event"]) == ("department:HO", "Renamed")
    assert (last["data"]["old_name"], last["data"]["name"]) == (HO, ho["name"])


def test_recoding_a_department_moves_its_history_and_membership_to_the_new_code(
    cli: Cli,
) -> None:
    since = ("--effective", STRATEGY_LAUNCHED)
    cli.ok("cluster", "form", "Matrix", *since)
    cli.ok("department", "register", "BEIS", "--name", BEIS, "--headcount", "5000", *since)
    cli.ok("department", "join", "BEIS", "Matrix", *since)

    outcome = cli.json(
        "department", "rename", "BEIS", "--code", "dsit", "--name", DSIT,
        "--effective", "2023-02-07", "--reason", "BEIS split into DSIT, DESNZ and DBT",
    )  # fmt: skip

    model = cli.json("show")
    assert [d["code"] for d in model["departments"]] == ["DSIT"]
    dsit = department_coded(model, "DSIT")
    assert (dsit["name"], dsit["cluster"], dsit["headcount"]) == (DSIT, "Matrix", 5000)
    assert cluster_named(model, "Matrix")["members"] == ["DSIT"]
    events = [row["event"] for row in cli.json("history", "--department", "DSIT")]
    assert events[0] == "Registered"
    assert {"JoinedCluster", "Renamed", "Recoded"} <= set(events)
    assert ("department:DSIT", "Recoded") in events_of(cli.history(), outcome["command_id"])


def test_renaming_an_unknown_department_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "rename", "DLUHC", "--name", "Ministry of Housing",
        exit_code=3, naming=("DLUHC",),
    )  # fmt: skip


def test_renaming_with_neither_a_name_nor_a_code_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "rename", "HO", exit_code=2, naming=("HO", "--name", "--code")
    )


def test_recoding_to_a_code_in_use_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "rename", "MOJ", "--code", "HO",
        exit_code=4, naming=("MOJ", "HO"),
    )  # fmt: skip


def test_recoding_to_a_malformed_code_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "rename", "MOJ", "--code", "M", exit_code=2, naming=("'M'",)
    )


# --- department headcount ----------------------------------------------------------------


def test_recording_a_headcount_shows_it_on_the_department(synergy: Cli) -> None:
    synergy.ok("department", "headcount", "MOJ", "88000", "--source", "MoJ annual report")

    assert department_coded(synergy.json("show"), "MOJ")["headcount"] == 88000
    last = synergy.history()[-1]
    assert (last["subject"], last["event"], last["data"]) == (
        "department:MOJ",
        "HeadcountRecorded",
        {"headcount": 88000},
    )


def test_recording_the_headcount_of_an_unknown_department_exits_3_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "headcount", "HMRC", "60000", exit_code=3, naming=("HMRC",)
    )


def test_recording_a_negative_headcount_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "headcount", "MOJ", "-5", exit_code=2, naming=("-5",))


def test_recording_a_headcount_that_is_not_a_number_exits_2_and_writes_nothing(
    synergy: Cli,
) -> None:
    assert_rejected(
        synergy, "department", "headcount", "MOJ", "lots", exit_code=2, naming=("lots",)
    )


# --- department join ---------------------------------------------------------------------


def test_joining_a_cluster_adds_the_member_in_one_command_ignoring_the_clusters_case(
    synergy: Cli,
) -> None:
    outcome = synergy.json("department", "join", "MOJ", "synergy")

    model = synergy.json("show")
    assert cluster_named(model, "Synergy")["members"] == ["DWP", "HO", "MOJ"]
    assert department_coded(model, "MOJ")["cluster"] == "Synergy"
    assert events_of(synergy.history(), outcome["command_id"]) == [
        ("department:MOJ", "JoinedCluster"),
        ("cluster:Synergy", "MemberAdmitted"),
    ]
    assert outcome["positions"] == sorted(outcome["positions"])
    assert len(outcome["positions"]) == 2


def test_joining_a_second_cluster_exits_4_suggests_a_move_and_writes_nothing(
    synergy: Cli,
) -> None:
    result = assert_rejected(
        synergy, "department", "join", "HO", "Matrix", exit_code=4, naming=("HO", "Synergy")
    )
    assert "move" in result.stderr


def test_joining_with_an_unknown_department_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "join", "HMRC", "Synergy", exit_code=3, naming=("HMRC",))


def test_joining_an_unknown_cluster_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "join", "MOJ", "Unity", exit_code=3, naming=("Unity",))


def test_joining_with_a_malformed_code_exits_2_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "join", "M_J", "Synergy", exit_code=2, naming=("'M_J'",))


# --- department leave --------------------------------------------------------------------


def test_leaving_a_cluster_removes_the_member(synergy: Cli) -> None:
    outcome = synergy.json("department", "leave", "HO")

    model = synergy.json("show")
    assert cluster_named(model, "Synergy")["members"] == ["DWP"]
    assert department_coded(model, "HO")["cluster"] is None
    assert set(events_of(synergy.history(), outcome["command_id"])) == {
        ("cluster:Synergy", "MemberReleased"),
        ("department:HO", "LeftCluster"),
    }


def test_the_former_lead_can_leave_once_a_successor_is_designated(synergy: Cli) -> None:
    synergy.ok("cluster", "lead", "Synergy", "HO")

    synergy.ok("department", "leave", "DWP")

    synergy_now = cluster_named(synergy.json("show"), "Synergy")
    assert (synergy_now["lead"], synergy_now["members"]) == ("HO", ["HO"])


def test_the_lead_cannot_leave_before_a_successor_is_designated(synergy: Cli) -> None:
    result = assert_rejected(
        synergy, "department", "leave", "DWP", exit_code=4, naming=("DWP", "Synergy")
    )
    assert "lead" in result.stderr


def test_leaving_when_in_no_cluster_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "leave", "MOJ", exit_code=4, naming=("MOJ",))


def test_leaving_with_an_unknown_department_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "leave", "HMRC", exit_code=3, naming=("HMRC",))


# --- department move ---------------------------------------------------------------------


def test_moving_a_department_is_one_atomic_command_across_both_clusters(synergy: Cli) -> None:
    outcome = synergy.json("department", "move", "HO", "Matrix")

    model = synergy.json("show")
    assert cluster_named(model, "Synergy")["members"] == ["DWP"]
    assert cluster_named(model, "Matrix")["members"] == ["HO"]
    assert department_coded(model, "HO")["cluster"] == "Matrix"
    events = events_of(synergy.history(), outcome["command_id"])
    assert set(events) == {
        ("department:HO", "MovedCluster"),
        ("cluster:Synergy", "MemberReleased"),
        ("cluster:Matrix", "MemberAdmitted"),
    }
    assert len(outcome["positions"]) == 3


def test_moving_a_department_in_no_cluster_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "move", "MOJ", "Matrix", exit_code=4, naming=("MOJ",))


def test_moving_a_department_to_its_own_cluster_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "move", "HO", "Synergy", exit_code=4, naming=("HO", "Synergy")
    )


def test_moving_the_lead_away_exits_4_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(
        synergy, "department", "move", "DWP", "Matrix", exit_code=4, naming=("DWP", "lead")
    )


def test_moving_to_an_unknown_cluster_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "move", "HO", "Unity", exit_code=3, naming=("Unity",))


def test_moving_an_unknown_department_exits_3_and_writes_nothing(synergy: Cli) -> None:
    assert_rejected(synergy, "department", "move", "HMRC", "Matrix", exit_code=3, naming=("HMRC",))
