"""CLI: ``show --cluster``, ``history`` and its filters, ``projections status|rebuild|follow``.

One small programme is recorded once for the module (two clusters, three
departments, BEIS re-coded DSIT and moved, two contracts, two decisions, every
command with its own effective date and actor); the read-only tests share it,
the tests that write work on a copy. ``projections follow`` runs as a process
of its own, on SQLite (polling) and on PostgreSQL (woken by NOTIFY).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from opmodel.commands import build
from opmodel.service import Service, make_meta
from tests.conftest import Cli

ACTOR = "test-architect"

#: The programme: (command words and arguments, effective date, actor).
PROGRAMME: list[tuple[list[str], str, str]] = [
    (["cluster", "form", "Synergy"], "2021-03-01", "alice"),
    (["cluster", "form", "Matrix"], "2021-03-01", "alice"),
    (["department", "register", "BEIS", "--name", "Business, Energy and Industrial Strategy"],
     "2021-04-01", "alice"),
    (["department", "register", "DWP", "--name", "Work and Pensions"], "2021-04-01", "alice"),
    (["department", "register", "HO", "--name", "Home Office"], "2021-04-02", "bob"),
    (["department", "join", "BEIS", "Synergy"], "2021-05-01", "alice"),
    (["department", "join", "DWP", "Synergy"], "2021-05-01", "alice"),
    (["department", "join", "HO", "Matrix"], "2021-06-01", "bob"),
    (["cluster", "lead", "Synergy", "DWP"], "2021-07-01", "alice"),
    (["contract", "award", "SYN-ORACLE-2024", "--cluster", "Synergy", "--kind", "software",
      "--supplier", "Oracle", "--value", "710m", "--start", "2024-08-30",
      "--term-months", "120", "--extension-months", "24"], "2024-08-30", "bob"),
    (["contract", "award", "MAT-SAP-2025", "--cluster", "Matrix", "--kind", "software",
      "--supplier", "SAP", "--value", "90m", "--start", "2025-01-01", "--term-months", "60"],
     "2025-01-01", "carol"),
    (["contract", "extend", "SYN-ORACLE-2024", "--months", "6"], "2025-02-01", "bob"),
    (["decision", "propose", "Synergy runs on Oracle", "--context", "c", "--decision", "d",
      "--concerns", "contract:SYN-ORACLE-2024"], "2022-01-10", "alice"),
    (["decision", "propose", "Matrix runs on SAP", "--context", "c", "--decision", "d",
      "--concerns", "cluster:Matrix"], "2022-01-11", "alice"),
    (["department", "rename", "BEIS", "--code", "DSIT",
      "--name", "Science, Innovation and Technology"], "2023-02-07", "carol"),
    (["department", "move", "DSIT", "Matrix"], "2023-03-01", "carol"),
    (["department", "headcount", "DSIT", "1500"], "2023-04-01", "alice"),
]  # fmt: skip


def runner() -> CliRunner:
    return CliRunner(env={"OPMODEL_ACTOR": ACTOR})


@pytest.fixture(scope="module")
def programme_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The programme recorded in a SQLite file, once for the module."""
    path = tmp_path_factory.mktemp("programme") / "programme.db"
    record_programme(Cli(f"sqlite:///{path}", runner()))
    return path


@pytest.fixture
def shared(programme_file: Path) -> Cli:
    """The programme, for tests that only read."""
    return Cli(f"sqlite:///{programme_file}", runner())


@pytest.fixture
def copied(programme_file: Path, tmp_path: Path) -> Cli:
    """A copy of the programme of this test's own, for tests that write."""
    target = tmp_path / "programme.db"
    shutil.copy(programme_file, target)
    return Cli(f"sqlite:///{target}", runner())


def record_programme(cli: Cli) -> None:
    for words, effective, actor in PROGRAMME:
        cli.ok(*words, "--effective", effective, "--actor", actor)


def events_of(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["subject"], r["event"]) for r in rows]


def assert_fails(cli: Cli, *args: str, exit_code: int, naming: str) -> None:
    result = cli(*args)
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: "), result.stderr
    assert naming in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# --- show --cluster -------------------------------------------------------------------------


