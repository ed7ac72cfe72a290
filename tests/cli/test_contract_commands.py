"""CLI: ``contract tender|award|correct|extend|vary|terminate``.

Figures are Synergy's, Matrix's and Defence's as published (DOMAIN.md): the
~£933.65m notice of May 2023, Oracle (software, 10 y) and IBM (SI, 5 y) awarded
on 30 Aug 2024 for £710m, each with a 2-year option, and so on.
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


def contract(cli: Cli, ref: str) -> dict[str, Any]:
    """A contract as ``show --json`` gives it."""
    model = cli.json("show")
    return next(c for cluster in model["clusters"] for c in cluster["contracts"] if c["ref"] == ref)


def last_event(cli: Cli) -> dict[str, Any]:
    return cli.history()[-1]


ORACLE = (
    "contract", "award", "SYN-ORACLE-2024", "--cluster", "Synergy", "--kind", "software",
    "--supplier", "Oracle", "--value", "£710m", "--start", "2024-08-30",
    "--term-months", "120", "--extension-months", "24", "--effective", "2024-08-30",
)  # fmt: skip
IBM = (
    "contract", "award", "SYN-IBM-2024", "--cluster", "Synergy",
    "--kind", "systems-integration", "--supplier", "IBM", "--value", "£710m",
    "--start", "2024-08-30", "--term-months", "60", "--extension-months", "24",
    "--bundled-with", "SYN-ORACLE-2024", "--effective", "2024-08-30",
)  # fmt: skip
ERP_NOTICE = (
    "contract", "tender", "SYN-ERP-2023", "--cluster", "Synergy", "--kind", "software",
    "--estimated-value", "933.65m", "--term-months", "60", "--extension-months", "24",
    "--effective", "2023-05-26",
)  # fmt: skip


def award(ref: str, *, cluster: str = "Synergy", **options: str) -> tuple[str, ...]:
    """``contract award REF`` with plausible defaults, any of them overridden;
    effective on its start date unless told otherwise."""
    given = {
        "kind": "software",
        "supplier": "Oracle",
        "value": "£710m",
        "start": "2024-08-30",
        "term-months": "120",
        **{key.replace("_", "-"): value for key, value in options.items()},
    }
    given.setdefault("effective", given["start"])
    args: list[str] = ["contract", "award", ref, "--cluster", cluster]
    for key, value in given.items():
        args += [f"--{key}", value]
    return tuple(args)


def build_clusters(cli: Cli) -> Cli:
    """Synergy, Matrix and Defence formed; no contracts."""
    for name in ("Synergy", "Matrix", "Defence"):
        cli.ok("cluster", "form", name, "--effective", "2021-03-01")
    return cli


@pytest.fixture(scope="module")
def clusters_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_clusters)


@pytest.fixture
def clusters(cli: Cli, clusters_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_clusters` records."""
    return restored(cli, clusters_store)


def build_awarded(clusters: Cli) -> Cli:
    """Oracle and IBM awarded to Synergy as a bundle, and the 2023 ERP notice tendered."""
    build_clusters(clusters)
    clusters.ok(*ORACLE)
    clusters.ok(*IBM)
    clusters.ok(*ERP_NOTICE)
    return clusters


@pytest.fixture(scope="module")
def awarded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_awarded)


