"""The operating model read model: everything ``show`` reports, as SQL tables.

Money is held in whole pence (``BIGINT``), exact and summable in SQL; dates as
SQL dates. Derived contract dates (``end``, ``max_end``) and the ``expired``
status depend on the day asked about, so :func:`query_model` computes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from operator import itemgetter
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
    exists,
    insert,
    literal,
    select,
    update,
)

from opmodel.domain.values import add_months
from opmodel.errors import NotFound
from opmodel.projections.base import (
    AnyOperation,
    Envelope,
    Operation,
    Planned,
    event_names,
    pence,
)

metadata = MetaData()


def stamps(*names: str) -> list[Column[str]]:
    """Columns saying which fact last set a value: ``effective#position`` (see below)."""
    return [
        Column(name, String(24), nullable=False, server_default="", info={"stamp": True})
        for name in names
    ]


def facts(table: Table) -> list[Column[Any]]:
    """A table's columns without its stamps: what queries read.

    Queries name these columns rather than ``SELECT *``, so a store whose read
    models predate the stamps still answers until its next write rebuilds them.
    """
    return [c for c in table.c if not c.info.get("stamp")]


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
    *stamps("lead_at", "rating_at"),
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
    *stamps("name_at", "code_at", "headcount_at", "cluster_at"),
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
    *stamps("plan_at"),
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
    *stamps("status_at", "supplier_at", "value_at", "start_at", "term_at", "allowance_at"),
    *stamps("bundled_at"),
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
    *stamps("status_at"),
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
    *stamps("stamp"),
)

STAGE_ORDER = {"SOC": 0, "OBC": 1, "FBC": 2}


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


def stamp_of(e: Envelope) -> str:
    """The (effective, position) order of a fact, as text that sorts the same way."""
    return f"{e.meta.effective.isoformat()}#{e.position:012d}"


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


class OperatingModelProjection:
    """Clusters, members, leads, phases, contracts, decisions and governance."""

    name: ClassVar[str] = "operating_model"
    metadata: ClassVar[MetaData] = metadata
    reads_stored: ClassVar[bool] = False

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        # Each handler's operations follow from its event alone.
        return Planned(grouped(_by_thing(batch)))

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> list[AnyOperation]:
        return self.plan(batch).operations(conn)


def _by_thing(batch: Sequence[Envelope]) -> Iterator[tuple[str, Operation]]:
    """Each event's operations, with the id of the thing it is about."""
    for envelope in batch:
        handler = _handler_of(type(envelope.event))
        if handler is _none:
            continue
        ident = envelope.ident
        for operation in handler(envelope):
            yield ident, operation


def _none(_: Envelope) -> Iterable[Operation]:
    return ()


#: Event class -> its handler (``_HANDLERS`` is keyed by names; this saves the lookup).
_HANDLER_OF_CLASS: dict[type, Callable[[Envelope], Iterable[Operation]]] = {}


def _handler_of(event_class: type) -> Callable[[Envelope], Iterable[Operation]]:
    """The handler of an event class (``_none`` when this read model has none)."""
    handler = _HANDLER_OF_CLASS.get(event_class)
    if handler is None:
        handler = _HANDLERS.get(event_names(event_class)[:2], _none)
        _HANDLER_OF_CLASS[event_class] = handler
    return handler


def changes_the_model(envelope: Envelope) -> bool:
    """Whether this read model has a handler for the event (time travel reads only those)."""
    return _handler_of(type(envelope.event)) is not _none


def grouped(operations: Iterable[tuple[str, Operation]]) -> list[AnyOperation]:
    """Operations reordered so that runs of one statement are long, each thing's in order.

    Every handler changes only rows of the thing its event is about (a cluster's
    rows, phases, go-lives and business cases; a department's row; a contract's;
    a decision's and its concerns), so operations on different things commute,
    and only each thing's own operations must keep their order. An operation
    joins the latest group of its statement (and parameter names) when no later
    group holds an operation on the same thing; otherwise it starts a new group.
    The groups then go to the database in order, each as one ``executemany``.
    """
    groups: list[tuple[Any, list[dict[str, Any]]]] = []
    latest: dict[tuple[Any, tuple[str, ...]], int] = {}  # statement, names -> group
    last_of: dict[str, int] = {}  # thing -> the group of its latest operation
    for thing, (statement, params) in operations:
        key = (id(statement), tuple(params))
        index = latest.get(key)
        if index is None or index < last_of.get(thing, -1):
            index = len(groups)
            groups.append((statement, []))
            latest[key] = index
        groups[index][1].append(params)
        last_of[thing] = index
    return [(statement, params) for statement, rows in groups for params in rows]


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


_HANDLERS: dict[tuple[str, str], Any] = {
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


# --- queries ------------------------------------------------------------------------


def _money(value_pence: int | None) -> str | None:
    """Pence as the JSON contract shows money (``format_money``), by integer arithmetic."""
    if value_pence is None:
        return None
    pounds, pence_ = divmod(abs(value_pence), 100)
    return f"{'-' if value_pence < 0 else ''}{pounds}.{pence_:02d}"


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
        end: date | None = add_months(start, term + extended)
        max_end: date | None = add_months(start, term + (allowance or 0))
    else:
        end = max_end = None
    shown = status
    if status == "active" and end is not None and on > end:
        shown = "expired"
    return {
        "ref": ref,
        "kind": kind,
        "supplier": supplier,
        "value_gbp": _money(value if status != "tendered" else estimate),
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
