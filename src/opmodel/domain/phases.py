"""A cluster's delivery phases: their state and the rules that order them.

:class:`~opmodel.domain.cluster.Cluster` holds one :class:`DeliveryPhases` and
delegates to it: it checks a rule here before raising its own event, and its
event's body calls the matching change here, so the state is rebuilt the same
way on every replay. Membership stays with the cluster, which checks it between
"the phase is in progress" and "the department has not gone live already".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from uuid import UUID

from opmodel.errors import (
    AlreadyOnboarded,
    InvalidPlannedDates,
    NotFound,
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
class DeliveryPhases:
    """The numbered phases of one cluster, planned, started, completed, gone live in."""

    cluster: str
    count: int
    planned: dict[int, Phase] = field(default_factory=dict)
    onboarded: set[UUID] = field(default_factory=set)

    def check_in_range(self, number: int) -> None:
        """Rule: a phase number is between 1 and the cluster's phase count."""
        if not 1 <= number <= self.count:
            raise PhaseOutOfRange(
                f"cluster {self.cluster} has {self.count} phases; "
                f"phase {number} is not between 1 and {self.count}",
                cluster=self.cluster,
                phase=number,
            )

    def get(self, number: int) -> Phase:
        """The planned phase ``number``, or :class:`NotFound`."""
        self.check_in_range(number)
        try:
            return self.planned[number]
        except KeyError:
            raise NotFound(
                f"phase {self.cluster}:{number} has not been planned: "
                f"plan it first (opmodel phase plan {self.cluster} {number} --name TEXT)",
                cluster=self.cluster,
                phase=number,
            ) from None

    # --- rules, checked before the cluster raises its event -----------------

    def check_can_plan(self, number: int, start: date | None, end: date | None) -> None:
        """Rule: a phase is (re-)planned until it starts, and does not end before it starts."""
        self.check_in_range(number)
        existing = self.planned.get(number)
        if existing is not None and existing.started is not None:
            raise PhaseAlreadyStarted(
                f"phase {self.cluster}:{number} started on {existing.started} "
                "and can no longer be re-planned",
                cluster=self.cluster,
                phase=number,
            )
        if start and end and end < start:
            raise InvalidPlannedDates(
                f"phase {self.cluster}:{number} cannot end ({end}) before it starts ({start})",
                cluster=self.cluster,
                phase=number,
            )

    def check_can_start(self, number: int, on: date) -> None:
        """Rule: a planned phase starts once, after the one before it has started."""
        phase = self.get(number)
        if phase.started is not None:
            raise PhaseAlreadyStarted(
                f"phase {self.cluster}:{number} already started on {phase.started}",
                cluster=self.cluster,
                phase=number,
            )
        self.check_follows_previous(number, "start", on)

    def check_can_complete(self, number: int, on: date) -> None:
        """Rule: a started phase completes once, after the one before it has completed."""
        phase = self.get(number)
        if phase.completed is not None:
            raise PhaseAlreadyCompleted(
                f"phase {self.cluster}:{number} already completed on {phase.completed}",
                cluster=self.cluster,
                phase=number,
            )
        if phase.started is None:
            raise PhaseNotInProgress(
                f"phase {self.cluster}:{number} has not started, so it cannot complete: "
                f"start it first (opmodel phase start {self.cluster} {number})",
                cluster=self.cluster,
                phase=number,
            )
        if on < phase.started:
            raise PhaseOutOfOrder(
                f"phase {self.cluster}:{number} cannot complete on {on}, before it "
                f"started ({phase.started})",
                cluster=self.cluster,
                phase=number,
            )
        self.check_follows_previous(number, "complete", on)

    def check_follows_previous(
        self, number: int, step: Literal["start", "complete"], on: date
    ) -> None:
        """Rule: phase k starts (completes) only once k-1 has, and not on an earlier date."""
        if number == 1:
            return
        before = self.planned.get(number - 1)
        done = None if before is None else before.started if step == "start" else before.completed
        past = "started" if step == "start" else "completed"
        if done is None:
            raise PhaseOutOfOrder(
                f"phase {self.cluster}:{number} cannot {step} before phase "
                f"{self.cluster}:{number - 1} has {past}",
                cluster=self.cluster,
                phase=number,
            )
        if on < done:
            raise PhaseOutOfOrder(
                f"phase {self.cluster}:{number} cannot {step} on {on}, before "
                f"phase {self.cluster}:{number - 1} {past} ({done})",
                cluster=self.cluster,
                phase=number,
            )

    def check_in_progress(self, number: int, code: str, on: date) -> None:
        """Rule: a department goes live in a phase in progress, not before it started."""
        phase = self.get(number)
        if phase.started is None or phase.completed is not None:
            state = "has not started" if phase.started is None else "has completed"
            raise PhaseNotInProgress(
                f"department {code} cannot go live in phase {self.cluster}:{number}: "
                f"the phase {state}; onboard into a phase in progress",
                cluster=self.cluster,
                phase=number,
                department=code,
            )
        if on < phase.started:
            raise PhaseNotInProgress(
                f"department {code} cannot go live in phase {self.cluster}:{number} on "
                f"{on}, before the phase started ({phase.started})",
                cluster=self.cluster,
                phase=number,
                department=code,
            )

    def check_not_onboarded(self, department_id: UUID, code: str) -> None:
        """Rule: a department goes live once per cluster."""
        if department_id in self.onboarded:
            where = next(p.number for p in self.planned.values() if department_id in p.onboarded)
            raise AlreadyOnboarded(
                f"department {code} already went live in cluster {self.cluster} "
                f"(phase {self.cluster}:{where}); a department onboards once per cluster",
                cluster=self.cluster,
                phase=where,
                department=code,
            )

    # --- changes, made by the cluster's event bodies (on replay too) --------

    def plan(self, number: int, name: str, start: date | None, end: date | None) -> None:
        """(Re-)plan phase ``number``, keeping who has gone live in it."""
        previous = self.planned.get(number)
        self.planned[number] = Phase(
            number=number,
            name=name,
            planned_start=start,
            planned_end=end,
            onboarded=previous.onboarded if previous else [],
        )

    def start(self, number: int, on: date) -> None:
        """Phase ``number`` started ``on``."""
        self.planned[number].started = on

    def complete(self, number: int, on: date) -> None:
        """Phase ``number`` completed ``on``."""
        self.planned[number].completed = on

    def onboard(self, number: int, department_id: UUID) -> None:
        """A department went live in phase ``number``."""
        self.planned[number].onboarded.append(department_id)
        self.onboarded.add(department_id)
