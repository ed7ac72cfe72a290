"""A cluster: its members and lead, its delivery phases, and its governance record.

Membership is held here and on each :class:`~opmodel.domain.department.Department`:
a join or a leave changes both, saved together, so that every rule below is
checked against the state of an aggregate the command itself changes, and
optimistic concurrency closes every race between two writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.values import BUSINESS_CASE_STAGES, Meta
from opmodel.errors import (
    AlreadyInCluster,
    AlreadyOnboarded,
    BusinessCaseOutOfOrder,
    InvalidPlannedDates,
    LeadCannotLeave,
    LeadMustBeMember,
    NotFound,
    NotInCluster,
    PhaseAlreadyCompleted,
    PhaseAlreadyStarted,
    PhaseNotInProgress,
    PhaseOutOfOrder,
    PhaseOutOfRange,
)


@dataclass
class Phase:
    """A delivery phase as the cluster aggregate holds it."""

    number: int
    name: str
    planned_start: date | None = None
    planned_end: date | None = None
    started: date | None = None
    completed: date | None = None
    onboarded: list[UUID] = field(default_factory=list)


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
        self.phase_count = phase_count
        self.description = description
        self.members: set[UUID] = set()
        self.lead: UUID | None = None
        self.phases: dict[int, Phase] = {}
        self.onboarded: set[UUID] = set()
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

    # --- delivery phases ---------------------------------------------------

    def check_phase_in_range(self, number: int) -> None:
        """Rule: a phase number is between 1 and the cluster's phase count."""
        if not 1 <= number <= self.phase_count:
            raise PhaseOutOfRange(
                f"cluster {self.name} has {self.phase_count} phases; "
                f"phase {number} is not between 1 and {self.phase_count}",
                cluster=self.name,
                phase=number,
            )

    def phase(self, number: int) -> Phase:
        """The planned phase ``number``, or :class:`NotFound`."""
        self.check_phase_in_range(number)
        try:
            return self.phases[number]
        except KeyError:
            raise NotFound(
                f"phase {self.name}:{number} has not been planned: "
                f"plan it first (opmodel phase plan {self.name} {number} --name TEXT)",
                cluster=self.name,
                phase=number,
            ) from None

    def plan_phase(
        self,
        number: int,
        name: str,
        planned_start: date | None,
        planned_end: date | None,
        meta: Meta,
    ) -> None:
        """Plan (or re-plan, until it starts) a delivery phase."""
        self.check_phase_in_range(number)
        existing = self.phases.get(number)
        if existing is not None and existing.started is not None:
            raise PhaseAlreadyStarted(
                f"phase {self.name}:{number} started on {existing.started} "
                "and can no longer be re-planned",
                cluster=self.name,
                phase=number,
            )
        if planned_start and planned_end and planned_end < planned_start:
            raise InvalidPlannedDates(
                f"phase {self.name}:{number} cannot end ({planned_end}) "
                f"before it starts ({planned_start})",
                cluster=self.name,
                phase=number,
            )
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
        previous = self.phases.get(number)
        self.phases[number] = Phase(
            number=number,
            name=name,
            planned_start=planned_start,
            planned_end=planned_end,
            onboarded=previous.onboarded if previous else [],
        )

    def start_phase(self, number: int, meta: Meta) -> None:
        """Start a planned phase, after the one before it has started."""
        phase = self.phase(number)
        if phase.started is not None:
            raise PhaseAlreadyStarted(
                f"phase {self.name}:{number} already started on {phase.started}",
                cluster=self.name,
                phase=number,
            )
        self.check_follows_previous(number, "start", meta.effective)
        self._phase_started(number=number, meta=meta)

    def check_follows_previous(self, number: int, step: str, on: date) -> None:
        """Rule: phase k starts (completes) only once k-1 has, and not on an earlier date."""
        if number == 1:
            return
        before = self.phases.get(number - 1)
        done = None if before is None else before.started if step == "start" else before.completed
        past = "started" if step == "start" else "completed"
        if done is None:
            raise PhaseOutOfOrder(
                f"phase {self.name}:{number} cannot {step} before phase "
                f"{self.name}:{number - 1} has {past}",
                cluster=self.name,
                phase=number,
            )
        if on < done:
            raise PhaseOutOfOrder(
                f"phase {self.name}:{number} cannot {step} on {on}, before "
                f"phase {self.name}:{number - 1} {past} ({done})",
                cluster=self.name,
                phase=number,
            )

    @event(PhaseStarted)
    def _phase_started(self, number: int, meta: Meta) -> None:
        self.phases[number].started = meta.effective

    def complete_phase(self, number: int, meta: Meta) -> None:
        """Complete a started phase, after the one before it has completed."""
        phase = self.phase(number)
        if phase.completed is not None:
            raise PhaseAlreadyCompleted(
                f"phase {self.name}:{number} already completed on {phase.completed}",
                cluster=self.name,
                phase=number,
            )
        if phase.started is None:
            raise PhaseNotInProgress(
                f"phase {self.name}:{number} has not started, so it cannot complete: "
                f"start it first (opmodel phase start {self.name} {number})",
                cluster=self.name,
                phase=number,
            )
        if meta.effective < phase.started:
            raise PhaseOutOfOrder(
                f"phase {self.name}:{number} cannot complete on {meta.effective}, before it "
                f"started ({phase.started})",
                cluster=self.name,
                phase=number,
            )
        self.check_follows_previous(number, "complete", meta.effective)
        self._phase_completed(number=number, meta=meta)

    @event(PhaseCompleted)
    def _phase_completed(self, number: int, meta: Meta) -> None:
        self.phases[number].completed = meta.effective

    def onboard(self, number: int, department_id: UUID, code: str, meta: Meta) -> None:
        """A member department goes live in a phase in progress, once per cluster."""
        phase = self.phase(number)
        if phase.started is None or phase.completed is not None:
            state = "has not started" if phase.started is None else "has completed"
            raise PhaseNotInProgress(
                f"department {code} cannot go live in phase {self.name}:{number}: "
                f"the phase {state}; onboard into a phase in progress",
                cluster=self.name,
                phase=number,
                department=code,
            )
        if meta.effective < phase.started:
            raise PhaseNotInProgress(
                f"department {code} cannot go live in phase {self.name}:{number} on "
                f"{meta.effective}, before the phase started ({phase.started})",
                cluster=self.name,
                phase=number,
                department=code,
            )
        self.check_is_member(department_id, code)
        if department_id in self.onboarded:
            where = next(p.number for p in self.phases.values() if department_id in p.onboarded)
            raise AlreadyOnboarded(
                f"department {code} already went live in cluster {self.name} "
                f"(phase {self.name}:{where}); a department onboards once per cluster",
                cluster=self.name,
                phase=where,
                department=code,
            )
        self._department_onboarded(
            number=number, department_id=department_id, department=code, meta=meta
        )

    @event(DepartmentOnboarded)
    def _department_onboarded(
        self, number: int, department_id: UUID, department: str, meta: Meta
    ) -> None:
        self.phases[number].onboarded.append(department_id)
        self.onboarded.add(department_id)

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