@pytest.fixture
def awarded(cli: Cli, awarded_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_awarded` records."""
    return restored(cli, awarded_store)


# --- contract tender ---------------------------------------------------------------------


def test_tendering_a_contract_shows_it_tendered_with_its_estimated_value(clusters: Cli) -> None:
    outcome = clusters.json(*ERP_NOTICE, "--source", "Find a Tender, 26 May 2023")

    assert outcome["command"] == "contract tender"
    assert contract(clusters, "SYN-ERP-2023") == {
        "ref": "SYN-ERP-2023",
        "kind": "software",
        "supplier": None,
        "value_gbp": "933650000.00",
        "start": None,
        "term_months": 60,
        "extension_months": 24,
        "extended_months": 0,
        "end": None,
        "max_end": None,
        "status": "tendered",
        "bundled_with": None,
    }
    event = last_event(clusters)
    assert (event["subject"], event["event"]) == ("contract:SYN-ERP-2023", "Tendered")
    assert event["data"]["estimated_value"] == "933650000.00"
    assert event["source"] == "Find a Tender, 26 May 2023"


def test_tendering_a_reference_already_in_use_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "tender", "SYN-ORACLE-2024", "--cluster", "Synergy",
        "--kind", "software", "--estimated-value", "933.65m",
        exit_code=4, naming=("SYN-ORACLE-2024", "already exists"),
    )  # fmt: skip


def test_tendering_for_an_unknown_cluster_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "tender", "UNI-SAP-2023", "--cluster", "Unity",
        "--kind", "software", "--estimated-value", "500m",
        exit_code=3, naming=("Unity",),
    )  # fmt: skip


def test_tendering_with_malformed_money_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "tender", "MAT-WORKDAY-2023", "--cluster", "Matrix",
        "--kind", "software", "--estimated-value", "about £215m",
        exit_code=2, naming=("estimated-value", "about £215m", "933.65m"),
    )  # fmt: skip


def test_tendering_an_unknown_kind_of_contract_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "tender", "MAT-WORKDAY-2023", "--cluster", "Matrix",
        "--kind", "saas", "--estimated-value", "215.6m",
        exit_code=2, naming=("kind", "saas", "systems-integration"),
    )  # fmt: skip


def test_tendering_without_an_estimated_value_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "tender", "MAT-WORKDAY-2023", "--cluster", "Matrix",
        "--kind", "software", exit_code=2, naming=("--estimated-value",),
    )  # fmt: skip


# --- contract award ----------------------------------------------------------------------


def test_awarding_oracle_shows_its_value_and_derived_end_and_max_end(clusters: Cli) -> None:
    outcome = clusters.json(*ORACLE, "--framework", "Crown Commercial Service")

    assert outcome["command"] == "contract award"
    assert len(outcome["positions"]) == 1
    assert contract(clusters, "SYN-ORACLE-2024") == {
        "ref": "SYN-ORACLE-2024",
        "kind": "software",
        "supplier": "Oracle",
        "value_gbp": "710000000.00",
        "start": "2024-08-30",
        "term_months": 120,
        "extension_months": 24,
        "extended_months": 0,
        "end": "2034-08-30",
        "max_end": "2036-08-30",
        "status": "active",
        "bundled_with": None,
    }
    event = last_event(clusters)
    assert (event["subject"], event["event"]) == ("contract:SYN-ORACLE-2024", "Awarded")
    assert event["data"]["value"] == "710000000.00"
    assert event["data"]["framework"] == "Crown Commercial Service"


def test_awarding_ibm_bundled_with_oracle_links_both_ways_in_one_command(clusters: Cli) -> None:
    clusters.ok(*ORACLE)

    outcome = clusters.json(*IBM)

    oracle, ibm = contract(clusters, "SYN-ORACLE-2024"), contract(clusters, "SYN-IBM-2024")
    assert (oracle["bundled_with"], ibm["bundled_with"]) == ("SYN-IBM-2024", "SYN-ORACLE-2024")
    assert (ibm["end"], ibm["max_end"]) == ("2029-08-30", "2031-08-30")
    subjects = {
        r["subject"] for r in clusters.history() if r["command_id"] == outcome["command_id"]
    }
    assert subjects == {"contract:SYN-IBM-2024", "contract:SYN-ORACLE-2024"}


def test_awarding_a_tendered_contract_makes_it_active_under_the_same_reference(
    awarded: Cli,
) -> None:
    awarded.ok(*award("SYN-ERP-2023", supplier="Oracle", value="711m", extension_months="24"))

    erp = contract(awarded, "SYN-ERP-2023")
    assert (erp["status"], erp["supplier"], erp["value_gbp"]) == (
        "active",
        "Oracle",
        "711000000.00",
    )
    assert (erp["end"], erp["max_end"]) == ("2034-08-30", "2036-08-30")
    events = [r["event"] for r in awarded.json("history", "--contract", "SYN-ERP-2023")]
    assert events == ["Tendered", "TenderAwarded"]


@pytest.mark.parametrize(
    ("typed", "pounds"),
    [
        ("933.65m", "933650000.00"),
        ("£1.4m", "1400000.00"),
        ("1.18bn", "1180000000.00"),
        ("70k", "70000.00"),
        ("£144,330,703", "144330703.00"),
        ("£2.225m", "2225000.00"),
    ],
)
def test_money_typed_as_a_person_writes_it_is_shown_as_exact_pounds_and_pence(
    clusters: Cli, typed: str, pounds: str
) -> None:
    clusters.ok(*award("SYN-CAPGEMINI-2023", kind="consultancy", supplier="Capgemini", value=typed))

    assert contract(clusters, "SYN-CAPGEMINI-2023")["value_gbp"] == pounds
    assert last_event(clusters)["data"]["value"] == pounds


def test_a_contract_past_its_end_shows_as_expired(clusters: Cli) -> None:
    clusters.ok(
        *award(
            "SYN-CAPGEMINI-2023", kind="consultancy", supplier="Capgemini", value="£1.4m",
            start="2023-02-01", term_months="6",
        )
    )  # fmt: skip

    capgemini = contract(clusters, "SYN-CAPGEMINI-2023")
    assert (capgemini["end"], capgemini["max_end"], capgemini["status"]) == (
        "2023-08-01",
        "2023-08-01",
        "expired",
    )


def test_awarding_a_contract_twice_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, *award("SYN-ORACLE-2024", value="711m"),
        exit_code=4, naming=("SYN-ORACLE-2024", "already awarded"),
    )  # fmt: skip


def test_awarding_a_tender_in_another_cluster_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, *award("SYN-ERP-2023", cluster="Matrix"),
        exit_code=4, naming=("SYN-ERP-2023", "Synergy"),
    )  # fmt: skip


def test_bundling_with_a_contract_of_another_cluster_exits_4_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded,
        *award(
            "MAT-COGNIZANT-2024", cluster="Matrix", kind="systems-integration",
            supplier="Cognizant", value="81m", bundled_with="SYN-ORACLE-2024",
        ),
        exit_code=4, naming=("MAT-COGNIZANT-2024", "SYN-ORACLE-2024"),
    )  # fmt: skip


def test_bundling_with_a_contract_already_bundled_exits_4_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded,
        *award(
            "SYN-CAPITA-2026", kind="business-process-services", supplier="Capita",
            value="873.41m", start="2026-03-02", bundled_with="SYN-ORACLE-2024",
        ),
        exit_code=4, naming=("SYN-ORACLE-2024", "SYN-IBM-2024"),
    )  # fmt: skip


def test_awarding_in_an_unknown_cluster_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, *award("UNI-SAP-2024", cluster="Unity", supplier="SAP", value="246m"),
        exit_code=3, naming=("Unity",),
    )  # fmt: skip


def test_bundling_with_an_unknown_contract_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded,
        *award(
            "MAT-WORKDAY-2024", cluster="Matrix", supplier="Workday", value="64m",
            bundled_with="MAT-COGNIZANT-2024",
        ),
        exit_code=3, naming=("MAT-COGNIZANT-2024",),
    )  # fmt: skip


@pytest.mark.parametrize("typed", ["12.3.4m", "£710 million", "-5m", "0", "£0.001", "m"])
def test_awarding_with_malformed_or_non_positive_money_exits_2_and_writes_nothing(
    awarded: Cli, typed: str
) -> None:
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", supplier="Workday", value=typed),
        exit_code=2, naming=("value", typed),
    )  # fmt: skip


def test_awarding_with_a_start_date_not_in_the_calendar_exits_2_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", start="2023-02-30"),
        exit_code=2, naming=("start", "2023-02-30"),
    )  # fmt: skip


def test_awarding_an_unknown_kind_of_contract_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", kind="hardware"),
        exit_code=2, naming=("kind", "hardware"),
    )  # fmt: skip


def test_awarding_a_term_of_zero_months_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", term_months="0"),
        exit_code=2, naming=("term-months",),
    )  # fmt: skip


def test_awarding_a_negative_extension_allowance_exits_2_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", extension_months="-24"),
        exit_code=2, naming=("extension-months",),
    )  # fmt: skip


def test_awarding_without_a_supplier_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "award", "MAT-WORKDAY-2024", "--cluster", "Matrix",
        "--kind", "software", "--value", "64m", "--start", "2024-10-04", "--term-months", "120",
        exit_code=2, naming=("--supplier",),
    )  # fmt: skip


# --- contract correct --------------------------------------------------------------------


def test_correcting_a_term_adds_a_correction_and_keeps_the_award_as_first_recorded(
    clusters: Cli,
) -> None:
    # The 2023 reporting had the software contract at 5 years; the award was 10.
    clusters.ok(*award("SYN-ORACLE-2024", term_months="60", extension_months="24"))

    clusters.ok(
        "contract", "correct", "SYN-ORACLE-2024", "--term-months", "120",
        "--effective", "2024-08-30", "--reason", "Award notice of 25 Sep 2024: 10 years",
    )  # fmt: skip

    oracle = contract(clusters, "SYN-ORACLE-2024")
    assert (oracle["term_months"], oracle["end"], oracle["max_end"]) == (
        120,
        "2034-08-30",
        "2036-08-30",
    )
    awarded_event, corrected = clusters.history()[-2:]
    assert awarded_event["data"]["term_months"] == 60
    assert (corrected["event"], corrected["effective"]) == ("Corrected", "2024-08-30")
    assert corrected["data"]["changes"] == {"term_months": 120}
    assert corrected["reason"] == "Award notice of 25 Sep 2024: 10 years"


def test_a_correction_leaves_what_was_believed_before_visible_as_recorded(
    clusters: Cli,
) -> None:
    awarded_at = clusters.json(*award("SYN-ORACLE-2024", term_months="60"))["positions"][-1]

    clusters.ok(
        "contract", "correct", "SYN-ORACLE-2024", "--term-months", "120",
        "--effective", "2024-08-30",
    )  # fmt: skip

    believed_then = clusters.json("show", "--as-recorded", f"@{awarded_at}")
    [synergy_then] = [c for c in believed_then["clusters"] if c["name"] == "Synergy"]
    [oracle_then] = synergy_then["contracts"]
    assert (oracle_then["term_months"], oracle_then["end"]) == (60, "2029-08-30")
    assert contract(clusters, "SYN-ORACLE-2024")["term_months"] == 120


def test_a_correction_changes_what_was_true_only_from_its_effective_date(clusters: Cli) -> None:
    clusters.ok(*award("SYN-ORACLE-2024", term_months="60"))
    clusters.ok(
        "contract", "correct", "SYN-ORACLE-2024", "--term-months", "120",
        "--effective", "2025-01-01",
    )  # fmt: skip

    def term_as_of(day: str) -> int:
        model = clusters.json("show", "--as-of", day)
        [synergy] = [c for c in model["clusters"] if c["name"] == "Synergy"]
        [oracle] = synergy["contracts"]
        term: int = oracle["term_months"]
        return term

    assert (term_as_of("2024-12-31"), term_as_of("2025-01-01")) == (60, 120)


def test_correcting_value_start_and_supplier_together_shows_all_three(awarded: Cli) -> None:
    awarded.ok(
        "contract", "correct", "SYN-ORACLE-2024", "--value", "£711m",
        "--start", "2024-09-25", "--supplier", "Oracle Corporation UK",
    )  # fmt: skip

    oracle = contract(awarded, "SYN-ORACLE-2024")
    assert (oracle["value_gbp"], oracle["start"], oracle["supplier"]) == (
        "711000000.00",
        "2024-09-25",
        "Oracle Corporation UK",
    )
    assert (oracle["end"], oracle["max_end"]) == ("2034-09-25", "2036-09-25")


def test_correcting_an_unknown_contract_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "correct", "SYN-SAP-2024", "--term-months", "120",
        exit_code=3, naming=("SYN-SAP-2024",),
    )  # fmt: skip


def test_correcting_to_what_is_already_recorded_exits_4_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded, "contract", "correct", "SYN-ORACLE-2024", "--term-months", "120",
        exit_code=4, naming=("SYN-ORACLE-2024", "nothing to correct"),
    )  # fmt: skip


def test_correcting_with_nothing_to_change_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "correct", "SYN-ORACLE-2024",
        exit_code=2, naming=("SYN-ORACLE-2024", "--term-months"),
    )  # fmt: skip


def test_correcting_the_allowance_below_what_was_exercised_exits_4_and_writes_nothing(
    awarded: Cli,
) -> None:
    awarded.ok("contract", "extend", "SYN-ORACLE-2024", "--months", "12")

    assert_rejected(
        awarded, "contract", "correct", "SYN-ORACLE-2024", "--extension-months", "6",
        exit_code=4, naming=("SYN-ORACLE-2024", "12"),
    )  # fmt: skip


def test_correcting_to_malformed_money_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "correct", "SYN-ORACLE-2024", "--value", "711mn",
        exit_code=2, naming=("value", "711mn"),
    )  # fmt: skip


def test_correcting_to_a_start_not_in_the_calendar_exits_2_and_writes_nothing(
    awarded: Cli,
) -> None:
    assert_rejected(
        awarded, "contract", "correct", "SYN-ORACLE-2024", "--start", "2024-02-30",
        exit_code=2, naming=("start", "2024-02-30"),
    )  # fmt: skip


# --- contract extend ---------------------------------------------------------------------


def test_extending_moves_the_end_but_not_the_maximum_end(awarded: Cli) -> None:
    awarded.ok("contract", "extend", "SYN-ORACLE-2024", "--months", "12")

    oracle = contract(awarded, "SYN-ORACLE-2024")
    assert (oracle["extended_months"], oracle["end"], oracle["max_end"]) == (
        12,
        "2035-08-30",
        "2036-08-30",
    )
    event = last_event(awarded)
    assert (event["event"], event["data"]) == ("Extended", {"months": 12})


def test_extending_by_the_whole_allowance_reaches_the_maximum_end(awarded: Cli) -> None:
    awarded.ok("contract", "extend", "SYN-IBM-2024", "--months", "12")
    awarded.ok("contract", "extend", "SYN-IBM-2024", "--months", "12")

    ibm = contract(awarded, "SYN-IBM-2024")
    assert (ibm["extended_months"], ibm["end"], ibm["max_end"]) == (
        24,
        "2031-08-30",
        "2031-08-30",
    )


def test_extending_past_the_allowance_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "extend", "SYN-ORACLE-2024", "--months", "25",
        exit_code=4, naming=("SYN-ORACLE-2024", "24", "25"),
    )  # fmt: skip


def test_extending_past_what_is_left_of_the_allowance_exits_4_and_writes_nothing(
    awarded: Cli,
) -> None:
    awarded.ok("contract", "extend", "SYN-ORACLE-2024", "--months", "12")

    assert_rejected(
        awarded, "contract", "extend", "SYN-ORACLE-2024", "--months", "13",
        exit_code=4, naming=("SYN-ORACLE-2024", "12 months", "13"),
    )  # fmt: skip


def test_extending_a_contract_only_tendered_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "extend", "SYN-ERP-2023", "--months", "12",
        exit_code=4, naming=("SYN-ERP-2023", "tendered"),
    )  # fmt: skip


def test_extending_a_terminated_contract_exits_4_and_writes_nothing(awarded: Cli) -> None:
    awarded.ok("contract", "terminate", "SYN-IBM-2024")

    assert_rejected(
        awarded, "contract", "extend", "SYN-IBM-2024", "--months", "12",
        exit_code=4, naming=("SYN-IBM-2024", "terminated"),
    )  # fmt: skip


def test_extending_an_unknown_contract_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "extend", "SYN-SAP-2024", "--months", "12",
        exit_code=3, naming=("SYN-SAP-2024",),
    )  # fmt: skip


def test_extending_by_zero_months_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "extend", "SYN-ORACLE-2024", "--months", "0",
        exit_code=2, naming=("months",),
    )  # fmt: skip


def test_extending_without_saying_by_how_much_exits_2_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "extend", "SYN-ORACLE-2024", exit_code=2, naming=("--months",)
    )


# --- contract vary -----------------------------------------------------------------------


def build_deloitte(clusters: Cli) -> Cli:
    """Defence's Deloitte SI contract, £6.49m from Aug 2021."""
    build_clusters(clusters)
    clusters.ok(
        *award(
            "DEF-DELOITTE-2021", cluster="Defence", kind="systems-integration",
            supplier="Deloitte", value="6.49m", start="2021-08-02", term_months="36",
        )
    )  # fmt: skip
    return clusters


@pytest.fixture(scope="module")
def deloitte_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return recorded_store(tmp_path_factory, build_deloitte)


@pytest.fixture
def deloitte(cli: Cli, deloitte_store: Path) -> Cli:
    """A fresh copy of the store :func:`build_deloitte` records."""
    return restored(cli, deloitte_store)


def test_varying_a_contract_records_its_new_value_and_why(deloitte: Cli) -> None:
    deloitte.ok(
        "contract", "vary", "DEF-DELOITTE-2021", "--value", "10.39m",
        "--reason", "Extended scope, +£3.9m", "--effective", "2022-11-01",
    )  # fmt: skip

    assert contract(deloitte, "DEF-DELOITTE-2021")["value_gbp"] == "10390000.00"
    event = last_event(deloitte)
    assert (event["event"], event["effective"], event["reason"]) == (
        "Varied",
        "2022-11-01",
        "Extended scope, +£3.9m",
    )
    assert event["data"] == {"old_value": "6490000.00", "value": "10390000.00"}


def test_varying_without_a_reason_exits_2_and_writes_nothing(deloitte: Cli) -> None:
    assert_rejected(
        deloitte, "contract", "vary", "DEF-DELOITTE-2021", "--value", "10.39m",
        exit_code=2, naming=("DEF-DELOITTE-2021", "--reason"),
    )  # fmt: skip


def test_varying_to_malformed_money_exits_2_and_writes_nothing(deloitte: Cli) -> None:
    assert_rejected(
        deloitte, "contract", "vary", "DEF-DELOITTE-2021", "--value", "£10,39m",
        "--reason", "Extended scope", exit_code=2, naming=("value", "£10,39m"),
    )  # fmt: skip


def test_varying_an_unknown_contract_exits_3_and_writes_nothing(deloitte: Cli) -> None:
    assert_rejected(
        deloitte, "contract", "vary", "DEF-KPMG-2025", "--value", "8m",
        "--reason", "Phase 2", exit_code=3, naming=("DEF-KPMG-2025",),
    )  # fmt: skip


def test_varying_a_terminated_contract_exits_4_and_writes_nothing(deloitte: Cli) -> None:
    deloitte.ok("contract", "terminate", "DEF-DELOITTE-2021")

    assert_rejected(
        deloitte, "contract", "vary", "DEF-DELOITTE-2021", "--value", "12.39m",
        "--reason", "Further scope", exit_code=4, naming=("DEF-DELOITTE-2021", "terminated"),
    )  # fmt: skip


def test_varying_a_contract_only_tendered_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "vary", "SYN-ERP-2023", "--value", "1bn",
        "--reason", "Re-estimated", exit_code=4, naming=("SYN-ERP-2023", "tendered"),
    )  # fmt: skip


# --- contract terminate ------------------------------------------------------------------


def test_terminating_a_contract_shows_it_terminated(awarded: Cli) -> None:
    awarded.ok("contract", "terminate", "SYN-IBM-2024", "--reason", "Reset of the SI contract")

    assert contract(awarded, "SYN-IBM-2024")["status"] == "terminated"
    assert contract(awarded, "SYN-ORACLE-2024")["status"] == "active"
    event = last_event(awarded)
    assert (event["subject"], event["event"], event["reason"]) == (
        "contract:SYN-IBM-2024",
        "Terminated",
        "Reset of the SI contract",
    )


def test_terminating_a_contract_twice_exits_4_and_writes_nothing(awarded: Cli) -> None:
    awarded.ok("contract", "terminate", "SYN-IBM-2024")

    assert_rejected(
        awarded, "contract", "terminate", "SYN-IBM-2024",
        exit_code=4, naming=("SYN-IBM-2024", "terminated"),
    )  # fmt: skip


def test_terminating_an_unknown_contract_exits_3_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "terminate", "SYN-SAP-2024", exit_code=3, naming=("SYN-SAP-2024",)
    )


def test_terminating_a_contract_only_tendered_exits_4_and_writes_nothing(awarded: Cli) -> None:
    assert_rejected(
        awarded, "contract", "terminate", "SYN-ERP-2023",
        exit_code=4, naming=("SYN-ERP-2023", "tendered"),
    )  # fmt: skip


# --- values no calendar or decimal can hold ----------------------------------------------


def test_awarding_a_value_too_large_to_hold_exits_2_and_writes_nothing(awarded: Cli) -> None:
    too_much = "9" * 40
    assert_rejected(
        awarded, *award("MAT-WORKDAY-2024", cluster="Matrix", value=too_much),
        exit_code=2, naming=("value",),
    )  # fmt: skip


def test_awarding_a_contract_that_would_end_after_the_year_9999_exits_2_and_writes_nothing(
    awarded: Cli,
) -> None:
    # 9999-01-01 + 100 years cannot be a date; left in, it would make every later
    # `show` that derives the contract's end fail or hang.
    assert_rejected(
        awarded,
        *award("MAT-WORKDAY-2024", cluster="Matrix", start="9999-01-01", term_months="1200",
               effective="2024-08-30"),
        exit_code=2, naming=("MAT-WORKDAY-2024",),
    )  # fmt: skip
