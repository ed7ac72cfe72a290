"""Time travel through the CLI, on both backends: a made-up programme with backdated corrections.

The programme: two clusters, Meridian (three delivery phases) and Lattice, shared by the
Department for Coastal Affairs (DCA), the Department for Rural Infrastructure (DRI) and
the Tidal Survey Office (TSO). Its founding is imported in one go; the facts under test
are then recorded one command at a time, late, and corrected after the event, so the
two questions of SPEC §3 have different answers: *as of* a date (what we now believe
was true then) and *as recorded* at a moment or position (what the store said then).
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

FOUNDED = "2021-01-04"
LEDGER = "MER-LEDGER-2021"
NLA = {"code": "NLA", "name": "National Lighthouse Agency", "kind": "alb", "parent": "DCA"}

# Phase statuses, short, for tables of phases.
DONE, LIVE, PLAN = "complete", "in_progress", "planned"


@pytest.fixture
def cli(cli_any: Cli) -> Cli:
    """Every test of this module runs on each backend: a SQLite file, a PostgreSQL schema."""
    return cli_any


# --- helpers ---------------------------------------------------------------------------


def record(cli: Cli, command: str, *, effective: str, reason: str | None = None) -> list[int]:
    """Run one write command (as typed) with ``--effective``; returns the positions written."""
    extra = ["--reason", reason] if reason else []
    written: dict[str, Any] = cli.json(*shlex.split(command), "--effective", effective, *extra)
    positions: list[int] = written["positions"]
    assert positions, written
    return positions


def show(cli: Cli, options: str = "") -> dict[str, Any]:
    """``show --json`` with ``options`` (as typed)."""
    shown: dict[str, Any] = cli.json("show", *shlex.split(options))
    return shown


def fails(cli: Cli, code: int, command: str) -> str:
    """Run ``command``, expect exit ``code``, an ``Error:`` on stderr and nothing on stdout."""
    result = cli(*shlex.split(command))
    assert result.exit_code == code, (command, result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


def head(cli: Cli) -> int:
    position: int = cli.json("audit", "digest")["position"]
    return position


def cluster_of(model: dict[str, Any], code: str) -> str | None:
    found: str | None = next(d["cluster"] for d in model["departments"] if d["code"] == code)
    return found


def cluster(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in model["clusters"] if c["name"] == name)


def phase_view(model: dict[str, Any], name: str) -> list[tuple[str, list[str]]]:
    """Each phase's status and onboarded departments, in phase order."""
    return [(p["status"], p["onboarded"]) for p in cluster(model, name)["phases"]]


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def model_events(rows: Iterable[dict[str, Any]]) -> set[int]:
    """Positions of history rows about the model's things (not bookkeeping or imports)."""
    kinds = {"cluster", "department", "contract", "decision"}
    return {r["position"] for r in rows if r["subject"].split(":")[0] in kinds}


def entry(command: str, effective: str, **arguments: Any) -> dict[str, Any]:
    """One entry of an import file: ``command`` with its arguments, effective on a date."""
    return {command: arguments, "effective": effective}