def test_show_cluster_narrows_to_the_cluster_its_members_and_its_decisions(shared: Cli) -> None:
    full = shared.json("show")
    synergy = shared.json("show", "--cluster", "synergy")
    matrix = shared.json("show", "--cluster", "MATRIX")

    assert synergy["position"] == matrix["position"] == full["position"]
    assert synergy["clusters"] == [c for c in full["clusters"] if c["name"] == "Synergy"]
    assert [c["name"] for c in matrix["clusters"]] == ["Matrix"]
    # DSIT (once BEIS) moved to Matrix: Synergy keeps DWP, its lead, only.
    assert [d["code"] for d in synergy["departments"]] == ["DWP"]
    assert [d["code"] for d in matrix["departments"]] == ["DSIT", "HO"]
    assert synergy["clusters"][0]["members"] == ["DWP"]
    assert [k["ref"] for k in synergy["clusters"][0]["contracts"]] == ["SYN-ORACLE-2024"]
    # A decision belongs to a cluster through what it concerns: its contract, or itself.
    assert [d["id"] for d in synergy["decisions"]] == ["DEC-0001"]
    assert [d["id"] for d in matrix["decisions"]] == ["DEC-0002"]
    assert [d["id"] for d in full["decisions"]] == ["DEC-0001", "DEC-0002"]


def test_show_of_an_unknown_cluster_exits_3(shared: Cli) -> None:
    assert_fails(shared, "show", "--cluster", "Nowhere", "--json", exit_code=3, naming="Nowhere")


# --- history filters ------------------------------------------------------------------------


def test_history_of_a_cluster_is_every_event_that_touches_it(shared: Cli) -> None:
    full = shared.history()
    rows = shared.json("history", "--cluster", "Synergy")
    assert rows == [r for r in full if r in rows]  # a subsequence, oldest first
    assert shared.json("history", "--cluster", "SYNERGY") == rows
    seen = events_of(rows)
    for expected in [
        ("cluster:Synergy", "Formed"),
        ("cluster:Synergy", "MemberAdmitted"),
        ("department:BEIS", "JoinedCluster"),
        ("department:DWP", "JoinedCluster"),
        ("cluster:Synergy", "LeadDesignated"),
        ("contract:SYN-ORACLE-2024", "Awarded"),
        ("department:DSIT", "MovedCluster"),  # moved out of Synergy
        ("cluster:Synergy", "MemberReleased"),
    ]:
        assert expected in seen, expected
    for other in [
        ("cluster:Matrix", "Formed"),
        ("department:HO", "JoinedCluster"),
        ("contract:MAT-SAP-2025", "Awarded"),
        ("department:DSIT", "HeadcountRecorded"),
    ]:
        assert other not in seen, other


def test_history_of_a_department_is_found_under_its_old_and_its_new_code(shared: Cli) -> None:
    full = shared.history()
    old = shared.json("history", "--department", "BEIS")
    new = shared.json("history", "--department", "dsit")
    assert old == new
    department_id = next(
        r["data"]["department_id"] for r in full if events_of([r]) == [("cluster:Synergy",
        "MemberAdmitted")] and r["data"]["department"] == "BEIS"
    )  # fmt: skip
    expected = [
        r
        for r in full
        if r["subject"] in ("department:BEIS", "department:DSIT")
        or r["data"].get("department_id") == department_id
    ]
    assert new == expected
    seen = events_of(new)
    for event in [
        ("department:BEIS", "Registered"),
        ("department:BEIS", "JoinedCluster"),
        ("cluster:Synergy", "MemberAdmitted"),
        ("department:BEIS", "Renamed"),  # renamed first, then re-coded, in one command
        ("department:DSIT", "Recoded"),
        ("department:DSIT", "MovedCluster"),
        ("cluster:Matrix", "MemberAdmitted"),
        ("department:DSIT", "HeadcountRecorded"),
    ]:
        assert event in seen, event
    dwp = events_of(shared.json("history", "--department", "DWP"))
    assert ("department:DWP", "Registered") in dwp
    assert not any(s in ("department:BEIS", "department:DSIT") for s, _ in dwp)


def test_history_of_a_contract(shared: Cli) -> None:
    rows = shared.json("history", "--contract", "SYN-ORACLE-2024")
    assert events_of(rows) == [
        ("contract:SYN-ORACLE-2024", "Awarded"),
        ("contract:SYN-ORACLE-2024", "Extended"),
        ("decision:DEC-0001", "Proposed"),  # it concerns the contract
    ]
    assert shared.json("history", "--contract", "syn-oracle-2024") == rows


def test_history_by_actor(shared: Cli) -> None:
    full = shared.history()
    for actor in ("alice", "bob", "carol"):
        rows = shared.json("history", "--actor", actor)
        assert rows
        assert rows == [r for r in full if r["actor"] == actor]
    assert shared.json("history", "--actor", "nobody") == []


