"""CLI: what every write command carries and prints, how every command fails,
and the shapes of ``show --json`` and ``history --json`` (SPEC §3, §6).
"""

from __future__ import annotations

import getpass
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.cli.support import (
    assert_nothing_written,
    assert_rejected,
    everything_visible,
    recorded_store,
    restored,
)
from tests.conftest import Cli

HISTORY_KEYS = {
    "position", "recorded_at", "effective", "actor", "reason", "source",
    "command_id", "subject", "event", "summary", "data",
}  # fmt: skip
WRITE_REPORT_KEYS = {"command", "command_id", "positions", "result"}
MONEY = re.compile(r"^\d+\.\d{2}$")


# --- helpers ---------------------------------------------------------------------------


def oracle_award(*extra: str) -> tuple[str, ...]:
    return (
        "contract", "award", "SYN-ORACLE-2024", "--cluster", "Synergy", "--kind", "software",
        "--supplier", "Oracle", "--value", "£710m", "--start", "2024-08-30",
        "--term-months", "120", "--extension-months", "24", *extra,
    )  # fmt: skip


def build_programme(cli: Cli) -> Cli:
    """A little of everything, so that every write command has something to act on.

    Synergy: DWP (lead) and HO members, MOJ registered but in no cluster, phase 1
    started and phase 2 planned, Oracle awarded with IBM bundled, the 2023 ERP
    notice tendered. Matrix formed and empty. DEC-0001 proposed; DEC-0002 and
    DEC-0003 accepted.
    """
    since = ("--effective", "2021-03-01")
    cli.ok("cluster", "form", "Synergy", *since)
    cli.ok("cluster", "form", "Matrix", *since)
    for code, name in (
        ("DWP", "Department for Work and Pensions"),
        ("HO", "Home Office"),
        ("MOJ", "Ministry of Justice"),
    ):
        cli.ok("department", "register", code, "--name", name, *since)
    cli.ok("department", "join", "DWP", "Synergy")
    cli.ok("department", "join", "HO", "Synergy")
    cli.ok("cluster", "lead", "Synergy", "DWP")
    cli.ok("phase", "plan", "Synergy", "1", "--name", "Mobilise and design")
    cli.ok("phase", "start", "Synergy", "1", "--effective", "2023-02-01")
    cli.ok("phase", "plan", "Synergy", "2", "--name", "Build and test")
    cli.ok(*oracle_award())
    cli.ok(
        "contract", "award", "SYN-IBM-2024", "--cluster", "Synergy",
        "--kind", "systems-integration", "--supplier", "IBM", "--value", "£710m",
        "--start", "2024-08-30", "--term-months", "60", "--extension-months", "24",
        "--bundled-with", "SYN-ORACLE-2024",
    )  # fmt: skip
    cli.ok(
        "contract", "tender", "SYN-ERP-2023", "--cluster", "Synergy", "--kind", "software",
        "--estimated-value", "933.65m",
    )  # fmt: skip
    for title in ("Home Office goes last", "Synergy adopts Oracle", "One Oracle tenancy"):
        cli.ok("decision", "propose", title, "--context", "Context.", "--decision", "Decision.")
    cli.ok("decision", "accept", "DEC-0002")
    cli.ok("decision", "accept", "DEC-0003")
    return cli


@pytest.fixture(scope="module")
def programme_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_programme)