def found_programme(cli: Cli, *more: dict[str, Any]) -> list[dict[str, Any]]:
    """Import two clusters, three departments and a lead each (early 2021), then ``more``,
    as one change; returns the history."""
    entries = [
        entry("cluster form", FOUNDED, name="Meridian", phases=3),
        entry("cluster form", FOUNDED, name="Lattice"),
        entry("department register", FOUNDED, code="DCA", name="Department for Coastal Affairs"),
        entry("department register", FOUNDED, code="DRI", name="Dept for Rural Infrastructure"),
        entry("department register", FOUNDED, code="TSO", name="Tidal Survey Office"),
        entry("department join", "2021-02-01", code="DCA", cluster="Meridian"),
        entry("department join", "2021-02-01", code="DRI", cluster="Meridian"),
        entry("department join", "2021-02-01", code="TSO", cluster="Lattice"),
        entry("cluster lead", "2021-02-01", name="Meridian", dept="DCA"),
        entry("cluster lead", "2021-02-01", name="Lattice", dept="TSO"),
        *more,
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "programme.json"
        path.write_text(json.dumps({"version": 1, "entries": entries}), encoding="utf-8")
        summary = cli.json("import", str(path))
    assert summary["entries"] == len(entries)
    return cli.history()


# --- a department moved, recorded late ----------------------------------------------------


def test_a_backdated_move_changes_the_past_as_of_but_not_as_recorded_before_it(cli: Cli) -> None:
    # Something effective later is recorded first; the move effective earlier comes after.
    found_programme(cli, entry("assurance rate", "2023-03-01", cluster="Lattice", rating="amber"))
    moved = record(cli, "department move DRI Lattice", effective="2022-07-01",
                   reason="Machinery-of-government change, recorded late")  # fmt: skip
    before, after = f"@{moved[0] - 1}", f"@{moved[-1]}"

    # As of a date: the old cluster before the move's date, the new one on and after it.
    assert cluster_of(show(cli, "--as-of 2021-01-31"), "DRI") is None  # not yet joined
    day_before = show(cli, "--as-of 2022-06-30")
    assert cluster_of(day_before, "DRI") == "Meridian"
    assert cluster(day_before, "Meridian")["members"] == ["DCA", "DRI"]
    assert cluster(day_before, "Lattice")["members"] == ["TSO"]
    for day in ("2022-07-01", "2023-01-01", "2024-12-31"):
        on_or_after = show(cli, f"--as-of {day}")
        assert on_or_after["as_of"] == day
        assert cluster_of(on_or_after, "DRI") == "Lattice", day
        assert cluster(on_or_after, "Meridian")["members"] == ["DCA"]
        assert cluster(on_or_after, "Lattice")["members"] == ["DRI", "TSO"]
    # The rating effective 2023 is not there as of 2022, though it was recorded earlier.
    assert cluster(show(cli, "--as-of 2022-12-31"), "Lattice")["rating"] is None
    assert cluster(show(cli, "--as-of 2023-03-01"), "Lattice")["rating"] == "amber"

    # As recorded before the move: the old cluster, even for a date after the move's date.
    believed = show(cli, f"--as-recorded {before} --as-of 2023-01-01")
    assert (believed["position"], believed["as_recorded"], believed["as_of"]) == (
        moved[0] - 1, before, "2023-01-01",
    )  # fmt: skip
    assert cluster_of(believed, "DRI") == "Meridian"
    assert cluster(believed, "Lattice")["members"] == ["TSO"]
    assert cluster_of(show(cli, f"--as-recorded {before}"), "DRI") == "Meridian"
    # As recorded once the move was: the new cluster from its date on, the old one before.
    assert cluster_of(show(cli, f"--as-recorded {after} --as-of 2023-01-01"), "DRI") == "Lattice"
    assert cluster_of(show(cli, f"--as-recorded {after} --as-of 2022-06-30"), "DRI") == "Meridian"
    # And the present agrees with the latest belief.
    now = show(cli)
    assert (now["as_of"], now["as_recorded"]) == (None, None)
    assert cluster_of(now, "DRI") == "Lattice"


def test_a_thing_exists_from_the_earliest_date_any_fact_about_it_takes_effect(cli: Cli) -> None:
    # The Lighthouse Agency is registered effective 2022, its joining backdated to mid-2021.
    found_programme(
        cli,
        entry("department register", "2022-01-01", **NLA),
        entry("department join", "2021-06-01", code="NLA", cluster="Meridian"),
    )
    assert "NLA" not in [d["code"] for d in show(cli, "--as-of 2021-05-31")["departments"]]
    joined = show(cli, "--as-of 2021-06-01")
    assert cluster_of(joined, "NLA") == "Meridian"
    assert cluster(joined, "Meridian")["members"] == ["DCA", "DRI", "NLA"]
    nla = next(d for d in joined["departments"] if d["code"] == "NLA")
    assert (nla["kind"], nla["parent"]) == ("alb", "DCA")


# --- a contract varied and corrected ---------------------------------------------------------

# (value, term, end, max_end) of the ledger contract, as it stood.
AS_AWARDED = ("100000000.00", 36, "2024-04-01", "2025-04-01")
TERM_CORRECTED = ("100000000.00", 48, "2025-04-01", "2026-04-01")
VARIED = ("120000000.00", 48, "2025-04-01", "2026-04-01")
VARIED_OLD_TERM = ("120000000.00", 36, "2024-04-01", "2025-04-01")
EXTENDED = ("120000000.00", 48, "2025-10-01", "2026-04-01")


def test_a_contract_varied_mid_term_and_corrected_later(cli: Cli) -> None:
    award = entry("contract award", "2021-04-01", ref=LEDGER, cluster="Meridian",
                  kind="software", supplier="Ledgerline", value="100m", start="2021-04-01",
                  term_months=36, extension_months=12)  # fmt: skip
    found_programme(cli, award)
    varied = record(cli, f"contract vary {LEDGER} --value 120m", effective="2022-10-01",
                    reason="Scope added: payroll for the arm's-length bodies")  # fmt: skip
    # The term was reported as 36 months; it was 48 from the start of 2022 (a change
    # notice the programme only found later).
    corrected = record(cli, f"contract correct {LEDGER} --term-months 48",
                       effective="2022-01-01", reason="Term misreported")  # fmt: skip
    extended = record(cli, f"contract extend {LEDGER} --months 6", effective="2024-12-01")

    def facts(options: str) -> tuple[Any, ...] | None:
        model = show(cli, options)
        k = next((k for c in model["clusters"] for k in c["contracts"] if k["ref"] == LEDGER), None)
        if k is None:
            return None
        return (k["value_gbp"], k["term_months"], k["end"], k["max_end"], k["status"])

    before_vary, before_fix, after_fix = (
        f"@{varied[0] - 1}", f"@{corrected[0] - 1}", f"@{corrected[-1]}",
    )  # fmt: skip
    expected = {
        # As of dates: before the award, around the correction, the variation, the extension.
        "--as-of 2021-03-31": None,
        "--as-of 2021-04-01": (*AS_AWARDED, "active"),
        "--as-of 2021-12-31": (*AS_AWARDED, "active"),
        "--as-of 2022-01-01": (*TERM_CORRECTED, "active"),
        "--as-of 2022-09-30": (*TERM_CORRECTED, "active"),
        "--as-of 2022-10-01": (*VARIED, "active"),
        "--as-of 2024-06-01": (*VARIED, "active"),
        "--as-of 2024-11-30": (*VARIED, "active"),
        "--as-of 2024-12-01": (*EXTENDED, "active"),
        # Expiry is judged on the as-of date: the last day of the term, and the day after.
        "--as-of 2025-10-01": (*EXTENDED, "active"),
        "--as-of 2025-10-02": (*EXTENDED, "expired"),
        # As recorded before the variation: the value as awarded, even for later dates.
        f"--as-recorded {before_vary} --as-of 2023-01-01": (*AS_AWARDED, "active"),
        # Before the correction: varied, but the 36-month term, so expired by mid-2024.
        f"--as-recorded {before_fix} --as-of 2024-06-01": (*VARIED_OLD_TERM, "expired"),
        f"--as-recorded {before_fix} --as-of 2024-03-31": (*VARIED_OLD_TERM, "active"),
        # After it: not expired; and the dates before its effective date are unchanged.
        f"--as-recorded {after_fix} --as-of 2024-06-01": (*VARIED, "active"),
        f"--as-recorded {after_fix} --as-of 2021-12-31": (*AS_AWARDED, "active"),
        # Before the extension was recorded, the corrected term had run out by mid-2025.
        f"--as-recorded @{extended[0] - 1} --as-of 2025-06-01": (*VARIED, "expired"),
        f"--as-recorded @{extended[-1]} --as-of 2025-06-01": (*EXTENDED, "active"),
    }
    for options, facts_then in expected.items():
        assert facts(options) == facts_then, options
    # Now: every fact applies, and the end (2025-10-01) is in the past.
    assert facts("") == (*EXTENDED, "expired")


# --- the model at a delivery phase ---------------------------------------------------------


def test_at_phase_shows_the_model_at_each_phase_start_and_completion(cli: Cli) -> None:
    def at(day: str, verb: str, number: int, **more: Any) -> dict[str, Any]:
        return entry(f"phase {verb}", day, cluster="Meridian", number=number, **more)

    rows = found_programme(
        cli,
        *(entry("phase plan", FOUNDED, cluster="Meridian", number=n, name=name)
          for n, name in ((1, "Mobilise"), (2, "Design and build"), (3, "Migrate"))),
        entry("phase plan", FOUNDED, cluster="Lattice", number=1, name="Discovery"),
        entry("department register", "2021-02-01", **NLA),
        entry("department join", "2021-02-01", code="NLA", cluster="Meridian"),
        at("2021-03-01", "start", 1),
        at("2021-05-01", "onboard", 1, dept="DCA"),
        at("2021-09-30", "complete", 1),
        at("2021-10-01", "start", 2),
        at("2022-01-15", "onboard", 2, dept="DRI"),
        at("2022-06-30", "complete", 2),
        at("2022-07-01", "start", 3),
        at("2022-09-01", "onboard", 3, dept="NLA"),
    )  # fmt: skip
    expected = {
        "Meridian:1:start": ("2021-03-01", [(LIVE, []), (PLAN, []), (PLAN, [])]),
        "Meridian:1": ("2021-09-30", [(DONE, ["DCA"]), (PLAN, []), (PLAN, [])]),
        "Meridian:2:start": ("2021-10-01", [(DONE, ["DCA"]), (LIVE, []), (PLAN, [])]),
        "Meridian:2": ("2022-06-30", [(DONE, ["DCA"]), (DONE, ["DRI"]), (PLAN, [])]),
        "Meridian:3:start": ("2022-07-01", [(DONE, ["DCA"]), (DONE, ["DRI"]), (LIVE, [])]),
    }
    for reference, (day, phases) in expected.items():
        model = show(cli, f"--at-phase {reference}")
        assert model["as_of"] == day, reference
        assert phase_view(model, "Meridian") == phases, reference
        assert model == show(cli, f"--as-of {day}"), reference  # the same question
    # The start and completion dates are shown as recorded.
    at_two = cluster(show(cli, "--at-phase Meridian:2"), "Meridian")["phases"]
    assert [(p["started"], p["completed"]) for p in at_two] == [
        ("2021-03-01", "2021-09-30"), ("2021-10-01", "2022-06-30"), (None, None),
    ]  # fmt: skip
    # Cluster names are matched ignoring case.
    assert show(cli, "--at-phase meridian:2")["as_of"] == "2022-06-30"
    # With --as-recorded before DRI's go-live was recorded: phase 2 not yet complete.
    (onboarded_dri,) = [r["position"] for r in rows if r["effective"] == "2022-01-15"]
    believed = show(cli, f"--at-phase Meridian:2 --as-recorded @{onboarded_dri - 1}")
    assert believed["as_of"] == "2022-06-30"
    assert phase_view(believed, "Meridian") == [(DONE, ["DCA"]), (LIVE, []), (PLAN, [])]
    # The present: phase 3 in progress with NLA live.
    assert phase_view(show(cli), "Meridian")[2] == (LIVE, ["NLA"])

    # Phase 3 has not completed: there is no model at its completion (a rule, exit 4).
    assert "Meridian:3" in fails(cli, 4, "show --at-phase Meridian:3")
    fails(cli, 4, "show --at-phase Lattice:1:start")  # planned, never started
    fails(cli, 3, "show --at-phase Lattice:2")  # never planned
    fails(cli, 3, "show --at-phase Nowhere:1")  # unknown cluster
    for malformed in ("Meridian", "Meridian:two", "Meridian:-1", "Meridian:2:end", "M:2:start:x"):
        fails(cli, 2, f"show --at-phase {malformed}")


# --- as recorded at a moment ---------------------------------------------------------------


def test_as_recorded_at_a_timestamp_or_a_date(cli: Cli) -> None:
    found_programme(cli)
    record(cli, "funding grant Meridian --amount 25m", effective="2021-06-01")
    record(cli, "funding grant Meridian --amount 5m", effective="2021-07-01")
    rows = cli.history()
    stamps = [(r["position"], moment(r["recorded_at"])) for r in rows]
    first, second = [r for r in rows if r["event"] == "FundingGranted"]

    def expected_at(t: datetime) -> int:
        """The last position recorded at or before ``t``, from the history."""
        return max((p for p, at in stamps if at <= t), default=0)

    def funding_at(t: str) -> tuple[int, str]:
        model = show(cli, f"--as-recorded {t}")
        assert model["as_recorded"] == t
        return model["position"], cluster(model, "Meridian")["funding_gbp"]

    # Exactly the moment an event was recorded: it is included.
    assert funding_at(first["recorded_at"]) == (first["position"], "25000000.00")
    assert funding_at(second["recorded_at"]) == (second["position"], "30000000.00")
    # A microsecond before the second grant: only the first.
    just_before = moment(second["recorded_at"]) - timedelta(microseconds=1)
    assert funding_at(just_before.isoformat().replace("+00:00", "Z")) == (
        expected_at(just_before), "25000000.00",
    )  # fmt: skip
    # The same moment written with another UTC offset.
    in_paris = moment(first["recorded_at"]).astimezone(timezone(timedelta(hours=1)))
    assert funding_at(in_paris.isoformat())[0] == first["position"]

    # A bare date is the end of that day (UTC).
    last_day = moment(rows[-1]["recorded_at"]).date()
    end_of_day = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), UTC)
    position, funding = funding_at(last_day.isoformat())
    assert position == expected_at(end_of_day - timedelta(microseconds=1)) == rows[-1]["position"]
    assert funding == "30000000.00"
    day_before = moment(rows[0]["recorded_at"]).date() - timedelta(days=1)
    empty = show(cli, f"--as-recorded {day_before.isoformat()}")
    assert empty["position"] == 0
    assert (empty["clusters"], empty["departments"], empty["decisions"]) == ([], [], [])