def test_history_between_two_dates_includes_both(shared: Cli) -> None:
    full = shared.history()
    rows = shared.json("history", "--since", "2021-05-01", "--until", "2023-03-01")
    assert rows == [r for r in full if "2021-05-01" <= r["effective"] <= "2023-03-01"]
    effective = {r["effective"] for r in rows}
    assert {"2021-05-01", "2023-03-01"} <= effective
    assert "2021-04-02" not in effective
    assert "2023-04-01" not in effective
    since = shared.json("history", "--since", "2024-08-30")
    assert since == [r for r in full if r["effective"] >= "2024-08-30"]
    assert {r["event"] for r in since} >= {"Awarded", "Extended"}
    until = shared.json("history", "--until", "2021-03-01")
    assert until
    assert {r["effective"] for r in until} == {"2021-03-01"}


def test_history_limit_keeps_the_oldest(shared: Cli) -> None:
    full = shared.history()
    assert shared.json("history", "--limit", "3") == full[:3]
    assert shared.json("history", "--limit", str(len(full) + 5)) == full
    first_bob = shared.json("history", "--cluster", "Synergy", "--actor", "bob", "--limit", "1")
    assert first_bob == [r for r in shared.json("history", "--cluster", "Synergy")
                         if r["actor"] == "bob"][:1]  # fmt: skip
    assert events_of(first_bob) == [("contract:SYN-ORACLE-2024", "Awarded")]


@pytest.mark.parametrize(
    ("args", "naming"),
    [
        (["--since", "2023-13-01"], "--since"),
        (["--until", "01/02/2023"], "--until"),
        (["--since", "yesterday"], "--since"),
        (["--until", "2023-02-30"], "--until"),
    ],
)
def test_history_with_a_bad_date_exits_2(shared: Cli, args: list[str], naming: str) -> None:
    assert_fails(shared, "history", *args, "--json", exit_code=2, naming=naming)


def test_history_with_a_bad_limit_exits_2(shared: Cli) -> None:
    result = shared("history", "--limit", "0", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("option", "key"),
    [("--cluster", "Nowhere"), ("--department", "NOPE"), ("--contract", "NO-SUCH-REF")],
)
def test_history_of_an_unknown_thing_exits_3(shared: Cli, option: str, key: str) -> None:
    assert_fails(shared, "history", option, key, "--json", exit_code=3, naming=key)


# --- projections status / rebuild -------------------------------------------------------------


def head_of(url: str) -> int:
    with Service.open(url) as service:
        return service.head()


def test_projections_status_shows_every_read_model_at_the_head(shared: Cli) -> None:
    status = shared.json("projections", "status")
    head = head_of(shared.store)
    assert head >= len(PROGRAMME)
    assert {"operating_model", "history"} <= {s["name"] for s in status}
    for read_model in status:
        assert read_model["position"] == read_model["head"] == head, read_model
        assert read_model["behind"] == 0
    assert shared.json("show")["position"] == head


def test_projections_rebuild_leaves_show_and_history_byte_for_byte_the_same(cli_any: Cli) -> None:
    record_programme(cli_any)
    show_before = cli_any.ok("show", "--json").stdout
    history_before = cli_any.ok("history", "--json").stdout
    names = [s["name"] for s in cli_any.json("projections", "status")]
    head = head_of(cli_any.store)

    summary = cli_any.json("projections", "rebuild")
    assert summary["rebuilt"] == names
    assert summary["events"] == summary["position"] == head
    assert cli_any.ok("show", "--json").stdout == show_before
    assert cli_any.ok("history", "--json").stdout == history_before

    assert cli_any.json("projections", "rebuild", "history")["rebuilt"] == ["history"]
    assert cli_any.ok("show", "--json").stdout == show_before
    assert cli_any.ok("history", "--json").stdout == history_before
    assert {s["position"] for s in cli_any.json("projections", "status")} == {head}


def test_projections_rebuild_of_an_unknown_read_model_exits_3(copied: Cli) -> None:
    status = copied.json("projections", "status")
    show = copied.ok("show", "--json").stdout
    assert_fails(copied, "projections", "rebuild", "nosuch", "--json", exit_code=3, naming="nosuch")
    assert copied.json("projections", "status") == status
    assert copied.ok("show", "--json").stdout == show


