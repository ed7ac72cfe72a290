"""The operating model's SQL tables: one row per thing, money in pence, stamps of facts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
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