def test_as_recorded_at_a_whole_second_leaves_out_what_was_recorded_later(cli: Cli) -> None:
    # A timestamp to the whole second, as a person writes one (SPEC §3's own example,
    # 2024-01-31T12:00:00Z): what was recorded later in that second had not been then.
    found_programme(cli)
    record(cli, "funding grant Meridian --amount 25m", effective="2021-06-01")
    rows = cli.history()
    last = moment(rows[-1]["recorded_at"])
    whole = last.replace(microsecond=0)
    if whole == last:  # recorded on the second exactly (one chance in a million)
        whole -= timedelta(seconds=1)
    stamp = whole.strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = max((r["position"] for r in rows if moment(r["recorded_at"]) <= whole), default=0)
    assert expected < rows[-1]["position"]
    shown = show(cli, f"--as-recorded {stamp}")
    assert shown["position"] == expected, (stamp, [(r["position"], r["recorded_at"]) for r in rows])
    assert "25000000.00" not in [c["funding_gbp"] for c in shown["clusters"]]


def test_time_options_reject_bad_values(cli: Cli) -> None:
    found_programme(cli)
    top = head(cli)
    assert show(cli, f"--as-recorded @{top}")["position"] == top
    assert show(cli, "--as-recorded @0")["clusters"] == []
    assert str(top) in fails(cli, 3, f"show --as-recorded @{top + 1}")
    fails(cli, 2, "show --as-recorded @last")
    fails(cli, 2, "show --as-recorded 'last Tuesday'")
    fails(cli, 2, "show --as-recorded 2023-02-30")
    assert "2023-02-30" in fails(cli, 2, "show --as-of 2023-02-30")
    fails(cli, 2, "show --as-of 30/06/2023")
    fails(cli, 3, f"replay --until @{top + 1}")
    fails(cli, 3, f"diff @1 @{top + 1}")
    fails(cli, 2, "diff 2023-02-30 2024-01-01")
    fails(cli, 2, "diff yesterday 2024-01-01")
    fails(cli, 3, "diff phase:Nowhere:1 2024-01-01")


