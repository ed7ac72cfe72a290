"""The operating model's handlers: each event as the statements that apply it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opmodel.projections.base import (
    Envelope,
    Operation,
    pence,
)
from opmodel.projections.operating_model.statements import (
    S_CASE_DELETE,
    S_CASE_INSERT,
    S_CLUSTER_CASHABLE,
    S_CLUSTER_FUNDING,
    S_CLUSTER_INSERT,
    S_CLUSTER_LEAD,
    S_CLUSTER_NON_CASHABLE,
    S_CLUSTER_RATING,
    S_CONTRACT_ALLOWANCE,
    S_CONTRACT_AWARD,
    S_CONTRACT_BUNDLE,
    S_CONTRACT_EXTEND,
    S_CONTRACT_INSERT,
    S_CONTRACT_START,
    S_CONTRACT_SUPPLIER,
    S_CONTRACT_TERM,
    S_CONTRACT_TERMINATED,
    S_CONTRACT_VALUE,
    S_CONTRACT_VALUE_ESTIMATE,
    S_DECISION_CONCERN,
    S_DECISION_INSERT,
    S_DECISION_STATUS,
    S_DECISION_SUPERSEDED,
    S_DECISION_SUPERSEDES,
    S_DEPT_CLUSTER,
    S_DEPT_CODE,
    S_DEPT_HEADCOUNT,
    S_DEPT_INSERT,
    S_DEPT_NAME,
    S_ONBOARD,
    S_PHASE_COMPLETED,
    S_PHASE_PLAN,
    S_PHASE_REPLAN,
    S_PHASE_STARTED,
)


def stamp_of(e: Envelope) -> str:
    """The (effective, position) order of a fact, as text that sorts the same way."""
    return f"{e.meta.effective.isoformat()}#{e.position:012d}"


def _cluster_formed(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    yield (
        S_CLUSTER_INSERT,
        {
            "id": ev.originator_id.hex,
            "name": ev.name,
            "name_key": ev.name.casefold(),
            "phase_count": ev.phase_count,
            "description": ev.description,
            "lead_id": None,
            "funding_pence": 0,
            "cashable_pence": 0,
            "non_cashable_pence": 0,
            "rating": None,
            "rating_assessor": None,
            "rated_on": None,
        },
    )


def _phase_planned(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    plan = {
        "b_cluster_id": ev.originator_id.hex,
        "b_number": ev.number,
        "b_name": ev.name,
        "b_planned_start": ev.planned_start,
        "b_planned_end": ev.planned_end,
        "b_at": stamp_of(e),
    }
    yield S_PHASE_REPLAN, plan
    yield S_PHASE_PLAN, plan


def _business_case(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    at = stamp_of(e)
    cluster = ev.originator_id.hex
    yield S_CASE_DELETE, {"b_cluster_id": cluster, "b_stage": ev.stage, "b_at": at}
    yield (
        S_CASE_INSERT,
        {
            "b_cluster_id": cluster,
            "b_stage": ev.stage,
            "b_status": ev.status,
            "b_cost_pence": pence(ev.cost),
            "b_benefits_pence": pence(ev.benefits),
            "b_period_years": ev.period_years,
            "b_recorded_on": e.meta.effective,
            "b_at": at,
        },
    )


def _contract_row(e: Envelope, **values: Any) -> dict[str, Any]:
    ev = e.event
    row: dict[str, Any] = {
        "id": ev.originator_id.hex,
        "ref": ev.ref,
        "cluster_id": ev.cluster_id.hex,
        "kind": ev.kind,
        "status": "tendered",
        "supplier": None,
        "value_pence": None,
        "estimated_value_pence": None,
        "start": None,
        "term_months": ev.term_months,
        "extension_months": ev.extension_months,
        "extended_months": 0,
        "bundled_with": None,
        "framework": None,
        "terminated_on": None,
    }
    row.update(values)
    return row


def _contract_awarded(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    yield (
        S_CONTRACT_INSERT,
        _contract_row(
            e,
            status="active",
            supplier=ev.supplier,
            value_pence=pence(ev.value),
            start=ev.start,
            bundled_with=ev.bundled_with,
            framework=ev.framework,
        ),
    )


def _contract_corrected(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    statements = {
        "term_months": S_CONTRACT_TERM,
        "extension_months": S_CONTRACT_ALLOWANCE,
        "start": S_CONTRACT_START,
        "supplier": S_CONTRACT_SUPPLIER,
    }
    at = stamp_of(e)
    for key, value in ev.changes.items():
        if key == "value":
            yield (
                S_CONTRACT_VALUE_ESTIMATE,
                {"b_id": ev.originator_id.hex, "b_value": pence(value), "b_at": at},
            )
        else:
            yield statements[key], {"b_id": ev.originator_id.hex, "b_value": value, "b_at": at}


def _decision_proposed(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    yield (
        S_DECISION_INSERT,
        {
            "id": ev.originator_id.hex,
            "number": ev.number,
            "key": f"DEC-{ev.number:04d}",
            "title": ev.title,
            "context": ev.context,
            "decision": ev.decision,
            "consequences": ev.consequences,
            "status": "proposed",
            "superseded_by": None,
            "supersedes": None,
        },
    )
    for seq, concern in enumerate(ev.concerns):
        yield (
            S_DECISION_CONCERN,
            {
                "decision_id": ev.originator_id.hex,
                "seq": seq,
                "kind": concern["kind"],
                "target_id": concern["id"],
                "key": concern["key"],
            },
        )


def _id(e: Envelope) -> str:
    return e.originator_id.hex


#: Each event (aggregate, event name) -> its handler.
HANDLERS: dict[tuple[str, str], Any] = {
    ("Cluster", "Formed"): _cluster_formed,
    ("Cluster", "LeadDesignated"): lambda e: [
        (S_CLUSTER_LEAD, {"b_at": stamp_of(e), "b_id": _id(e), "b_lead": e.event.department_id.hex})
    ],
    ("Cluster", "PhasePlanned"): _phase_planned,
    ("Cluster", "PhaseStarted"): lambda e: [
        (
            S_PHASE_STARTED,
            {"b_cluster": _id(e), "b_number": e.event.number, "b_on": e.meta.effective},
        )
    ],
    ("Cluster", "PhaseCompleted"): lambda e: [
        (
            S_PHASE_COMPLETED,
            {"b_cluster": _id(e), "b_number": e.event.number, "b_on": e.meta.effective},
        )
    ],
    ("Cluster", "DepartmentOnboarded"): lambda e: [
        (
            S_ONBOARD,
            {
                "cluster_id": _id(e),
                "department_id": e.event.department_id.hex,
                "number": e.event.number,
                "onboarded_on": e.meta.effective,
            },
        )
    ],
    ("Cluster", "BusinessCaseRecorded"): _business_case,
    ("Cluster", "FundingGranted"): lambda e: [
        (S_CLUSTER_FUNDING, {"b_id": _id(e), "b_amount": pence(e.event.amount)})
    ],
    ("Cluster", "BenefitRealised"): lambda e: [
        (
            S_CLUSTER_CASHABLE if e.event.kind == "cashable" else S_CLUSTER_NON_CASHABLE,
            {"b_id": _id(e), "b_amount": pence(e.event.amount)},
        )
    ],
    ("Cluster", "AssuranceRated"): lambda e: [
        (
            S_CLUSTER_RATING,
            {
                "b_at": stamp_of(e),
                "b_id": _id(e),
                "b_rating": e.event.rating,
                "b_assessor": e.event.assessor,
                "b_on": e.meta.effective,
            },
        )
    ],
    ("Department", "Registered"): lambda e: [
        (
            S_DEPT_INSERT,
            {
                "id": _id(e),
                "code": e.event.code,
                "name": e.event.name,
                "kind": e.event.kind,
                "parent_id": e.event.parent_id.hex if e.event.parent_id else None,
                "headcount": e.event.headcount,
                "cluster_id": None,
            },
        )
    ],
    ("Department", "Renamed"): lambda e: [
        (S_DEPT_NAME, {"b_at": stamp_of(e), "b_id": _id(e), "b_name": e.event.name})
    ],
    ("Department", "Recoded"): lambda e: [
        (S_DEPT_CODE, {"b_at": stamp_of(e), "b_id": _id(e), "b_code": e.event.code})
    ],
    ("Department", "HeadcountRecorded"): lambda e: [
        (S_DEPT_HEADCOUNT, {"b_at": stamp_of(e), "b_id": _id(e), "b_headcount": e.event.headcount})
    ],
    ("Department", "JoinedCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_at": stamp_of(e), "b_id": _id(e), "b_cluster": e.event.cluster_id.hex})
    ],
    ("Department", "MovedCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_at": stamp_of(e), "b_id": _id(e), "b_cluster": e.event.cluster_id.hex})
    ],
    ("Department", "LeftCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_at": stamp_of(e), "b_id": _id(e), "b_cluster": None})
    ],
    ("Contract", "Tendered"): lambda e: [
        (S_CONTRACT_INSERT, _contract_row(e, estimated_value_pence=pence(e.event.estimated_value)))
    ],
    ("Contract", "Awarded"): _contract_awarded,
    ("Contract", "TenderAwarded"): lambda e: [
        (
            S_CONTRACT_AWARD,
            {
                "b_at": stamp_of(e),
                "b_id": _id(e),
                "b_kind": e.event.kind,
                "b_supplier": e.event.supplier,
                "b_value": pence(e.event.value),
                "b_start": e.event.start,
                "b_term": e.event.term_months,
                "b_allowance": e.event.extension_months,
                "b_bundled": e.event.bundled_with,
                "b_framework": e.event.framework,
            },
        )
    ],
    ("Contract", "BundleLinked"): lambda e: [
        (
            S_CONTRACT_BUNDLE,
            {"b_at": stamp_of(e), "b_id": _id(e), "b_bundled": e.event.bundled_with},
        )
    ],
    ("Contract", "Extended"): lambda e: [
        (S_CONTRACT_EXTEND, {"b_id": _id(e), "b_months": e.event.months})
    ],
    ("Contract", "Varied"): lambda e: [
        (S_CONTRACT_VALUE, {"b_at": stamp_of(e), "b_id": _id(e), "b_value": pence(e.event.value)})
    ],
    ("Contract", "Corrected"): _contract_corrected,
    ("Contract", "Terminated"): lambda e: [
        (S_CONTRACT_TERMINATED, {"b_at": stamp_of(e), "b_id": _id(e), "b_on": e.meta.effective})
    ],
    ("Decision", "Proposed"): _decision_proposed,
    ("Decision", "Accepted"): lambda e: [
        (S_DECISION_STATUS, {"b_at": stamp_of(e), "b_id": _id(e), "b_status": "accepted"})
    ],
    ("Decision", "Rejected"): lambda e: [
        (S_DECISION_STATUS, {"b_at": stamp_of(e), "b_id": _id(e), "b_status": "rejected"})
    ],
    ("Decision", "Superseded"): lambda e: [
        (S_DECISION_SUPERSEDED, {"b_at": stamp_of(e), "b_id": _id(e), "b_by": e.event.by})
    ],
    ("Decision", "Supersedes"): lambda e: [
        (S_DECISION_SUPERSEDES, {"b_id": _id(e), "b_other": e.event.supersedes})
    ],
}