@pytest.fixture
def programme(cli: Cli, programme_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_programme` records."""
    return restored(cli, programme_store)


EVERY_WRITE_COMMAND = [
    ("cluster", "form", "Defence", "--phases", "3"),
    ("cluster", "lead", "Synergy", "HO"),
    ("department", "register", "HMRC", "--name", "HM Revenue and Customs"),
    ("department", "rename", "HO", "--name", "Home Office (Borders)"),
    ("department", "headcount", "DWP", "90000"),
    ("department", "join", "MOJ", "Synergy"),
    ("department", "leave", "HO"),
    ("department", "move", "HO", "Matrix"),
    ("phase", "plan", "Synergy", "3", "--name", "Wave 1 (DWP live)"),
    ("phase", "start", "Synergy", "2"),
    ("phase", "complete", "Synergy", "1"),
    ("phase", "onboard", "Synergy", "1", "DWP"),
    (
        "contract", "tender", "MAT-WORKDAY-2023", "--cluster", "Matrix", "--kind", "software",
        "--estimated-value", "215.6m",
    ),
    (
        "contract", "award", "SYN-CAPGEMINI-2023", "--cluster", "Synergy",
        "--kind", "consultancy", "--supplier", "Capgemini", "--value", "£1.4m",
        "--start", "2023-02-01", "--term-months", "6",
    ),
    ("contract", "correct", "SYN-ORACLE-2024", "--value", "711m"),
    ("contract", "extend", "SYN-ORACLE-2024", "--months", "12"),
    ("contract", "vary", "SYN-IBM-2024", "--value", "120m", "--reason", "Scope added"),
    ("contract", "terminate", "SYN-IBM-2024"),
    ("decision", "propose", "Matrix adopts Workday", "--context", "C.", "--decision", "D."),
    ("decision", "accept", "DEC-0001"),
    ("decision", "reject", "DEC-0001"),
    ("decision", "supersede", "DEC-0002", "--by", "DEC-0003"),
    ("business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved"),
    ("funding", "grant", "Synergy", "--amount", "300m"),
    ("benefit", "realise", "Synergy", "--amount", "70k", "--kind", "cashable"),
    ("assurance", "rate", "Synergy", "--rating", "amber", "--assessor", "IPA"),
]  # fmt: skip


def command_id_of(args: tuple[str, ...]) -> str:
    return " ".join(args[:2])


# --- metadata ----------------------------------------------------------------------------


def test_actor_reason_effective_and_source_land_in_history(programme: Cli) -> None:
    outcome = programme.json(
        "cluster", "form", "Unity", "--actor", "programme-office",
        "--reason", "Shared Services Strategy assigns HMRC, DfT and MHCLG to Unity",
        "--effective", "2021-03-01", "--source", "https://www.gov.uk/shared-services-strategy",
    )  # fmt: skip

    [row] = [r for r in programme.history() if r["command_id"] == outcome["command_id"]]
    assert set(row) == HISTORY_KEYS
    assert row["actor"] == "programme-office"
    assert row["reason"] == "Shared Services Strategy assigns HMRC, DfT and MHCLG to Unity"
    assert row["effective"] == "2021-03-01"
    assert row["source"] == "https://www.gov.uk/shared-services-strategy"
    assert (row["subject"], row["event"]) == ("cluster:Unity", "Formed")
    assert row["position"] == outcome["positions"][0]
    assert "Unity" in row["summary"]


def test_the_actor_defaults_to_opmodel_actor_and_reason_and_source_to_null(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy")

    [row] = cli.history()
    assert row["actor"] == "test-architect"
    assert (row["reason"], row["source"]) == (None, None)


def test_without_opmodel_actor_the_actor_is_the_login_name(cli: Cli) -> None:
    result = cli("cluster", "form", "Synergy", env={"OPMODEL_ACTOR": ""})
    assert result.exit_code == 0, result.stderr

    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # a container with no login name
        login = "unknown"
    assert cli.history()[0]["actor"] == login


def test_a_given_actor_wins_over_opmodel_actor(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy", "--actor", "auditor-nao")

    assert cli.history()[0]["actor"] == "auditor-nao"


def test_effective_defaults_to_today_and_recorded_at_is_utc(cli: Cli) -> None:
    before = datetime.now(UTC)
    today_before = date.today()
    cli.ok("cluster", "form", "Synergy")
    today_after = date.today()
    after = datetime.now(UTC)

    [row] = cli.history()
    assert row["effective"] in {today_before.isoformat(), today_after.isoformat()}
    assert row["recorded_at"].endswith("Z")
    recorded = datetime.fromisoformat(row["recorded_at"].replace("Z", "+00:00"))
    assert before <= recorded <= after


def test_events_of_one_command_share_its_id_and_positions_only_increase(
    programme: Cli,
) -> None:
    moved = programme.json("department", "move", "HO", "Matrix")
    formed = programme.json("cluster", "form", "Unity")

    history = programme.history()
    positions = [row["position"] for row in history]
    assert positions == sorted(set(positions))
    moved_rows = [r for r in history if r["command_id"] == moved["command_id"]]
    assert len(moved_rows) == 3
    assert {r["position"] for r in moved_rows} <= set(moved["positions"])
    assert moved["command_id"] != formed["command_id"]
    assert history[-1]["command_id"] == formed["command_id"]


def test_every_position_a_write_reports_is_a_row_of_history(cli: Cli) -> None:
    # SPEC §5: the audit history has one row per event.
    reported = cli.json("department", "register", "DWP", "--name", "Department for Work")
    reported_too = cli.json("decision", "propose", "T", "--context", "C.", "--decision", "D.")

    shown = {row["position"] for row in cli.history()}
    assert set(reported["positions"]) | set(reported_too["positions"]) <= shown


@pytest.mark.parametrize("typed", ["2023-02-30", "2024/08/30", "30 Aug 2024", "2024-13-01", ""])
def test_a_malformed_effective_date_exits_2_and_writes_nothing(programme: Cli, typed: str) -> None:
    assert_rejected(
        programme, "funding", "grant", "Synergy", "--amount", "300m", "--effective", typed,
        exit_code=2, naming=("--effective",),
    )  # fmt: skip


# --- output ------------------------------------------------------------------------------


@pytest.mark.parametrize("args", EVERY_WRITE_COMMAND, ids=command_id_of)
def test_every_write_command_prints_exactly_one_json_document_with_json(
    programme: Cli, args: tuple[str, ...]
) -> None:
    result = programme(*args, "--json")

    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    report = json.loads(result.stdout)  # one document: anything after it fails here
    assert set(report) == WRITE_REPORT_KEYS
    assert report["command"] == " ".join(args[:2])
    assert report["positions"]
    assert all(isinstance(p, int) for p in report["positions"])
    rows = [r for r in programme.history() if r["command_id"] == report["command_id"]]
    assert rows
    assert {r["position"] for r in rows} <= set(report["positions"])


def test_without_json_a_write_command_prints_one_line_naming_it_and_its_position(
    programme: Cli,
) -> None:
    result = programme.ok("funding", "grant", "Synergy", "--amount", "300m")

    [line] = result.stdout.splitlines()
    position = programme.history()[-1]["position"]
    assert "funding grant" in line
    assert f"position {position}" in line
    assert result.stderr == ""


def test_proposing_without_json_prints_the_new_decisions_id_first(programme: Cli) -> None:
    result = programme.ok(
        "decision", "propose", "Matrix adopts Workday", "--context", "C.", "--decision", "D."
    )

    assert result.stdout.startswith("DEC-0004")


@pytest.mark.parametrize(
    ("args", "exit_code", "naming"),
    [
        (("department", "join", "HMRC", "Synergy"), 3, "HMRC"),
        (("department", "leave", "DWP"), 4, "DWP"),
        (("contract", "extend", "SYN-ORACLE-2024", "--months", "25"), 4, "SYN-ORACLE-2024"),
        (("funding", "grant", "Synergy", "--amount", "lots"), 2, "lots"),
        (("decision", "accept", "DEC-0002"), 4, "DEC-0002"),
    ],
    ids=["not-found", "lead-leaves", "over-allowance", "bad-money", "accepted-twice"],
)
def test_with_json_an_error_still_goes_to_stderr_and_stdout_stays_empty(
    programme: Cli, args: tuple[str, ...], exit_code: int, naming: str
) -> None:
    assert_rejected(programme, *args, "--json", exit_code=exit_code, naming=(naming,))


@pytest.mark.parametrize(
    "args",
    [
        ("funding", "grant", "Synergy", "--amount", "9" * 40),
        ("funding", "grant", "Synergy", "--amount", "99999999999999999999999999bn"),
        ("cluster", "form", "Defence", "--phases", "99999999999999999999"),
        ("department", "headcount", "DWP", "99999999999999999999"),
        ("department", "register", "AB", "--name", "x" * 500),
        ("department", "register", "AB", "--name", "Two\nlines"),
        ("decision", "accept", "DEC-99999999999"),
        ("decision", "propose", "T", "--context", "C.", "--decision", "D.", "--concerns", ":"),
        ("decision", "propose", "T", "--context", "C.", "--decision", "D.",
         "--concerns", "phase:Synergy:x"),
        ("contract", "extend", "SYN-ORACLE-2024", "--months", "99999999999"),
        ("contract", "correct", "SYN-ORACLE-2024", "--start", "24-08-30"),
        ("phase", "plan", "Synergy", "0", "--name", "Before the start"),
        ("cluster", "lead", "", ""),
        ("department", "move", "HO", ""),
    ],
    ids=lambda a: " ".join(a[:2]) if isinstance(a, tuple) else str(a),
)  # fmt: skip
def test_no_bad_input_is_an_internal_error_or_shows_a_traceback(
    programme: Cli, args: tuple[str, ...]
) -> None:
    before = everything_visible(programme)

    result = programme(*args)

    assert result.exit_code in {2, 3, 4}, (result.exit_code, result.stderr)
    assert "Traceback" not in result.output
    assert "internal error" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert_nothing_written(programme, before)


# --- stores ------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", [("show", "--json"), ("history", "--json")])
def test_reading_a_store_that_does_not_exist_exits_6_and_creates_nothing(
    tmp_path: Path, reader: tuple[str, ...]
) -> None:
    from opmodel_cli.main import main

    missing = tmp_path / "nowhere" / "opmodel.db"
    runner = CliRunner(env={"OPMODEL_ACTOR": "test-architect"})

    result = runner.invoke(main, ["--store", str(missing), *reader], catch_exceptions=False)

    assert result.exit_code == 6, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "opmodel.db" in result.stderr
    assert not missing.exists()


# --- show --json -------------------------------------------------------------------------


def test_show_json_of_a_new_store_is_empty_at_position_0(cli: Cli) -> None:
    cli.ok("init")

    assert cli.json("show") == {
        "position": 0,
        "as_of": None,
        "as_recorded": None,
        "clusters": [],
        "departments": [],
        "decisions": [],
    }


def test_show_json_has_the_documented_shape_and_every_list_sorted(cli: Cli) -> None:
    for name in ("Unity", "Synergy", "Matrix"):
        cli.ok("cluster", "form", name)
    for code, name in (
        ("MOJ", "Ministry of Justice"),
        ("DWP", "Department for Work and Pensions"),
        ("HO", "Home Office"),
        ("DEFRA", "Department for Environment, Food and Rural Affairs"),
    ):
        cli.ok("department", "register", code, "--name", name)
        cli.ok("department", "join", code, "Synergy")
    cli.ok("cluster", "lead", "Synergy", "DWP")
    for number, name in (("3", "Wave 1 (DWP live)"), ("1", "Mobilise and design"), ("2", "Build")):
        cli.ok("phase", "plan", "Synergy", number, "--name", name)
    cli.ok(*oracle_award())
    cli.ok(
        "contract", "award", "SYN-IBM-2024", "--cluster", "Synergy",
        "--kind", "systems-integration", "--supplier", "IBM", "--value", "£710m",
        "--start", "2024-08-30", "--term-months", "60", "--extension-months", "24",
        "--bundled-with", "SYN-ORACLE-2024",
    )  # fmt: skip
    cli.ok(
        "contract", "award", "SYN-CAPGEMINI-2023", "--cluster", "Synergy",
        "--kind", "consultancy", "--supplier", "Capgemini", "--value", "£1.4m",
        "--start", "2023-02-01", "--term-months", "6",
    )  # fmt: skip
    for title in ("Synergy adopts Oracle", "Home Office goes last"):
        cli.ok(
            "decision", "propose", title, "--context", "C.", "--decision", "D.",
            "--concerns", "cluster:Synergy",
        )  # fmt: skip
    last = cli.json("funding", "grant", "Synergy", "--amount", "£300m")

    model = cli.json("show")

    assert set(model) == {
        "position", "as_of", "as_recorded", "clusters", "departments", "decisions",
    }  # fmt: skip
    assert model["position"] == last["positions"][-1]
    assert (model["as_of"], model["as_recorded"]) == (None, None)
    assert [c["name"] for c in model["clusters"]] == ["Matrix", "Synergy", "Unity"]
    synergy = model["clusters"][1]
    assert set(synergy) == {
        "name", "lead", "phase_count", "members", "phases", "contracts", "business_cases",
        "funding_gbp", "benefits_realised_gbp", "rating",
    }  # fmt: skip
    assert synergy["members"] == ["DEFRA", "DWP", "HO", "MOJ"]
    assert (synergy["lead"], synergy["phase_count"], synergy["rating"]) == ("DWP", 5, None)
    assert [p["number"] for p in synergy["phases"]] == [1, 2, 3]
    assert set(synergy["phases"][0]) == {
        "number", "name", "status", "planned_start", "planned_end", "started", "completed",
        "onboarded",
    }  # fmt: skip
    assert [c["ref"] for c in synergy["contracts"]] == [
        "SYN-CAPGEMINI-2023",
        "SYN-IBM-2024",
        "SYN-ORACLE-2024",
    ]
    assert synergy["contracts"][2] == {
        "ref": "SYN-ORACLE-2024", "kind": "software", "supplier": "Oracle",
        "value_gbp": "710000000.00", "start": "2024-08-30", "term_months": 120,
        "extension_months": 24, "extended_months": 0, "end": "2034-08-30",
        "max_end": "2036-08-30", "status": "active", "bundled_with": "SYN-IBM-2024",
    }  # fmt: skip
    assert synergy["funding_gbp"] == "300000000.00"
    assert synergy["benefits_realised_gbp"] == {"cashable": "0.00", "non-cashable": "0.00"}
    assert all(MONEY.match(c["value_gbp"]) for c in synergy["contracts"])
    assert [d["code"] for d in model["departments"]] == ["DEFRA", "DWP", "HO", "MOJ"]
    assert set(model["departments"][0]) == {
        "code", "name", "kind", "parent", "cluster", "headcount",
    }  # fmt: skip
    assert [d["id"] for d in model["decisions"]] == ["DEC-0001", "DEC-0002"]
    assert model["decisions"][0] == {
        "id": "DEC-0001",
        "title": "Synergy adopts Oracle",
        "status": "proposed",
        "concerns": ["cluster:Synergy"],
        "superseded_by": None,
    }


def test_show_json_for_one_cluster_holds_only_that_cluster(programme: Cli) -> None:
    model = programme.json("show", "--cluster", "matrix")

    assert [c["name"] for c in model["clusters"]] == ["Matrix"]


# --- history --json ----------------------------------------------------------------------


def test_history_json_lists_every_row_oldest_first_with_the_documented_keys(
    programme: Cli,
) -> None:
    history = programme.history()

    assert history
    assert all(set(row) == HISTORY_KEYS for row in history)
    assert [r["position"] for r in history] == sorted(r["position"] for r in history)
    assert history[0]["subject"] == "cluster:Synergy"
    assert history[0]["event"] == "Formed"
    assert all(isinstance(r["data"], dict) for r in history)
    assert all(r["summary"].strip().endswith(".") for r in history)
    assert all(re.fullmatch(r"[a-z]+:.+", r["subject"]) for r in history)
