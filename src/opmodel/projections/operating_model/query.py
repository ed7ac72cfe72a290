"""The operating model as ``show --json`` reports it, read from its tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, select

from opmodel.domain.values import contract_end, format_money
from opmodel.errors import NotFound
from opmodel.projections.operating_model.tables import (
    business_cases,
    clusters,
    contracts,
    decision_concerns,
    decisions,
    departments,
    facts,
    onboardings,
    phases,
)

STAGE_ORDER = {"SOC": 0, "OBC": 1, "FBC": 2}


def money_json(value_pence: int | None) -> str | None:
    """Whole pence as the JSON contract shows money (:func:`format_money`)."""
    return None if value_pence is None else format_money(Decimal(value_pence).scaleb(-2))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


#: The contract columns :func:`_contract_json` reads, in the order it unpacks them.
CONTRACT_COLUMNS = (
    contracts.c.cluster_id,
    contracts.c.ref,
    contracts.c.kind,
    contracts.c.supplier,
    contracts.c.status,
    contracts.c.value_pence,
    contracts.c.estimated_value_pence,
    contracts.c.start,
    contracts.c.term_months,
    contracts.c.extension_months,
    contracts.c.extended_months,
    contracts.c.bundled_with,
)


def _contract_json(row: Sequence[Any], on: date) -> dict[str, Any]:
    """A contract as ``show --json`` reports it, from a row of :data:`CONTRACT_COLUMNS`.

    Rows are unpacked by position: a show of thousands of contracts spent most of
    its time in named attribute lookups on SQLAlchemy rows.
    """
    (_, ref, kind, supplier, status, value, estimate, start, term, allowance, extended,
     bundled_with) = row  # fmt: skip
    if start is not None and term is not None:
        end: date | None = contract_end(start, term + extended)
        max_end: date | None = contract_end(start, term + (allowance or 0))
    else:
        end = max_end = None
    shown = status
    if status == "active" and end is not None and on > end:
        shown = "expired"
    return {
        "ref": ref,
        "kind": kind,
        "supplier": supplier,
        "value_gbp": money_json(value if status != "tendered" else estimate),
        "start": _day(start),
        "term_months": term,
        "extension_months": allowance,
        "extended_months": extended,
        "end": _day(end),
        "max_end": _day(max_end),
        "status": shown,
        "bundled_with": bundled_with,
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
    cluster_rows = sorted(conn.execute(select(*facts(clusters))).all(), key=lambda r: r.name)
    if cluster is not None:
        cluster_rows = [r for r in cluster_rows if r.name_key == cluster.casefold()]
        if not cluster_rows:
            raise NotFound(f"cluster {cluster!r} does not exist", cluster=cluster)
    wanted = {r.id for r in cluster_rows}

    # Departments, decisions and concerns are many: their rows are unpacked by position.
    d = departments.c
    dept_rows = sorted(
        conn.execute(
            select(d.id, d.code, d.name, d.kind, d.parent_id, d.cluster_id, d.headcount)
        ).all(),
        key=itemgetter(1),
    )
    code_of = {row[0]: row[1] for row in dept_rows}
    name_of_cluster = {r.id: r.name for r in conn.execute(select(clusters.c.id, clusters.c.name))}

    members: dict[str, list[str]] = {cid: [] for cid in wanted}
    for _, code, _, _, _, cluster_id, _ in dept_rows:
        if cluster_id in members:
            members[cluster_id].append(code)

    onboarded: dict[tuple[str, int], list[str]] = {}
    for r in conn.execute(select(*facts(onboardings))):
        code = code_of.get(r.department_id)
        if code is not None:  # a time-travel view may not hold the department yet
            onboarded.setdefault((r.cluster_id, r.number), []).append(code)

    phases_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
    for r in conn.execute(select(*facts(phases)).order_by(phases.c.cluster_id, phases.c.number)):
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
    for row in sorted(conn.execute(select(*CONTRACT_COLUMNS)).all(), key=itemgetter(1)):
        if row[0] in contracts_of:
            contracts_of[row[0]].append(_contract_json(row, on))

    cases_of: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
    for r in conn.execute(select(*facts(business_cases))):
        if r.cluster_id in cases_of:
            cases_of[r.cluster_id].append(
                {
                    "stage": r.stage,
                    "status": r.status,
                    "cost_gbp": money_json(r.cost_pence),
                    "benefits_gbp": money_json(r.benefits_pence),
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
            "funding_gbp": money_json(r.funding_pence),
            "benefits_realised_gbp": {
                "cashable": money_json(r.cashable_pence),
                "non-cashable": money_json(r.non_cashable_pence),
            },
            "rating": r.rating,
        }
        for r in cluster_rows
    ]

    department_json = [
        {
            "code": code,
            "name": name,
            "kind": kind,
            "parent": code_of.get(parent_id) if parent_id else None,
            "cluster": name_of_cluster.get(cluster_id) if cluster_id else None,
            "headcount": headcount,
        }
        for _, code, name, kind, parent_id, cluster_id, headcount in dept_rows
        if cluster is None or cluster_id in wanted
    ]

    c = decision_concerns.c
    concerns: dict[str, list[tuple[str, str, str]]] = {}
    for decision_id, kind, target_id, key in conn.execute(
        select(c.decision_id, c.kind, c.target_id, c.key).order_by(c.decision_id, c.seq)
    ):
        concerns.setdefault(decision_id, []).append((kind, target_id, key))

    relevant_targets = (
        wanted
        | {row[0] for row in dept_rows if row[5] in wanted}
        | {
            r.id
            for r in conn.execute(select(contracts.c.id, contracts.c.cluster_id))
            if r.cluster_id in wanted
        }
    )

    def concern_key(kind: str, target_id: str, key: str) -> str:
        if kind == "department":
            return f"department:{code_of.get(target_id, key)}"
        return f"{kind}:{key}"

    k = decisions.c
    decision_json = [
        {
            "id": key,
            "title": title,
            "status": status,
            "concerns": [concern_key(*concern) for concern in concerns.get(ident, ())],
            "superseded_by": superseded_by,
        }
        for ident, key, title, status, superseded_by in conn.execute(
            select(k.id, k.key, k.title, k.status, k.superseded_by).order_by(k.number)
        )
        if cluster is None
        or any(target in relevant_targets for _, target, _ in concerns.get(ident, ()))
    ]
    return {"clusters": cluster_json, "departments": department_json, "decisions": decision_json}
