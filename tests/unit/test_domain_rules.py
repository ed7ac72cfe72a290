"""The rules the aggregates check before raising anything: given, when, then nothing raised.

Each test builds aggregates directly (no store), takes the events that set them up,
then asks for a change a rule refuses: the rule's error, and no new event on any
aggregate involved.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from opmodel.domain import Cluster, Contract, ContractTerms, Decision, Department, Meta
from opmodel.errors import (
    BundleMismatch,
    ContractAlreadyAwarded,
    ContractClusterMismatch,
    DecisionNotAccepted,
    InvalidInput,
    LeadCannotLeave,
    ParentRequired,
)

META = Meta(effective=date(2024, 8, 30), actor="tester", command_id="c1")
TERMS = ContractTerms(
    kind="software",
    supplier="Oracle",
    value=Decimal("710000000.00"),
    start=date(2024, 8, 30),
    term_months=120,
    extension_months=24,
)
NO_CALENDAR = ContractTerms(
    kind="software",
    supplier="Oracle",
    value=Decimal("1.00"),
    start=date(9999, 1, 1),
    term_months=1200,
    extension_months=0,
)


def settled(*aggregates: Cluster | Contract | Decision | Department) -> None:
    """Take the events that set the aggregates up: what follows starts from none."""
    for aggregate in aggregates:
        aggregate.collect_events()


def cluster(name: str) -> Cluster:
    found = Cluster(name=name, phase_count=5, description=None, meta=META)
    settled(found)
    return found


def tendered(ref: str, where: Cluster) -> Contract:
    contract = Contract.tender(
        ref,
        where.id,
        where.name,
        kind="software",
        estimated_value=Decimal("933650000.00"),
        term_months=120,
        extension_months=24,
        meta=META,
    )
    settled(contract)
    return contract


def awarded(ref: str, where: Cluster, terms: ContractTerms = TERMS) -> Contract:
    contract = Contract.award_directly(ref, where.id, where.name, terms, None, META)
    settled(contract)
    return contract


def department(
    code: str, kind: str = "ministerial", parent: Department | None = None
) -> Department:
    found = Department.register(code, f"Department {code}", kind, parent, None, META)
    settled(found)
    return found


def decision(number: int, *, accepted: bool = True) -> Decision:
    found = Decision(
        number=number,
        title=f"Decision {number}",
        context="Context.",
        decision="We will.",
        consequences=None,
        concerns=[],
        meta=META,
    )
    if accepted:
        found.accept(META)
    settled(found)
    return found


def nothing_raised(*aggregates: Cluster | Contract | Decision | Department) -> bool:
    return all(not aggregate.collect_events() for aggregate in aggregates)


# --- departments ------------------------------------------------------------------------


def test_an_arms_length_body_cannot_be_registered_without_a_parent() -> None:
    with pytest.raises(ParentRequired) as raised:
        Department.register("LAA", "Legal Aid Agency", "alb", None, None, META)

    assert raised.value.message == (
        "LAA is an arm's-length body: name its parent department with --parent"
    )
    assert raised.value.exit_code == 4


def test_only_an_arms_length_body_can_be_registered_with_a_parent() -> None:
    dwp = department("DWP")

    with pytest.raises(ParentRequired) as raised:
        Department.register("HMRC", "HM Revenue & Customs", "non-ministerial", dwp, None, META)

    assert "only an arm's-length body" in raised.value.message
    assert nothing_raised(dwp)


def test_an_arms_length_body_is_registered_under_its_parent() -> None:
    moj = department("MOJ")

    laa = Department.register("LAA", "Legal Aid Agency", "alb", moj, None, META)

    (registered,) = laa.collect_events()
    assert (registered.parent_id, registered.parent) == (moj.id, "MOJ")


def test_a_department_whose_lead_cluster_it_leads_cannot_move_and_nothing_is_raised() -> None:
    alpha, beta = cluster("Alpha"), cluster("Beta")
    dwp = department("DWP")
    dwp.join(alpha.id, alpha.name, META)
    alpha.admit(dwp.id, dwp.code, META)
    alpha.designate_lead(dwp.id, dwp.code, META)
    settled(dwp, alpha)

    with pytest.raises(LeadCannotLeave):
        dwp.move(alpha, beta, META)

    assert nothing_raised(dwp, alpha, beta)
    assert dwp.cluster_id == alpha.id


# --- contracts: awarding and bundling ---------------------------------------------------


def test_a_contract_cannot_be_bundled_with_itself_and_nothing_is_raised() -> None:
    synergy = cluster("Synergy")
    oracle = tendered("SYN-ORACLE-2024", synergy)

    with pytest.raises(InvalidInput) as raised:
        oracle.award(synergy.id, TERMS, oracle, None, META)

    assert raised.value.message == "contract SYN-ORACLE-2024 cannot be bundled with itself"
    assert nothing_raised(oracle)
    assert oracle.status == "tendered"


def test_a_contract_bundled_while_tendered_cannot_be_awarded_in_another_bundle() -> None:
    synergy = cluster("Synergy")
    oracle, ibm = tendered("SYN-ORACLE-2024", synergy), awarded("SYN-IBM-2024", synergy)
    other = awarded("SYN-OTHER", synergy)
    oracle.link_bundle(ibm.ref, META)
    settled(oracle)

    with pytest.raises(BundleMismatch) as raised:
        oracle.award(synergy.id, TERMS, other, ibm, META)

    assert "already bundled with SYN-IBM-2024" in raised.value.message
    assert nothing_raised(oracle, ibm, other)


def test_a_contract_cannot_be_bundled_with_one_of_another_cluster() -> None:
    synergy, matrix = cluster("Synergy"), cluster("Matrix")
    workday = awarded("MAT-WORKDAY-2024", matrix)

    with pytest.raises(BundleMismatch) as raised:
        Contract.award_directly("SYN-ORACLE-2024", synergy.id, synergy.name, TERMS, workday, META)

    assert "bundled contracts share a cluster" in raised.value.message
    assert nothing_raised(workday)


def test_a_contract_cannot_be_bundled_with_one_already_bundled_with_another() -> None:
    synergy = cluster("Synergy")
    oracle, ibm = tendered("SYN-ORACLE-2024", synergy), awarded("SYN-IBM-2024", synergy)
    ibm.link_bundle("SYN-OTHER", META)
    settled(ibm)

    with pytest.raises(BundleMismatch) as raised:
        oracle.award(synergy.id, TERMS, ibm, None, META)

    assert raised.value.message == "contract SYN-IBM-2024 is already bundled with SYN-OTHER"
    assert nothing_raised(oracle, ibm)


def test_a_contract_is_awarded_once_and_nothing_is_raised() -> None:
    synergy = cluster("Synergy")
    oracle = awarded("SYN-ORACLE-2024", synergy)

    with pytest.raises(ContractAlreadyAwarded):
        oracle.award(synergy.id, TERMS, None, None, META)

    assert nothing_raised(oracle)


def test_a_tendered_contract_is_awarded_in_its_own_cluster_and_nothing_is_raised() -> None:
    synergy, matrix = cluster("Synergy"), cluster("Matrix")
    oracle = tendered("SYN-ORACLE-2024", synergy)

    with pytest.raises(ContractClusterMismatch):
        oracle.award(matrix.id, TERMS, None, None, META)

    assert nothing_raised(oracle)


# --- contracts: dates a calendar can hold -----------------------------------------------


def test_a_contract_ending_beyond_the_calendar_is_not_awarded_directly() -> None:
    synergy = cluster("Synergy")

    with pytest.raises(InvalidInput) as raised:
        Contract.award_directly(
            "MAT-WORKDAY-2024", synergy.id, synergy.name, NO_CALENDAR, None, META
        )

    assert raised.value.message.startswith("contract MAT-WORKDAY-2024: 9999-01-01 plus 1200 months")
    assert raised.value.exit_code == 2


def test_a_tendered_contract_ending_beyond_the_calendar_is_refused_before_its_award() -> None:
    synergy = cluster("Synergy")
    oracle = tendered("SYN-ORACLE-2024", synergy)

    with pytest.raises(InvalidInput):
        oracle.award(synergy.id, NO_CALENDAR, None, None, META)

    assert nothing_raised(oracle)
    assert (oracle.status, oracle.start) == ("tendered", None)


def test_a_correction_moving_the_end_beyond_the_calendar_is_refused_before_it_applies() -> None:
    synergy = cluster("Synergy")
    oracle = awarded("SYN-ORACLE-2024", synergy)

    with pytest.raises(InvalidInput) as raised:
        oracle.correct({"start": date(9999, 1, 1)}, META)

    assert "SYN-ORACLE-2024" in raised.value.message
    assert nothing_raised(oracle)
    assert oracle.start == TERMS.start


def test_a_correction_of_the_term_alone_is_checked_against_the_recorded_start() -> None:
    synergy = cluster("Synergy")
    late = ContractTerms(
        kind="software",
        supplier="Oracle",
        value=Decimal("1.00"),
        start=date(9990, 1, 1),
        term_months=12,
        extension_months=0,
    )
    oracle = awarded("SYN-ORACLE-2024", synergy, late)

    with pytest.raises(InvalidInput):
        oracle.correct({"term_months": 1200}, META)

    assert nothing_raised(oracle)
    assert oracle.term_months == 12


# --- contracts: variations --------------------------------------------------------------


def test_a_variation_needs_a_reason_and_nothing_is_raised() -> None:
    synergy = cluster("Synergy")
    oracle = awarded("SYN-ORACLE-2024", synergy)

    with pytest.raises(InvalidInput) as raised:
        oracle.vary(Decimal("750000000.00"), META)

    assert "a variation needs a reason" in raised.value.message
    assert nothing_raised(oracle)
    assert oracle.value == TERMS.value


# --- decisions --------------------------------------------------------------------------


def test_a_decision_cannot_supersede_itself_and_nothing_is_raised() -> None:
    first = decision(1)

    with pytest.raises(InvalidInput) as raised:
        first.superseded(first, META)

    assert raised.value.message == "decision DEC-0001 cannot supersede itself"
    assert nothing_raised(first)


def test_a_decision_is_not_superseded_by_one_not_accepted_and_nothing_is_raised() -> None:
    old, new = decision(1), decision(2, accepted=False)

    with pytest.raises(DecisionNotAccepted) as raised:
        old.superseded(new, META)

    assert "DEC-0002" in raised.value.message
    assert nothing_raised(old, new)
    assert old.status == "accepted"