# --- diff ----------------------------------------------------------------------------------


def diff_programme(cli: Cli) -> int:
    """The programme through 2022: a move, a new lead, a phase completed, a variation, a
    decision accepted, a re-code. Returns the position of the variation."""
    rows = found_programme(
        cli,
        entry("phase plan", FOUNDED, cluster="Meridian", number=1, name="Mobilise"),
        entry("phase start", "2021-06-01", cluster="Meridian", number=1),
        entry("contract award", "2021-04-01", ref=LEDGER, cluster="Meridian", kind="software",
              supplier="Ledgerline", value="50m", start="2021-04-01", term_months=60),
        entry("decision propose", "2021-11-01", title="Move DRI to Lattice",
              context="Shared payroll", decision="DRI joins Lattice", concerns=["department:DRI"]),
        entry("department move", "2022-03-01", code="DRI", cluster="Lattice"),
        entry("cluster lead", "2022-04-01", name="Lattice", dept="DRI"),
        entry("phase complete", "2022-05-01", cluster="Meridian", number=1),
        entry("contract vary", "2022-06-01", ref=LEDGER, value="65m") | {"reason": "Indexation"},
        entry("decision accept", "2022-07-01", id="DEC-0001"),
    )  # fmt: skip
    record(cli, "department rename TSO --code TSA", effective="2022-08-01")
    (vary,) = [r["position"] for r in rows if r["event"] == "Varied"]
    return vary


