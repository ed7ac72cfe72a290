"""The operating model read model: everything ``show`` reports, as SQL tables.

Money is held in whole pence (``BIGINT``), exact and summable in SQL; dates as
SQL dates. Derived contract dates (``end``, ``max_end``) and the ``expired``
status depend on the day asked about, so :func:`query_model` computes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    delete,
    insert,
    select,
    update,
)

from opmodel.domain.values import add_months, format_money
from opmodel.errors import NotFound
from opmodel.projections.base import Envelope, Operation, pence

metadata = MetaData()

clusters = Table(
    "om_clusters",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),
    Column("phase_count", Integer, nullable=False),
    Column("description", Text),
    Column("lead_id", String(32)),
    Column("funding_pence", BigInteger, nullable=False),
    Column("cashable_pence", BigInteger, nullable=False),
    Column("non_cashable_pence", BigInteger, nullable=False),
    Column("rating", String(20)),
    Column("rating_assessor", Text),
    Column("rated_on", Date),
)

departments = Table(
    "om_departments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("code", String(12), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("parent_id", String(32)),
    Column("headcount", Integer),
    Column("cluster_id", String(32), index=True),
)

phases = Table(
    "om_phases",
    metadata,
    Column("cluster_id", String(32), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("planned_start", Date),
    Column("planned_end", Date),
    Column("started", Date),
    Column("completed", Date),
)

onboardings = Table(
    "om_onboardings",
    metadata,
    Column("cluster_id", String(32), primary_key=True),
    Column("department_id", String(32), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("onboarded_on", Date, nullable=False),
)

contracts = Table(
    "om_contracts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("ref", String(200), nullable=False),
    Column("cluster_id", String(32), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("supplier", Text),
    Column("value_pence", BigInteger),
    Column("estimated_value_pence", BigInteger),
    Column("start", Date),
    Column("term_months", Integer),
    Column("extension_months", Integer),
    Column("extended_months", Integer, nullable=False),
    Column("bundled_with", String(200)),
    Column("framework", Text),
    Column("terminated_on", Date),
)

decisions = Table(
    "om_decisions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("number", Integer, nullable=False, unique=True),
    Column("key", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("consequences", Text),
    Column("status", String(20), nullable=False),
    Column("superseded_by", String(20)),
    Column("supersedes", Text),  # the ids it supersedes, comma-separated, in order
)

decision_concerns = Table(
    "om_decision_concerns",
    metadata,
    Column("decision_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("target_id", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Index("om_decision_concerns_target", "target_id"),
)

business_cases = Table(
    "om_business_cases",
    metadata,
    Column("cluster_id", String(32), primary_key=True),
    Column("stage", String(3), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("cost_pence", BigInteger),
    Column("benefits_pence", BigInteger),
    Column("period_years", Integer),
    Column("recorded_on", Date, nullable=False),
)

STAGE_ORDER = {"SOC": 0, "OBC": 1, "FBC": 2}


def _b(name: str) -> Any:
    return bindparam(f"b_{name}")


def _set(table: Table, **columns: Any) -> Any:
    """``UPDATE table SET … WHERE id = :b_id`` with bind parameters."""
    return update(table).where(table.c.id == _b("id")).values(**columns)


# Statements are built once; runs of the same statement become one executemany.
S_CLUSTER_INSERT = insert(clusters)
S_CLUSTER_LEAD = _set(clusters, lead_id=_b("lead"))
S_CLUSTER_FUNDING = _set(clusters, funding_pence=clusters.c.funding_pence + _b("amount"))
S_CLUSTER_CASHABLE = _set(clusters, cashable_pence=clusters.c.cashable_pence + _b("amount"))
S_CLUSTER_NON_CASHABLE = _set(
    clusters, non_cashable_pence=clusters.c.non_cashable_pence + _b("amount")
)
S_CLUSTER_RATING = _set(
    clusters, rating=_b("rating"), rating_assessor=_b("assessor"), rated_on=_b("on")
)
S_DEPT_INSERT = insert(departments)
S_DEPT_NAME = _set(departments, name=_b("name"))
S_DEPT_CODE = _set(departments, code=_b("code"))
S_DEPT_HEADCOUNT = _set(departments, headcount=_b("headcount"))
S_DEPT_CLUSTER = _set(departments, cluster_id=_b("cluster"))
S_PHASE_DELETE = delete(phases).where(
    phases.c.cluster_id == _b("cluster"), phases.c.number == _b("number")
)
S_PHASE_INSERT = insert(phases)
S_PHASE_STARTED = (
    update(phases)
    .where(phases.c.cluster_id == _b("cluster"), phases.c.number == _b("number"))
    .values(started=_b("on"))
)
S_PHASE_COMPLETED = (
    update(phases)
    .where(phases.c.cluster_id == _b("cluster"), phases.c.number == _b("number"))
    .values(completed=_b("on"))
)
S_ONBOARD = insert(onboardings)
S_CONTRACT_INSERT = insert(contracts)
S_CONTRACT_AWARD = _set(
    contracts,
    status="active",
    kind=_b("kind"),
    supplier=_b("supplier"),
    value_pence=_b("value"),
    start=_b("start"),
    term_months=_b("term"),
    extension_months=_b("allowance"),
    bundled_with=_b("bundled"),
    framework=_b("framework"),
)
S_CONTRACT_BUNDLE = _set(contracts, bundled_with=_b("bundled"))
S_CONTRACT_EXTEND = _set(contracts, extended_months=contracts.c.extended_months + _b("months"))
S_CONTRACT_VALUE = _set(contracts, value_pence=_b("value"))
S_CONTRACT_ESTIMATE = _set(contracts, estimated_value_pence=_b("value"))
S_CONTRACT_TERM = _set(contracts, term_months=_b("value"))
S_CONTRACT_ALLOWANCE = _set(contracts, extension_months=_b("value"))
S_CONTRACT_START = _set(contracts, start=_b("value"))
S_CONTRACT_SUPPLIER = _set(contracts, supplier=_b("value"))
S_CONTRACT_TERMINATED = _set(contracts, status="terminated", terminated_on=_b("on"))
S_DECISION_INSERT = insert(decisions)
S_DECISION_CONCERN = insert(decision_concerns)
S_DECISION_STATUS = _set(decisions, status=_b("status"))
S_DECISION_SUPERSEDED = _set(decisions, status="superseded", superseded_by=_b("by"))
_other = bindparam("b_other", type_=Text)
S_DECISION_SUPERSEDES = _set(
    decisions,
    supersedes=case(
        (decisions.c.supersedes.is_(None), _other),
        else_=decisions.c.supersedes + "," + _other,
    ),
)
S_CASE_DELETE = delete(business_cases).where(
    business_cases.c.cluster_id == _b("cluster"), business_cases.c.stage == _b("stage")
)
S_CASE_INSERT = insert(business_cases)


class OperatingModelProjection:
    """Clusters, members, leads, phases, contracts, decisions and governance."""

    name: ClassVar[str] = "operating_model"
    metadata: ClassVar[MetaData] = metadata

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> Iterable[Operation]:
        for envelope in batch:
            handler = _HANDLERS.get((envelope.aggregate, envelope.name))
            if handler is not None:
                yield from handler(envelope)


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
    key = {"b_cluster": ev.originator_id.hex, "b_number": ev.number}
    yield S_PHASE_DELETE, key
    yield (
        S_PHASE_INSERT,
        {
            "cluster_id": ev.originator_id.hex,
            "number": ev.number,
            "name": ev.name,
            "planned_start": ev.planned_start,
            "planned_end": ev.planned_end,
            "started": None,
            "completed": None,
        },
    )


def _business_case(e: Envelope) -> Iterable[Operation]:
    ev = e.event
    yield S_CASE_DELETE, {"b_cluster": ev.originator_id.hex, "b_stage": ev.stage}
    yield (
        S_CASE_INSERT,
        {
            "cluster_id": ev.originator_id.hex,
            "stage": ev.stage,
            "status": ev.status,
            "cost_pence": pence(ev.cost),
            "benefits_pence": pence(ev.benefits),
            "period_years": ev.period_years,
            "recorded_on": e.meta.effective,
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
    for key, value in ev.changes.items():
        if key == "value":
            # A tendered contract's value is its estimate until it is awarded.
            yield S_CONTRACT_VALUE, {"b_id": ev.originator_id.hex, "b_value": pence(value)}
            yield S_CONTRACT_ESTIMATE, {"b_id": ev.originator_id.hex, "b_value": pence(value)}
        else:
            yield statements[key], {"b_id": ev.originator_id.hex, "b_value": value}


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


_HANDLERS: dict[tuple[str, str], Any] = {
    ("Cluster", "Formed"): _cluster_formed,
    ("Cluster", "LeadDesignated"): lambda e: [
        (S_CLUSTER_LEAD, {"b_id": _id(e), "b_lead": e.event.department_id.hex})
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
    ("Department", "Renamed"): lambda e: [(S_DEPT_NAME, {"b_id": _id(e), "b_name": e.event.name})],
    ("Department", "Recoded"): lambda e: [(S_DEPT_CODE, {"b_id": _id(e), "b_code": e.event.code})],
    ("Department", "HeadcountRecorded"): lambda e: [
        (S_DEPT_HEADCOUNT, {"b_id": _id(e), "b_headcount": e.event.headcount})
    ],
    ("Department", "JoinedCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_id": _id(e), "b_cluster": e.event.cluster_id.hex})
    ],
    ("Department", "MovedCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_id": _id(e), "b_cluster": e.event.cluster_id.hex})
    ],
    ("Department", "LeftCluster"): lambda e: [
        (S_DEPT_CLUSTER, {"b_id": _id(e), "b_cluster": None})
    ],
    ("Contract", "Tendered"): lambda e: [
        (S_CONTRACT_INSERT, _contract_row(e, estimated_value_pence=pence(e.event.estimated_value)))
    ],
    ("Contract", "Awarded"): _contract_awarded,
    ("Contract", "TenderAwarded"): lambda e: [
        (
            S_CONTRACT_AWARD,
            {
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
        (S_CONTRACT_BUNDLE, {"b_id": _id(e), "b_bundled": e.event.bundled_with})
    ],
    ("Contract", "Extended"): lambda e: [
        (S_CONTRACT_EXTEND, {"b_id": _id(e), "b_months": e.event.months})
    ],
    ("Contract", "Varied"): lambda e: [
        (S_CONTRACT_VALUE, {"b_id": _id(e), "b_value": pence(e.event.value)})
    ],
    ("Contract", "Corrected"): _contract_corrected,
    ("Contract", "Terminated"): lambda e: [
        (S_CONTRACT_TERMINATED, {"b_id": _id(e), "b_on": e.meta.effective})
    ],
    ("Decision", "Proposed"): _decision_proposed,
    ("Decision", "Accepted"): lambda e: [
        (S_DECISION_STATUS, {"b_id": _id(e), "b_status": "accepted"})
    ],
    ("Decision", "Rejected"): lambda e: [
        (S_DECISION_STATUS, {"b_id": _id(e), "b_status": "rejected"})
    ],
    ("Decision", "Superseded"): lambda e: [
        (S_DECISION_SUPERSEDED, {"b_id": _id(e), "b_by": e.event.by})
    ],
    ("Decision", "Supersedes"): lambda e: [
        (S_DECISION_SUPERSEDES, {"b_id": _id(e), "b_other": e.event.supersedes})
    ],
}


# --- queries ------------------------------------------------------------------------


def _money(value_pence: int | None) -> str | None:
    return None if value_pence is None else format_money(Decimal(value_pence) / 100)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _contract_json(row: Any, on: date) -> dict[str, Any]:
    start: date | None = row.start
    term: int | None = row.term_months
    allowance = row.extension_months or 0
    end = add_months(start, term + row.extended_months) if start and term is not None else None
    max_end = add_months(start, term + allowance) if start and term is not None else None
    status = row.status
    if status == "active" and end is not None and on > end:
        status = "expired"
    value = row.value_pence if row.status != "tendered" else row.estimated_value_pence
    return {
        "ref": row.ref,
        "kind": row.kind,
        "supplier": row.supplier,
        "value_gbp": _money(value),
        "start": _day(start),
        "term_months": term,
        "extension_months": row.extension_months,
        "extended_months": row.extended_months,
        "end": _day(end),
        "max_end": _day(max_end),
        "status": status,
        "bundled_with": row.bundled_with,
    }


def _phase_status(row: Any) -> str:
    if row.completed is not None:
        return "complete"
    if row.started is not None:
        return "in_progress"
    return "planned"


def department_ids(conn: Connection) -> dict[str, str]:
    """Each department's current code and its lasting id (which survives re-codes)."""
    return {r.code: r.id for r in conn.execute(select(departments.c.code, departments.c.id))}