# --- projections follow ---------------------------------------------------------------------


def write_without_catching_up(url: str, *commands: tuple[str, dict[str, Any]]) -> int:
    """Store events as a writer that leaves the read models behind; returns the new head."""
    with Service.open(url, write=True) as service:
        for name, arguments in commands:
            command = build(name, arguments)
            meta = make_meta(effective=date(2025, 4, 1), actor="writer")
            service.app.execute(lambda uow, c=command, m=meta: c.run(service.app, uow, m))
        return service.head()


def start_follower(url: str, interval: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "opmodel_cli.main", "--store", url,
         "projections", "follow", "--interval", interval],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPMODEL_ACTOR": ACTOR},
    )  # fmt: skip


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll until ``condition`` holds; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"{what} did not happen within {seconds}s")
        time.sleep(0.05)
    return time.monotonic() - started


def caught_up(url: str, head: int) -> bool:
    with Service.open(url) as service:
        return all(s["position"] == head for s in service.status())


def stop_follower(follower: subprocess.Popen[str]) -> list[str]:
    follower.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = follower.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        follower.kill()
        follower.communicate()
        pytest.fail("projections follow did not stop on SIGTERM")
    assert follower.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stdout.strip().splitlines()


def test_projections_follow_on_sqlite_applies_what_other_processes_write(copied: Cli) -> None:
    url = copied.store
    follower = start_follower(url, "0.2")
    try:
        head = write_without_catching_up(
            url,
            ("funding grant", {"cluster": "Synergy", "amount": "1.5m"}),
            ("assurance rate", {"cluster": "Synergy", "rating": "amber"}),
        )
        wait_for(lambda: caught_up(url, head), 15, "the follower applying two events")
        synergy = copied.json("show", "--cluster", "Synergy")["clusters"][0]
        assert (synergy["funding_gbp"], synergy["rating"]) == ("1500000.00", "amber")
        # A writer that catches up itself, while the follower polls: applied once.
        for amount in ("1k", "2k", "3k"):
            copied.ok("funding", "grant", "Synergy", "--amount", amount)
    finally:
        lines = stop_follower(follower)
    assert lines[-1].startswith("stopped; applied ")
    assert any(line.startswith("applied ") for line in lines[:-1]), lines
    applied = int(lines[-1].split()[2])
    assert 2 <= applied <= 5, lines  # its two, and any of the writer's it got to first
    assert lines[-1].endswith(f"(head {head_of(url)})")
    assert_the_same_after_a_rebuild(copied)
    synergy = copied.json("show", "--cluster", "Synergy")["clusters"][0]
    assert synergy["funding_gbp"] == "1506000.00"


def assert_the_same_after_a_rebuild(cli: Cli) -> None:
    """Every event applied exactly once: a rebuild from zero changes nothing."""
    show, history = cli.ok("show", "--json").stdout, cli.ok("history", "--json").stdout
    assert [r["position"] for r in cli.history()] == list(range(1, head_of(cli.store) + 1))
    cli.ok("projections", "rebuild", "--json")
    assert (cli.ok("show", "--json").stdout, cli.ok("history", "--json").stdout) == (
        show,
        history,
    )


@pytest.mark.postgres
def test_projections_follow_on_postgres_wakes_on_notify(postgres_url: str) -> None:
    cli = Cli(postgres_url, runner())
    cli.ok("cluster", "form", "Synergy", "--effective", "2021-03-01")
    with Service.open(postgres_url) as service:
        channel = service.app.recorder.channel_name  # type: ignore[attr-defined]

        def listening() -> bool:
            with service.database.connect() as conn:
                return bool(
                    conn.execute(
                        text("SELECT count(*) FROM pg_stat_activity WHERE query = :q"),
                        {"q": f'LISTEN "{channel}"'},
                    ).scalar_one()
                )

        follower = start_follower(postgres_url, "30")
        try:
            wait_for(listening, 20, "the follower listening")
            head = write_without_catching_up(
                postgres_url, ("funding grant", {"cluster": "Synergy", "amount": "70k"})
            )
            # Far sooner than the 30 s it would wait without a notification.
            wait_for(lambda: caught_up(postgres_url, head), 8, "a NOTIFY waking the follower")
            assert cli.json("show")["clusters"][0]["funding_gbp"] == "70000.00"
        finally:
            lines = stop_follower(follower)
    assert lines[-1] == f"stopped; applied 1 events in all (head {head})"
    assert_the_same_after_a_rebuild(cli)