def test_diff_names_what_moved_between_two_dates(cli: Cli) -> None:
    diff_programme(cli)
    top = head(cli)
    words = cli.ok("diff", "2022-01-01", "2023-01-01").stdout.splitlines()
    assert words[0] == f"From 2022-01-01 (position {top}) to 2023-01-01 (position {top}):"
    for sentence in (
        "DRI moved from Meridian to Lattice.",
        "The lead of Lattice changed from TSO to DRI.",
        "Phase Meridian:1 went from in_progress to complete.",
        f"Contract {LEDGER} value gbp changed from £50,000,000.00 to £65,000,000.00.",
        "DEC-0001 status changed from proposed to accepted.",
        "TSO was re-coded as TSA.",
    ):
        assert f"  {sentence}" in words, (sentence, words)
    # The re-code is one change, not TSO removed and TSA added.
    assert not [line for line in words if "TSA" in line and "re-coded" not in line], words

    as_json = cli.json("diff", "2022-01-01", "2023-01-01")
    assert as_json["from"] == {"point": "2022-01-01", "position": top, "as_of": "2022-01-01"}
    assert as_json["to"] == {"point": "2023-01-01", "position": top, "as_of": "2023-01-01"}
    assert [c["summary"] for c in as_json["changes"]] == [line.strip() for line in words[1:]]
    found = {
        (c["subject"], c.get("field")): (c["change"], c.get("before"), c.get("after"))
        for c in as_json["changes"]
    }
    assert found == {
        ("department:DRI", "cluster"): ("changed", "Meridian", "Lattice"),
        ("department:TSA", "code"): ("changed", "TSO", "TSA"),
        ("cluster:Lattice", "lead"): ("changed", "TSO", "DRI"),
        ("phase:Meridian:1", "status"): ("changed", "in_progress", "complete"),
        ("phase:Meridian:1", "completed"): ("changed", None, "2022-05-01"),
        (f"contract:{LEDGER}", "value_gbp"): ("changed", "50000000.00", "65000000.00"),
        ("decision:DEC-0001", "status"): ("changed", "proposed", "accepted"),
    }

    # The other way round: the same changes, undone.
    back = {c["summary"] for c in cli.json("diff", "2023-01-01", "2022-01-01")["changes"]}
    assert back >= {
        "DRI moved from Lattice to Meridian.",
        "TSA was re-coded as TSO.",
        "The lead of Lattice changed from DRI to TSO.",
        "DEC-0001 status changed from accepted to proposed.",
    }
    # A date against itself: nothing.
    assert cli.json("diff", "2022-06-01", "2022-06-01")["changes"] == []
    assert cli.ok("diff", "2022-06-01", "2022-06-01").stdout.splitlines()[1:] == [
        "  nothing changed."
    ]


