"""A cluster: its members and lead, its delivery phases, and its governance record.

Membership is held here and on each :class:`~opmodel.domain.department.Department`:
a join or a leave changes both, saved together, so that every rule below is
checked against the state of an aggregate the command itself changes, and
optimistic concurrency closes every race between two writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.phases import DeliveryPhases, Phase
from opmodel.domain.values import BUSINESS_CASE_STAGES, Meta
from opmodel.errors import (
    AlreadyInCluster,
    BusinessCaseOutOfOrder,
    LeadCannotLeave,
    LeadMustBeMember,
    NotInCluster,
)

__all__ = ["BusinessCase", "Cluster", "Phase"]


@dataclass
class BusinessCase:
    """The latest record of one business case stage."""

    status: str
    cost: Decimal | None = None
    benefits: Decimal | None = None
    period_years: int | None = None


class Cluster(Entity):
    """A group of departments moving onto one shared platform, led by one of them."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Formed(Event, Entity.Created):
        class_version = 1
        name: str
        phase_count: int
        description: str | None

    class MemberAdmitted(Event):
        class_version = 1
        department_id: UUID
        department: str

    class MemberReleased(Event):
        class_version = 1
        department_id: UUID
        department: str

    class LeadDesignated(Event):
        class_version = 1
        department_id: UUID
        department: str

    class PhasePlanned(Event):
        class_version = 1
        number: int
        name: str
        planned_start: date | None
        planned_end: date | None

    class PhaseStarted(Event):
        class_version = 1
        number: int

    class PhaseCompleted(Event):
        class_version = 1
        number: int

    class DepartmentOnboarded(Event):
        class_version = 1
        number: int
        department_id: UUID
        department: str

    class BusinessCaseRecorded(Event):
        class_version = 1
        stage: str
        status: str
        cost: Decimal | None
        benefits: Decimal | None
        period_years: int | None

    class FundingGranted(Event):
        class_version = 1
        amount: Decimal

    class BenefitRealised(Event):
        class_version = 1
        amount: Decimal
        kind: str
        period: str | None

    class AssuranceRated(Event):
        class_version = 1
        rating: str
        assessor: str | None

    @staticmethod
    def create_id(name: str) -> UUID:
        """Cluster names are unique ignoring case."""
        return natural_id("cluster", name)

    @event(Formed)
    def __init__(self, name: str, phase_count: int, description: str | None, meta: Meta) -> None:
        self.name = name
        self.description = description
        self.members: set[UUID] = set()
        self.lead: UUID | None = None
        self.delivery = DeliveryPhases(cluster=name, count=phase_count)
        self.business_cases: dict[str, BusinessCase] = {}

    # --- membership --------------------------------------------------------

    def admit(self, department_id: UUID, code: str, meta: Meta) -> None:
        """Record that a department joined (the department checks it was in no cluster)."""
        self.check_not_member(department_id, code)
        self._member_admitted(department_id=department_id, department=code, meta=meta)

    @event(MemberAdmitted)
    def _member_admitted(self, department_id: UUID, department: str, meta: Meta) -> None:
        self.members.add(department_id)

    def release(self, department_id: UUID, code: str, meta: Meta) -> None:
        """Record that a department left; the lead cannot leave."""
        self.check_is_member(department_id, code)
        self.check_lead_not_leaving(department_id, code)
        self._member_released(department_id=department_id, department=code, meta=meta)

    @event(MemberReleased)
    def _member_released(self, department_id: UUID, department: str, meta: Meta) -> None:
        self.members.discard(department_id)

    def check_is_member(self, department_id: UUID, code: str) -> None:
        """Rule: the department is a member of this cluster."""
        if department_id not in self.members:
            raise NotInCluster(
                f"department {code} is not a member of cluster {self.name}",
                department=code,
                cluster=self.name,
            )

    def check_not_member(self, department_id: UUID, code: str) -> None:
        """Rule: a department is admitted to a cluster it is not yet a member of."""
        if department_id in self.members:
            raise AlreadyInCluster(
                f"department {code} is already a member of cluster {self.name}",
                department=code,
                cluster=self.name,
            )

    def check_lead_not_leaving(self, department_id: UUID, code: str) -> None:
        """Rule: the lead cannot leave before another lead is designated."""
        if self.lead == department_id:
            raise LeadCannotLeave(
                f"department {code} leads cluster {self.name} and cannot leave it: "
                f"designate another lead first (opmodel cluster lead {self.name} CODE)",
                department=code,
                cluster=self.name,
            )

    def designate_lead(self, department_id: UUID, code: str, meta: Meta) -> None:
        """Make a member department the cluster's lead."""
        if department_id not in self.members:
            raise LeadMustBeMember(
                f"department {code} cannot lead cluster {self.name}: it is not a member; "
                f"join it first (opmodel department join {code} {self.name})",
                department=code,
                cluster=self.name,
            )
        self._lead_designated(department_id=department_id, department=code, meta=meta)

    @event(LeadDesignated)
    def _lead_designated(self, department_id: UUID, department: str, meta: Meta) -> None:
        self.lead = department_id

    # --- delivery phases (their rules and state: opmodel.domain.phases) -----

    @property
    def phase_count(self) -> int:
        """How many delivery phases the cluster was formed with."""
        return self.delivery.count

    @property
    def phases(self) -> dict[int, Phase]:
        """The planned phases, by number."""
        return self.delivery.planned

    @property
    def onboarded(self) -> set[UUID]:
        """The departments gone live in one of the cluster's phases."""
        return self.delivery.onboarded

    def phase(self, number: int) -> Phase:
        """The planned phase ``number``, or :class:`~opmodel.errors.NotFound`."""
        return self.delivery.get(number)

    def plan_phase(
        self,
        number: int,
        name: str,
        planned_start: date | None,
        planned_end: date | None,
        meta: Meta,
    ) -> None:
        """Plan (or re-plan, until it starts) a delivery phase."""
        self.delivery.check_can_plan(number, planned_start, planned_end)
        self._phase_planned(
            number=number,
            name=name,
            planned_start=planned_start,
            planned_end=planned_end,
            meta=meta,
        )

    @event(PhasePlanned)
    def _phase_planned(
        self,
        number: int,
        name: str,
        planned_start: date | None,
        planned_end: date | None,
        meta: Meta,
    ) -> None:
        self.delivery.plan(number, name, planned_start, planned_end)

    def start_phase(self, number: int, meta: Meta) -> None:
        """Start a planned phase, after the one before it has started."""
        self.delivery.check_can_start(number, meta.effective)
        self._phase_started(number=number, meta=meta)

    @event(PhaseStarted)
    def _phase_started(self, number: int, meta: Meta) -> None:
        self.delivery.start(number, meta.effective)

    def complete_phase(self, number: int, meta: Meta) -> None:
        """Complete a started phase, after the one before it has completed."""
        self.delivery.check_can_complete(number, meta.effective)
        self._phase_completed(number=number, meta=meta)

    @event(PhaseCompleted)
    def _phase_completed(self, number: int, meta: Meta) -> None:
        self.delivery.complete(number, meta.effective)

    def onboard(self, number: int, department_id: UUID, code: str, meta: Meta) -> None:
        """A member department goes live in a phase in progress, once per cluster."""
        self.delivery.check_in_progress(number, code, meta.effective)
        self.check_is_member(department_id, code)
        self.delivery.check_not_onboarded(department_id, code)
        self._department_onboarded(
            number=number, department_id=department_id, department=code, meta=meta
        )

    @event(DepartmentOnboarded)
    def _department_onboarded(
        self, number: int, department_id: UUID, department: str, meta: Meta
    ) -> None:
        self.delivery.onboard(number, department_id)

    # --- governance --------------------------------------------------------

    def record_business_case(
        self,
        stage: str,
        status: str,
        cost: Decimal | None,
        benefits: Decimal | None,
        period_years: int | None,
        meta: Meta,
    ) -> None:
        """Record a business case stage's submission or its outcome.

        Figures not given are carried forward from the stage's last record, so an
        approval recorded without repeating them keeps what was submitted.
        """
        self.check_business_case_order(stage)
        previous = self.business_cases.get(stage) or BusinessCase(status="none")
        cost = cost if cost is not None else previous.cost
        benefits = benefits if benefits is not None else previous.benefits
        if period_years is None:
            period_years = previous.period_years
        self._business_case_recorded(
            stage=stage,
            status=status,
            cost=cost,
            benefits=benefits,
            period_years=period_years,
            meta=meta,
        )

    def check_business_case_order(self, stage: str) -> None:
        """Rule: stages go SOC, OBC, FBC; none is recorded after a later one or once approved."""
        order = BUSINESS_CASE_STAGES.index(stage)
        for later in BUSINESS_CASE_STAGES[order + 1 :]:
            if later in self.business_cases:
                raise BusinessCaseOutOfOrder(
                    f"cluster {self.name} already has a {later} business case; "
                    f"a {stage} cannot follow it",
                    cluster=self.name,
                    stage=stage,
                )
        current = self.business_cases.get(stage)
        if current is not None and current.status == "approved":
            raise BusinessCaseOutOfOrder(
                f"the {stage} business case of cluster {self.name} is already approved; "
                f"record the next stage instead",
                cluster=self.name,
                stage=stage,
            )

    @event(BusinessCaseRecorded)
    def _business_case_recorded(
        self,
        stage: str,
        status: str,
        cost: Decimal | None,
        benefits: Decimal | None,
        period_years: int | None,
        meta: Meta,
    ) -> None:
        self.business_cases[stage] = BusinessCase(status, cost, benefits, period_years)

    def grant_funding(self, amount: Decimal, meta: Meta) -> None:
        """Record a funding envelope granted to the cluster."""
        self._funding_granted(amount=amount, meta=meta)

    @event(FundingGranted)
    def _funding_granted(self, amount: Decimal, meta: Meta) -> None:
        pass  # the funding total is the read model's; no rule depends on it

    def realise_benefit(self, amount: Decimal, kind: str, period: str | None, meta: Meta) -> None:
        """Record benefits realised by the cluster."""
        self._benefit_realised(amount=amount, kind=kind, period=period, meta=meta)

    @event(BenefitRealised)
    def _benefit_realised(self, amount: Decimal, kind: str, period: str | None, meta: Meta) -> None:
        pass  # realised benefits are totalled by the read model

    def rate(self, rating: str, assessor: str | None, meta: Meta) -> None:
        """Record a delivery confidence (assurance) rating."""
        self._assurance_rated(rating=rating, assessor=assessor, meta=meta)

    @event(AssuranceRated)
    def _assurance_rated(self, rating: str, assessor: str | None, meta: Meta) -> None:
        pass  # the latest rating is the read model's
