"""CLI: ``decision propose|accept|reject|supersede`` and the governance commands
``business-case record``, ``funding grant``, ``benefit realise``, ``assurance rate``.

Figures follow DOMAIN.md: Synergy's business case (£600m cost, £1.18bn benefits
over 15 years, OBC approved ~April 2023), the £300m interim funding envelope,
Overseas' £120m+ benefits by March 2024, Unity rated red by the IPA in July 2023.
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


def decision(cli: Cli, key: str) -> dict[str, Any]:
    return next(d for d in cli.json("show")["decisions"] if d["id"] == key)


def cluster(cli: Cli, name: str) -> dict[str, Any]:
    return next(c for c in cli.json("show")["clusters"] if c["name"] == name)


def propose(cli: Cli, title: str, *concerns: str) -> str:
    """Propose a decision and return the id the store gave it."""
    args = ["decision", "propose", title, "--context", "Context.", "--decision", "Decision."]
    for concern in concerns:
        args += ["--concerns", concern]
    outcome = cli.json(*args)
    key: str = outcome["result"]
    return key


def build_programme(cli: Cli) -> Cli:
    """Synergy (DWP a member, phase 1 planned, Oracle awarded), Unity and Overseas formed."""
    since = ("--effective", "2021-03-01")
    for name in ("Synergy", "Unity", "Overseas"):
        cli.ok("cluster", "form", name, *since)
    cli.ok("department", "register", "DWP", "--name", "Department for Work and Pensions", *since)
    cli.ok("department", "join", "DWP", "Synergy")
    cli.ok("phase", "plan", "Synergy", "1", "--name", "Mobilise and design")
    cli.ok(
        "contract", "award", "SYN-ORACLE-2024", "--cluster", "Synergy", "--kind", "software",
        "--supplier", "Oracle", "--value", "£710m", "--start", "2024-08-30",
        "--term-months", "120", "--extension-months", "24", "--effective", "2024-08-30",
    )  # fmt: skip
    return cli


@pytest.fixture(scope="module")
def programme_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_programme)


@pytest.fixture
def programme(cli: Cli, programme_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_programme` records."""
    return restored(cli, programme_store)


def build_decided(programme: Cli) -> Cli:
    """DEC-0001 accepted, DEC-0002 accepted, DEC-0003 proposed, DEC-0004 rejected."""
    build_programme(programme)
    for title in (
        "Synergy adopts Oracle Fusion",
        "Synergy moves onto one Oracle tenancy",
        "Home Office joins in the last wave",
        "Each department keeps its own ERP",
    ):
        propose(programme, title, "cluster:Synergy")
    programme.ok("decision", "accept", "DEC-0001")
    programme.ok("decision", "accept", "DEC-0002")
    programme.ok("decision", "reject", "DEC-0004")
    return programme


@pytest.fixture(scope="module")
def decided_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_decided)