def test_diff_between_positions_and_phases(cli: Cli) -> None:
    vary = diff_programme(cli)
    before = vary - 1
    by_position = cli.json("diff", f"@{before}", f"@{vary}")
    assert by_position["from"] == {"point": f"@{before}", "position": before, "as_of": None}
    assert by_position["to"] == {"point": f"@{vary}", "position": vary, "as_of": None}
    moved = [(c["subject"], c["field"], c["before"], c["after"]) for c in by_position["changes"]]
    assert moved == [(f"contract:{LEDGER}", "value_gbp", "50000000.00", "65000000.00")]
    assert cli.ok("diff", f"@{before}", f"@{vary}").stdout.splitlines() == [
        f"From @{before} (position {before}) to @{vary} (position {vary}):",
        f"  Contract {LEDGER} value gbp changed from £50,000,000.00 to £65,000,000.00.",
    ]

    # From the start of phase Meridian:1 to its completion.
    phased = cli.json("diff", "phase:Meridian:1:start", "phase:Meridian:1")
    assert (phased["from"]["as_of"], phased["to"]["as_of"]) == ("2021-06-01", "2022-05-01")
    summaries = [c["summary"] for c in phased["changes"]]
    assert "Phase Meridian:1 went from in_progress to complete." in summaries
    assert "DRI moved from Meridian to Lattice." in summaries
    assert "DEC-0001 'Move DRI to Lattice' appears, proposed." in summaries
    # The variation (June 2022) and the re-code (August) come after the phase completed.
    assert not [s for s in summaries if LEDGER in s or "re-coded" in s], summaries
    # From the phase's completion to a date: what came after, and not the phase.
    later = {c["summary"] for c in cli.json("diff", "phase:Meridian:1", "2022-12-31")["changes"]}
    assert later >= {
        "TSO was re-coded as TSA.",
        "DEC-0001 status changed from proposed to accepted.",
    }
    assert not [s for s in later if "Phase Meridian:1" in s], later


