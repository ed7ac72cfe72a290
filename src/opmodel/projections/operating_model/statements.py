"""The prepared statements the handlers run, built once; :data:`STATEMENTS` numbers them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Date,
    String,
    Table,
    Text,
    bindparam,
    case,
    delete,
    exists,
    insert,
    literal,
    select,
    update,
)

from opmodel.projections.operating_model.tables import (
    business_cases,
    clusters,
    contracts,
    decision_concerns,
    decisions,
    departments,
    onboardings,
    phases,
)


def _b(name: str) -> Any:
    return bindparam(f"b_{name}")


def _set(table: Table, **columns: Any) -> Any:
    """``UPDATE table SET … WHERE id = :b_id`` with bind parameters."""
    return update(table).where(table.c.id == _b("id")).values(**columns)


def _set_newer(table: Table, stamp: str, **columns: Any) -> Any:
    """As :func:`_set`, only if the fact is newer than the one that set ``stamp``.

    The present model is the model as of the latest facts, whatever order they
    were recorded in: a fact recorded late with an earlier ``--effective`` date
    (a backdated correction) must not overwrite one that took effect after it.
    Each value set by such facts carries the stamp ``YYYY-MM-DD#position`` of the
    fact that set it, and a fact changes it only if its own stamp is greater, which
    is the (effective, position) order SPEC §3 applies to ``--as-of``. A created
    row's stamps are empty: any later fact about the thing overrides it.
    """
    column = table.c[stamp]
    return _set(table, **columns, **{stamp: _b("at")}).where(column < _b("at"))


def _newer(table: Table, stamp: str, column: str, value: Any) -> Any:
    """``value`` if this fact is newer than the one that set ``stamp``, else the column as is."""
    return case((table.c[stamp] < _b("at"), value), else_=table.c[column])


def _stamp_max(table: Table, stamp: str) -> Any:
    return case((table.c[stamp] < _b("at"), _b("at")), else_=table.c[stamp])


# Statements are built once; runs of the same statement become one executemany.
S_CLUSTER_INSERT = insert(clusters)
S_CLUSTER_LEAD = _set_newer(clusters, "lead_at", lead_id=_b("lead"))
S_CLUSTER_FUNDING = _set(clusters, funding_pence=clusters.c.funding_pence + _b("amount"))
S_CLUSTER_CASHABLE = _set(clusters, cashable_pence=clusters.c.cashable_pence + _b("amount"))
S_CLUSTER_NON_CASHABLE = _set(
    clusters, non_cashable_pence=clusters.c.non_cashable_pence + _b("amount")
)
S_CLUSTER_RATING = _set_newer(
    clusters, "rating_at", rating=_b("rating"), rating_assessor=_b("assessor"), rated_on=_b("on")
)
S_DEPT_INSERT = insert(departments)
S_DEPT_NAME = _set_newer(departments, "name_at", name=_b("name"))
S_DEPT_CODE = _set_newer(departments, "code_at", code=_b("code"))
S_DEPT_HEADCOUNT = _set_newer(departments, "headcount_at", headcount=_b("headcount"))
S_DEPT_CLUSTER = _set_newer(departments, "cluster_at", cluster_id=_b("cluster"))
# A phase's plan is changed only by a newer plan, and never clears its start or
# completion: a re-plan recorded late with an earlier --effective leaves them be.
_phase_key = (phases.c.cluster_id == _b("cluster_id"), phases.c.number == _b("number"))
S_PHASE_REPLAN = (
    update(phases)
    .where(*_phase_key, phases.c.plan_at < _b("at"))
    .values(
        name=_b("name"),
        planned_start=bindparam("b_planned_start", type_=Date),
        planned_end=bindparam("b_planned_end", type_=Date),
        plan_at=_b("at"),
    )
)
_PLAN_COLUMNS = ("cluster_id", "number", "name", "planned_start", "planned_end")
S_PHASE_PLAN = insert(phases).from_select(
    [*_PLAN_COLUMNS, "plan_at"],
    select(
        *(bindparam(f"b_{c}", type_=phases.c[c].type) for c in _PLAN_COLUMNS),
        bindparam("b_at", type_=String),
    ).where(~exists().where(*_phase_key)),
)
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


def _award(column: str, stamp: str, value: str | Any) -> dict[str, Any]:
    """SET column as a newer fact would (an award sets many at once).

    ``value`` names the bind parameter (``kind`` for ``:b_kind``, typed as the
    column) or is an SQL expression.
    """
    if isinstance(value, str):
        value = bindparam(f"b_{value}", type_=contracts.c[column].type)
    return {column: _newer(contracts, stamp, column, value)}


S_CONTRACT_AWARD = _set(
    contracts,
    **_award("status", "status_at", literal("active", String)),
    **_award("kind", "status_at", "kind"),
    **_award("framework", "status_at", "framework"),
    **_award("supplier", "supplier_at", "supplier"),
    **_award("value_pence", "value_at", "value"),
    **_award("start", "start_at", "start"),
    **_award("term_months", "term_at", "term"),
    **_award("extension_months", "allowance_at", "allowance"),
    **_award("bundled_with", "bundled_at", "bundled"),
    **{
        stamp: _stamp_max(contracts, stamp)
        for stamp in (
            "status_at",
            "supplier_at",
            "value_at",
            "start_at",
            "term_at",
            "allowance_at",
            "bundled_at",
        )
    },
)
S_CONTRACT_BUNDLE = _set_newer(contracts, "bundled_at", bundled_with=_b("bundled"))
S_CONTRACT_EXTEND = _set(contracts, extended_months=contracts.c.extended_months + _b("months"))
S_CONTRACT_VALUE = _set_newer(contracts, "value_at", value_pence=_b("value"))
# A tendered contract's value is its estimate until it is awarded: a corrected value is both.
S_CONTRACT_VALUE_ESTIMATE = _set_newer(
    contracts, "value_at", value_pence=_b("value"), estimated_value_pence=_b("value")
)
S_CONTRACT_TERM = _set_newer(contracts, "term_at", term_months=_b("value"))
S_CONTRACT_ALLOWANCE = _set_newer(contracts, "allowance_at", extension_months=_b("value"))
S_CONTRACT_START = _set_newer(contracts, "start_at", start=bindparam("b_value", type_=Date))
S_CONTRACT_SUPPLIER = _set_newer(contracts, "supplier_at", supplier=_b("value"))
S_CONTRACT_TERMINATED = _set_newer(
    contracts, "status_at", status="terminated", terminated_on=_b("on")
)
S_DECISION_INSERT = insert(decisions)
S_DECISION_CONCERN = insert(decision_concerns)
# A status set by a newer fact replaces a supersession applied before it.
S_DECISION_STATUS = _set_newer(decisions, "status_at", status=_b("status"), superseded_by=None)
S_DECISION_SUPERSEDED = _set_newer(
    decisions, "status_at", status="superseded", superseded_by=_b("by")
)
_other = bindparam("b_other", type_=Text)
S_DECISION_SUPERSEDES = _set(
    decisions,
    supersedes=case(
        (decisions.c.supersedes.is_(None), _other),
        else_=decisions.c.supersedes + "," + _other,
    ),
)
# A stage's business case is replaced only by a newer fact, and inserted only where
# no (newer) one is left.
S_CASE_DELETE = delete(business_cases).where(
    business_cases.c.cluster_id == _b("cluster_id"),
    business_cases.c.stage == _b("stage"),
    business_cases.c.stamp < _b("at"),
)
_CASE_COLUMNS = (
    "cluster_id",
    "stage",
    "status",
    "cost_pence",
    "benefits_pence",
    "period_years",
    "recorded_on",
)
S_CASE_INSERT = insert(business_cases).from_select(
    [*_CASE_COLUMNS, "stamp"],
    select(
        *(bindparam(f"b_{c}", type_=business_cases.c[c].type) for c in _CASE_COLUMNS),
        bindparam("b_at", type_=String),
    ).where(
        ~exists().where(
            business_cases.c.cluster_id == _b("cluster_id"),
            business_cases.c.stage == _b("stage"),
        )
    ),
)


#: Every statement the handlers use, by number (a helper process names them so).
STATEMENTS: tuple[Any, ...] = tuple(
    value for key, value in list(globals().items()) if key.startswith("S_")
)