@pytest.fixture
def decided(cli: Cli, decided_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_decided` records."""
    return restored(cli, decided_store)


# --- decision propose --------------------------------------------------------------------


def test_proposing_a_decision_numbers_it_and_resolves_what_it_concerns(programme: Cli) -> None:
    result = programme.ok(
        "decision", "propose", "Synergy adopts Oracle Fusion",
        "--context", "Home Office already runs Oracle Fusion.",
        "--decision", "Synergy's shared platform is Oracle Fusion.",
        "--consequences", "One bundled procurement: software plus an integrator.",
        "--concerns", "cluster:synergy", "--concerns", "department:dwp,contract:SYN-ORACLE-2024",
        "--concerns", "phase:Synergy:1",
    )  # fmt: skip

    assert result.stdout.startswith("DEC-0001")
    found = decision(programme, "DEC-0001")
    assert (found["title"], found["status"], found["superseded_by"]) == (
        "Synergy adopts Oracle Fusion",
        "proposed",
        None,
    )
    assert sorted(found["concerns"]) == [
        "cluster:Synergy",
        "contract:SYN-ORACLE-2024",
        "department:DWP",
        "phase:Synergy:1",
    ]
    event = programme.history()[-1]
    assert (event["subject"], event["event"]) == ("decision:DEC-0001", "Proposed")
    assert event["data"]["consequences"] == "One bundled procurement: software plus an integrator."


def test_decisions_are_numbered_in_the_order_they_are_proposed(programme: Cli) -> None:
    first = propose(programme, "Synergy adopts Oracle Fusion")
    second = propose(programme, "Home Office joins in the last wave")

    assert (first, second) == ("DEC-0001", "DEC-0002")
    assert [d["id"] for d in programme.json("show")["decisions"]] == ["DEC-0001", "DEC-0002"]


def test_proposing_about_an_unknown_cluster_exits_3_writes_nothing_and_uses_no_number(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "decision", "propose", "Matrix adopts Workday",
        "--context", "Context.", "--decision", "Decision.", "--concerns", "cluster:Matrix",
        exit_code=3, naming=("Matrix",),
    )  # fmt: skip

    assert propose(programme, "Synergy adopts Oracle Fusion") == "DEC-0001"


def test_proposing_about_a_phase_never_planned_exits_3_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "decision", "propose", "Home Office goes last",
        "--context", "Context.", "--decision", "Decision.", "--concerns", "phase:Synergy:5",
        exit_code=3, naming=("Synergy:5",),
    )  # fmt: skip


def test_proposing_with_a_malformed_concern_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "decision", "propose", "Synergy adopts Oracle Fusion",
        "--context", "Context.", "--decision", "Decision.", "--concerns", "programme:Synergy",
        exit_code=2, naming=("programme:Synergy", "cluster:NAME"),
    )  # fmt: skip


def test_proposing_with_a_blank_title_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "decision", "propose", "  ", "--context", "Context.", "--decision", "Decision.",
        exit_code=2, naming=("title",),
    )  # fmt: skip


def test_proposing_without_a_context_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "decision", "propose", "Synergy adopts Oracle Fusion",
        "--decision", "Decision.", exit_code=2, naming=("--context",),
    )  # fmt: skip


# --- decision accept ---------------------------------------------------------------------


def test_accepting_a_proposed_decision_shows_it_accepted(decided: Cli) -> None:
    decided.ok("decision", "accept", "dec-3", "--reason", "Agreed at programme board")

    assert decision(decided, "DEC-0003")["status"] == "accepted"
    event = decided.history()[-1]
    assert (event["subject"], event["event"], event["reason"]) == (
        "decision:DEC-0003",
        "Accepted",
        "Agreed at programme board",
    )


def test_accepting_a_decision_already_accepted_exits_4_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "accept", "DEC-0001",
        exit_code=4, naming=("DEC-0001", "accepted", "proposed"),
    )  # fmt: skip


def test_accepting_a_rejected_decision_exits_4_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "accept", "DEC-0004", exit_code=4, naming=("DEC-0004", "rejected")
    )


def test_accepting_an_unknown_decision_exits_3_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(decided, "decision", "accept", "DEC-0042", exit_code=3, naming=("DEC-0042",))


def test_accepting_a_malformed_decision_id_exits_2_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "accept", "ADR-7", exit_code=2, naming=("ADR-7", "DEC-0007")
    )


# --- decision reject ---------------------------------------------------------------------


def test_rejecting_a_proposed_decision_shows_it_rejected(decided: Cli) -> None:
    decided.ok("decision", "reject", "DEC-0003")

    assert decision(decided, "DEC-0003")["status"] == "rejected"
    event = decided.history()[-1]
    assert (event["subject"], event["event"]) == ("decision:DEC-0003", "Rejected")


def test_rejecting_an_accepted_decision_exits_4_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "reject", "DEC-0001", exit_code=4, naming=("DEC-0001", "accepted")
    )


def test_rejecting_an_unknown_decision_exits_3_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(decided, "decision", "reject", "DEC-0042", exit_code=3, naming=("DEC-0042",))


def test_rejecting_a_malformed_decision_id_exits_2_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(decided, "decision", "reject", "first", exit_code=2, naming=("first",))


# --- decision supersede ------------------------------------------------------------------


def test_superseding_links_both_decisions_in_one_command(decided: Cli) -> None:
    outcome = decided.json("decision", "supersede", "DEC-0001", "--by", "DEC-0002")

    old, new = decision(decided, "DEC-0001"), decision(decided, "DEC-0002")
    assert (old["status"], old["superseded_by"]) == ("superseded", "DEC-0002")
    assert (new["status"], new["superseded_by"]) == ("accepted", None)
    linked = {
        (row["subject"], row["event"]): row["data"]
        for row in decided.history()
        if row["command_id"] == outcome["command_id"]
    }
    assert linked == {
        ("decision:DEC-0001", "Superseded"): {"by": "DEC-0002"},
        ("decision:DEC-0002", "Supersedes"): {"supersedes": "DEC-0001"},
    }


def test_superseding_a_decision_only_proposed_exits_4_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "supersede", "DEC-0003", "--by", "DEC-0002",
        exit_code=4, naming=("DEC-0003", "proposed"),
    )  # fmt: skip


def test_superseding_by_a_decision_not_accepted_exits_4_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "supersede", "DEC-0001", "--by", "DEC-0004",
        exit_code=4, naming=("DEC-0004", "rejected"),
    )  # fmt: skip


def test_superseding_a_decision_already_superseded_exits_4_and_writes_nothing(
    decided: Cli,
) -> None:
    decided.ok("decision", "supersede", "DEC-0001", "--by", "DEC-0002")
    decided.ok("decision", "accept", "DEC-0003")

    assert_rejected(
        decided, "decision", "supersede", "DEC-0001", "--by", "DEC-0003",
        exit_code=4, naming=("DEC-0001", "superseded"),
    )  # fmt: skip


def test_a_decision_superseding_itself_exits_2_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "supersede", "DEC-0001", "--by", "DEC-0001",
        exit_code=2, naming=("DEC-0001", "itself"),
    )  # fmt: skip


def test_superseding_by_an_unknown_decision_exits_3_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(
        decided, "decision", "supersede", "DEC-0001", "--by", "DEC-0042",
        exit_code=3, naming=("DEC-0042",),
    )  # fmt: skip


def test_superseding_without_saying_by_what_exits_2_and_writes_nothing(decided: Cli) -> None:
    assert_rejected(decided, "decision", "supersede", "DEC-0001", exit_code=2, naming=("--by",))


# --- business-case record ----------------------------------------------------------------


def test_recording_a_business_case_shows_its_stage_status_and_figures(programme: Cli) -> None:
    programme.ok(
        "business-case", "record", "Synergy", "--stage", "obc", "--status", "submitted",
        "--cost", "£600m", "--benefits", "1.18bn", "--period-years", "15",
        "--effective", "2022-11-30", "--source", "NAO HC 921",
    )  # fmt: skip

    assert cluster(programme, "Synergy")["business_cases"] == [
        {
            "stage": "OBC",
            "status": "submitted",
            "cost_gbp": "600000000.00",
            "benefits_gbp": "1180000000.00",
            "period_years": 15,
            "recorded_on": "2022-11-30",
        }
    ]
    event = programme.history()[-1]
    assert (event["subject"], event["event"], event["source"]) == (
        "cluster:Synergy",
        "BusinessCaseRecorded",
        "NAO HC 921",
    )


def test_business_cases_move_from_soc_to_obc_to_fbc(programme: Cli) -> None:
    for stage, effective in (("SOC", "2021-09-01"), ("OBC", "2023-04-28"), ("FBC", "2025-04-30")):
        programme.ok(
            "business-case", "record", "Synergy", "--stage", stage, "--status", "approved",
            "--effective", effective,
        )  # fmt: skip

    cases = cluster(programme, "Synergy")["business_cases"]
    assert [(c["stage"], c["status"], c["recorded_on"]) for c in cases] == [
        ("SOC", "approved", "2021-09-01"),
        ("OBC", "approved", "2023-04-28"),
        ("FBC", "approved", "2025-04-30"),
    ]


def test_approving_a_business_case_keeps_the_figures_it_was_submitted_with(
    programme: Cli,
) -> None:
    programme.ok(
        "business-case", "record", "Synergy", "--stage", "OBC", "--status", "submitted",
        "--cost", "600m", "--benefits", "1.18bn", "--period-years", "15",
    )  # fmt: skip

    programme.ok("business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved")

    [obc] = cluster(programme, "Synergy")["business_cases"]
    assert obc["status"] == "approved"
    assert (obc["cost_gbp"], obc["benefits_gbp"], obc["period_years"]) == (
        "600000000.00",
        "1180000000.00",
        15,
    )


def test_recording_an_earlier_stage_after_a_later_one_exits_4_and_writes_nothing(
    programme: Cli,
) -> None:
    programme.ok("business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved")

    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "SOC", "--status", "submitted",
        exit_code=4, naming=("Synergy", "SOC", "OBC"),
    )  # fmt: skip


def test_recording_a_stage_again_once_approved_exits_4_and_writes_nothing(
    programme: Cli,
) -> None:
    programme.ok("business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved")

    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "OBC", "--status", "rejected",
        exit_code=4, naming=("Synergy", "OBC", "approved"),
    )  # fmt: skip


def test_recording_an_unknown_stage_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "PBC", "--status", "approved",
        exit_code=2, naming=("stage", "PBC", "SOC, OBC, FBC"),
    )  # fmt: skip


def test_recording_an_unknown_status_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "OBC", "--status", "pending",
        exit_code=2, naming=("status", "pending"),
    )  # fmt: skip


def test_recording_a_malformed_cost_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved",
        "--cost", "£2.5 billion", exit_code=2, naming=("cost", "£2.5 billion"),
    )  # fmt: skip


def test_recording_an_appraisal_period_of_zero_years_exits_2_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "OBC", "--status", "approved",
        "--period-years", "0", exit_code=2, naming=("period-years",),
    )  # fmt: skip


def test_recording_a_business_case_of_an_unknown_cluster_exits_3_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "business-case", "record", "Matrix", "--stage", "OBC", "--status", "approved",
        exit_code=3, naming=("Matrix",),
    )  # fmt: skip


def test_recording_a_business_case_without_a_status_exits_2_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "business-case", "record", "Synergy", "--stage", "OBC",
        exit_code=2, naming=("--status",),
    )  # fmt: skip


# --- funding grant -----------------------------------------------------------------------


def test_granting_funding_adds_up_the_envelopes(programme: Cli) -> None:
    programme.ok(
        "funding", "grant", "Synergy", "--amount", "£300m", "--effective", "2022-04-01",
        "--source", "NAO HC 921",
    )  # fmt: skip
    programme.ok("funding", "grant", "Synergy", "--amount", "£144,330,703")

    assert cluster(programme, "Synergy")["funding_gbp"] == "444330703.00"
    assert cluster(programme, "Unity")["funding_gbp"] == "0.00"
    event = programme.history()[-1]
    assert (event["event"], event["data"]) == ("FundingGranted", {"amount": "144330703.00"})


def test_granting_funding_to_an_unknown_cluster_exits_3_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "funding", "grant", "Matrix", "--amount", "300m",
        exit_code=3, naming=("Matrix",),
    )  # fmt: skip


@pytest.mark.parametrize("typed", ["0", "£0.00", "three hundred million", "300m£"])
def test_granting_no_or_malformed_money_exits_2_and_writes_nothing(
    programme: Cli, typed: str
) -> None:
    assert_rejected(
        programme, "funding", "grant", "Synergy", "--amount", typed,
        exit_code=2, naming=("amount", typed),
    )  # fmt: skip


def test_granting_funding_without_an_amount_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(programme, "funding", "grant", "Synergy", exit_code=2, naming=("--amount",))


# --- benefit realise ---------------------------------------------------------------------


def test_realising_benefits_adds_them_up_by_kind(programme: Cli) -> None:
    programme.ok(
        "benefit", "realise", "Overseas", "--amount", "120m", "--kind", "cashable",
        "--period", "2023-24", "--effective", "2024-03-31",
    )  # fmt: skip
    programme.ok("benefit", "realise", "Overseas", "--amount", "70k", "--kind", "non-cashable")
    programme.ok("benefit", "realise", "Overseas", "--amount", "1.4m", "--kind", "Cashable")

    assert cluster(programme, "Overseas")["benefits_realised_gbp"] == {
        "cashable": "121400000.00",
        "non-cashable": "70000.00",
    }
    first = next(r for r in programme.history() if r["event"] == "BenefitRealised")
    assert first["data"] == {"amount": "120000000.00", "kind": "cashable", "period": "2023-24"}


def test_realising_an_unknown_kind_of_benefit_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "benefit", "realise", "Overseas", "--amount", "120m", "--kind", "efficiency",
        exit_code=2, naming=("kind", "efficiency", "non-cashable"),
    )  # fmt: skip


def test_realising_malformed_money_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "benefit", "realise", "Overseas", "--amount", "£120m+", "--kind", "cashable",
        exit_code=2, naming=("amount", "£120m+"),
    )  # fmt: skip


def test_realising_benefits_of_an_unknown_cluster_exits_3_and_writes_nothing(
    programme: Cli,
) -> None:
    assert_rejected(
        programme, "benefit", "realise", "Defence", "--amount", "1m", "--kind", "cashable",
        exit_code=3, naming=("Defence",),
    )  # fmt: skip


def test_realising_benefits_without_a_kind_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "benefit", "realise", "Overseas", "--amount", "120m",
        exit_code=2, naming=("--kind",),
    )  # fmt: skip


# --- assurance rate ----------------------------------------------------------------------


def test_rating_a_cluster_shows_its_latest_rating(programme: Cli) -> None:
    programme.ok(
        "assurance", "rate", "Unity", "--rating", "RED", "--assessor", "IPA",
        "--effective", "2023-07-20",
    )  # fmt: skip
    assert cluster(programme, "Unity")["rating"] == "red"

    programme.ok("assurance", "rate", "Unity", "--rating", "amber-red", "--assessor", "NISTA")

    assert cluster(programme, "Unity")["rating"] == "amber-red"
    assert cluster(programme, "Synergy")["rating"] is None
    first, latest = (r for r in programme.history() if r["event"] == "AssuranceRated")
    assert (first["data"], first["effective"]) == (
        {"assessor": "IPA", "rating": "red"},
        "2023-07-20",
    )
    assert latest["data"] == {"assessor": "NISTA", "rating": "amber-red"}


@pytest.mark.parametrize("rating", ["purple", "amber/red", "RAG"])
def test_rating_outside_the_scale_exits_2_and_writes_nothing(programme: Cli, rating: str) -> None:
    assert_rejected(
        programme, "assurance", "rate", "Unity", "--rating", rating,
        exit_code=2, naming=("rating", rating, "amber-green"),
    )  # fmt: skip


def test_rating_an_unknown_cluster_exits_3_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "assurance", "rate", "Matrix", "--rating", "amber",
        exit_code=3, naming=("Matrix",),
    )  # fmt: skip


def test_rating_without_a_rating_exits_2_and_writes_nothing(programme: Cli) -> None:
    assert_rejected(
        programme, "assurance", "rate", "Unity", "--assessor", "IPA",
        exit_code=2, naming=("--rating",),
    )  # fmt: skip