def test_diff_reads_the_re_coding_of_a_lead_as_one_change(cli: Cli) -> None:
    # TSO leads Lattice; in August 2022 it is re-coded TSA, and still leads Lattice.
    found_programme(cli)
    record(cli, "department rename TSO --code TSA", effective="2022-08-01")
    assert cluster(show(cli, "--as-of 2022-12-01"), "Lattice")["lead"] == "TSA"
    assert cluster(show(cli, "--as-of 2022-07-31"), "Lattice")["lead"] == "TSO"
    changes = cli.json("diff", "2022-01-01", "2022-12-01")["changes"]
    # The same department, under a new code: one change, not a new lead as well.
    assert [c["summary"] for c in changes] == ["TSO was re-coded as TSA."], changes


def test_diff_follows_a_re_coded_department_when_its_old_code_is_taken_again(cli: Cli) -> None:
    # TSO is re-coded TSA in August 2022; in 2023 a new body is registered as TSO.
    found_programme(cli)
    record(cli, "department rename TSO --code TSA", effective="2022-08-01")
    record(cli, "department register TSO --name 'Trade Standards Office'", effective="2023-01-01")
    before = show(cli, "--as-of 2022-01-01")["departments"]
    assert [(d["code"], d["name"]) for d in before][-1] == ("TSO", "Tidal Survey Office")

    changes = cli.json("diff", "2022-01-01", "2023-06-01")["changes"]
    summaries = {c["summary"] for c in changes}
    # The Tidal Survey Office kept its identity (and Lattice) under its new code; the
    # Trade Standards Office is new. Nothing was renamed, nobody left, no lead changed.
    assert {"TSO was re-coded as TSA.", "TSO was registered."} <= summaries, summaries
    assert not [c for c in changes if c.get("field") in ("name", "cluster", "lead")], changes
    assert "TSA was registered in Lattice." not in summaries, summaries


# --- replay --------------------------------------------------------------------------------


