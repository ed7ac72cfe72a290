"""What the read side answers, as frozen, typed models: ``show --json`` and ``history --json``.

Each model's fields are in the order SPEC §6 prints them, so that
``Model.model_validate(doc).model_dump(mode="json", by_alias=True) == doc`` for
every document the read models produce. Money stays a string of exact decimals
(:data:`Money`, the JSON form of :func:`~opmodel.domain.values.format_money`);
days are dates, shown as ``YYYY-MM-DD``. Keys that are not Python names
(``non-cashable``) are aliases; fields may be given by name too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from opmodel.domain.values import (
    BusinessCaseStage,
    BusinessCaseStatus,
    ContractKind,
    DepartmentKind,
    Rating,
)

#: Money as JSON shows it: an exact decimal of pounds with two decimals (``"933650000.00"``).
Money = Annotated[str, StringConstraints(pattern=r"^-?\d+\.\d{2}$")]

PhaseStatus = Literal["planned", "in_progress", "complete"]
ContractStatus = Literal["tendered", "active", "terminated", "expired"]
DecisionStatus = Literal["proposed", "accepted", "rejected", "superseded"]


class _Result(BaseModel):
    """A read result: immutable, exactly the keys SPEC §6 names, no others."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class PhaseView(_Result):
    """A delivery phase of a cluster, with the departments that went live in it."""

    number: int
    name: str
    status: PhaseStatus
    planned_start: date | None
    planned_end: date | None
    started: date | None
    completed: date | None
    onboarded: list[str]


class ContractView(_Result):
    """A contract with its derived dates and its status on the day asked about."""

    ref: str
    kind: ContractKind
    supplier: str | None
    value_gbp: Money | None
    start: date | None
    term_months: int | None
    extension_months: int | None
    extended_months: int
    end: date | None
    max_end: date | None
    status: ContractStatus
    bundled_with: str | None


class BusinessCaseView(_Result):
    """A cluster's business case at one stage."""

    stage: BusinessCaseStage
    status: BusinessCaseStatus
    cost_gbp: Money | None
    benefits_gbp: Money | None
    period_years: int | None
    recorded_on: date


class BenefitsView(_Result):
    """Benefits a cluster has realised, by kind."""

    cashable: Money
    non_cashable: Money = Field(alias="non-cashable")


class ClusterView(_Result):
    """A cluster: its lead, members, phases, contracts and governance."""

    name: str
    lead: str | None
    phase_count: int
    members: list[str]
    phases: list[PhaseView]
    contracts: list[ContractView]
    business_cases: list[BusinessCaseView]
    funding_gbp: Money
    benefits_realised_gbp: BenefitsView
    rating: Rating | None


class DepartmentView(_Result):
    """A department (or arm's-length body) and the cluster it belongs to."""

    code: str
    name: str
    kind: DepartmentKind
    parent: str | None
    cluster: str | None
    headcount: int | None


class DecisionView(_Result):
    """A decision, with the things it concerns (``cluster:Synergy``, ``department:DWP``, …)."""

    id: str
    title: str
    status: DecisionStatus
    concerns: list[str]
    superseded_by: str | None


class Model(_Result):
    """The operating model as ``show --json`` prints it: now, or at a point in time."""

    position: int
    as_of: date | None
    as_recorded: str | None
    clusters: list[ClusterView]
    departments: list[DepartmentView]
    decisions: list[DecisionView]


class HistoryEntry(_Result):
    """One stored event as ``history --json`` lists it (SPEC §3's metadata and a summary)."""

    position: int
    recorded_at: str
    effective: date
    actor: str
    reason: str | None
    source: str | None
    command_id: str
    subject: str
    event: str
    summary: str
    data: dict[str, Any]