def query_model(conn: Connection, *, cluster: str | None = None, on: date) -> dict[str, Any]:
    """The operating model as ``show --json`` reports it (without position/time keys).

    ``on`` is the day contract expiry is judged against. ``cluster`` narrows the
    answer to one cluster, its members and the decisions that concern it.
    """
    # Sorted in Python, not by SQL collation, so both backends give the same order.
    cluster_rows = sorted(conn.execute(select(clusters)).all(), key=lambda r: r.name)
    if cluster is not None:
        cluster_rows = [r for r in cluster_rows if r.name_key == cluster.casefold()]
        if not cluster_rows:
            raise NotFound(f"cluster {cluster!r} does not exist", cluster=cluster)
    wanted = {r.id for r in cluster_rows}

    dept_rows = sorted(conn.execute(select(departments)).all(), key=lambda r: r.code)
    code_of = {r.id: r.code for r in dept_rows}
    name_of_cluster = {r.id: r.name for r in conn.execute(select(clusters.c.id, clusters.c.name))}

    members: dict[str, list[str]] = {cid: [] for cid in wanted}
    for r in dept_rows:
        if r.cluster_id in members:
            members[r.cluster_id].append(r.code)

    onboarded: dict[tuple[str, int], list[str]] = {}
    for r in conn.execute(select(onboardings)):
        code = code_of.get(r.department_id)
        if code is not None:  # a time-travel view may not hold the department yet
            onboarded.setdefault((r.cluster_id, r.number), []).append(code)

    phases_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
    for r in conn.execute(select(phases).order_by(phases.c.cluster_id, phases.c.number)):
        if r.cluster_id in phases_of:
            phases_of[r.cluster_id].append(
                {
                    "number": r.number,
                    "name": r.name,
                    "status": _phase_status(r),
                    "planned_start": _day(r.planned_start),
                    "planned_end": _day(r.planned_end),
                    "started": _day(r.started),
                    "completed": _day(r.completed),
                    "onboarded": sorted(onboarded.get((r.cluster_id, r.number), [])),
                }
            )

    contracts_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
    for r in sorted(conn.execute(select(contracts)).all(), key=lambda r: r.ref):
        if r.cluster_id in contracts_of:
            contracts_of[r.cluster_id].append(_contract_json(r, on))

    cases_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
    for r in conn.execute(select(business_cases)):
        if r.cluster_id in cases_of:
            cases_of[r.cluster_id].append(
                {
                    "stage": r.stage,
                    "status": r.status,
                    "cost_gbp": _money(r.cost_pence),
                    "benefits_gbp": _money(r.benefits_pence),
                    "period_years": r.period_years,
                    "recorded_on": _day(r.recorded_on),
                }
            )
    for cases in cases_of.values():
        cases.sort(key=lambda c: STAGE_ORDER[c["stage"]])

    cluster_json = [
        {
            "name": r.name,
            "lead": code_of.get(r.lead_id) if r.lead_id else None,
            "phase_count": r.phase_count,
            "members": sorted(members[r.id]),
            "phases": phases_of[r.id],
            "contracts": contracts_of[r.id],
            "business_cases": cases_of[r.id],
            "funding_gbp": _money(r.funding_pence),
            "benefits_realised_gbp": {
                "cashable": _money(r.cashable_pence),
                "non-cashable": _money(r.non_cashable_pence),
            },
            "rating": r.rating,
        }
        for r in cluster_rows
    ]

    department_json = [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "parent": code_of.get(r.parent_id) if r.parent_id else None,
            "cluster": name_of_cluster.get(r.cluster_id) if r.cluster_id else None,
            "headcount": r.headcount,
        }
        for r in dept_rows
        if cluster is None or r.cluster_id in wanted
    ]

    concerns: dict[str, list[Any]] = {}
    for r in conn.execute(
        select(decision_concerns).order_by(decision_concerns.c.decision_id, decision_concerns.c.seq)
    ):
        concerns.setdefault(r.decision_id, []).append(r)

    relevant_targets = (
        wanted
        | {r.id for r in dept_rows if r.cluster_id in wanted}
        | {
            r.id
            for r in conn.execute(select(contracts.c.id, contracts.c.cluster_id))
            if r.cluster_id in wanted
        }
    )

    def concern_key(c: Any) -> str:
        if c.kind == "department":
            return f"department:{code_of.get(c.target_id, c.key)}"
        return f"{c.kind}:{c.key}"

    decision_json = [
        {
            "id": r.key,
            "title": r.title,
            "status": r.status,
            "concerns": [concern_key(c) for c in concerns.get(r.id, [])],
            "superseded_by": r.superseded_by,
        }
        for r in conn.execute(select(decisions).order_by(decisions.c.number))
        if cluster is None or any(c.target_id in relevant_targets for c in concerns.get(r.id, []))
    ]
    return {"clusters": cluster_json, "departments": department_json, "decisions": decision_json}