def test_replay_until_a_position_lists_each_event_and_what_it_changed(cli: Cli) -> None:
    found_programme(cli, entry("assurance rate", "2023-03-01", cluster="Lattice", rating="amber"))
    until = record(cli, "department move DRI Lattice", effective="2022-07-01")[-1]
    record(cli, "funding grant Lattice --amount 10m", effective="2023-04-01")

    steps = cli.json("replay", "--until", f"@{until}")
    rows = cli.history()
    history = {r["position"]: r for r in rows if r["position"] <= until}
    positions = [s["position"] for s in steps]
    # In position order (not effective order), up to P: events of the history, and every
    # event about the model among them (bookkeeping such as code claims aside).
    assert positions == sorted(set(positions))
    assert positions[-1] == until
    assert set(positions) <= set(history)
    assert model_events(history.values()) <= set(positions)
    for step in steps:
        row = history[step["position"]]
        for key in ("recorded_at", "effective", "actor", "event", "subject", "summary"):
            assert step[key] == row[key], (key, step, row)
    effective = [s["effective"] for s in steps if s["position"] in model_events(rows)]
    assert effective != sorted(effective)  # the backdated move comes after the 2023 rating

    def changes_of(event: str, subject: str) -> list[str]:
        (step,) = [s for s in steps if (s["event"], s["subject"]) == (event, subject)]
        return [c["summary"] for c in step["changes"]]

    assert changes_of("Formed", "cluster:Meridian") == ["Cluster Meridian was formed."]
    assert changes_of("Registered", "department:DRI") == ["DRI was registered."]
    assert changes_of("JoinedCluster", "department:DRI") == ["DRI joined Meridian."]
    assert changes_of("LeadDesignated", "cluster:Lattice") == [
        "The lead of Lattice changed from none to TSO."
    ]
    assert changes_of("AssuranceRated", "cluster:Lattice") == [
        "Lattice rating changed from none to amber."
    ]
    assert changes_of("MovedCluster", "department:DRI") == ["DRI moved from Meridian to Lattice."]
    # The funding granted after P is not replayed; without --until, it is, last.
    assert "FundingGranted" not in [s["event"] for s in steps]
    everything = cli.json("replay")
    assert [s["position"] for s in everything][: len(steps)] == positions
    assert everything[-1]["event"] == "FundingGranted"
    assert everything[-1]["position"] == head(cli)

    words = cli.ok("replay", "--until", f"@{until}").stdout.splitlines()
    formed = next(s for s in steps if s["subject"] == "cluster:Meridian")
    assert f"#{formed['position']} 2021-01-04 test-architect: {formed['summary']}" in words
    assert "    DRI moved from Meridian to Lattice." in words
    assert [line.split()[0] for line in words if line.startswith("#")] == [
        f"#{p}" for p in positions
    ]


# --- time travel reads, never writes -----------------------------------------------------------


def test_time_travel_never_changes_the_current_read_models(cli: Cli) -> None:
    vary = diff_programme(cli)
    record(cli, f"contract correct {LEDGER} --term-months 72", effective="2021-04-01")

    def snapshot() -> tuple[str, ...]:
        reads = ("show", "projections status", "history", "audit digest")
        return tuple(cli.ok(*shlex.split(read), "--json").stdout for read in reads)

    before = snapshot()
    assert {s["behind"] for s in json.loads(before[1])} == {0}
    for query in (
        "show --as-of 2021-12-31",
        f"show --as-recorded @{vary - 1}",
        "show --as-recorded @0",
        f"show --as-recorded @{vary} --as-of 2022-01-01",
        "show --at-phase Meridian:1",
        "show --at-phase Meridian:1:start --cluster Meridian",
        "diff 2021-01-01 2023-01-01",
        f"diff @1 @{vary}",
        "diff phase:Meridian:1 2024-01-01",
        f"replay --until @{vary}",
        "replay",
    ):
        cli.ok(*shlex.split(query), "--json")
        cli.ok(*shlex.split(query))
    fails(cli, 3, "show --at-phase Meridian:2")  # not planned
    fails(cli, 3, "show --as-recorded @9999")
    fails(cli, 2, "show --as-of 2023-02-30")
    assert snapshot() == before
    # And rebuilding from zero gives what was there all along.
    cli.ok("projections", "rebuild", "--json")
    assert snapshot()[0] == before[0]
