"""Delivery phases as a state machine: plan, re-plan, start, complete, onboard.

The model is plain dicts and sets written from SPEC §2:

- a cluster has phases ``1..N`` (N its phase count); a phase is planned with a
  name and optional dates (end not before start) and can be re-planned until it
  starts;
- phase k starts only after k-1 has started, and completes only after it has
  started itself and k-1 has completed; neither happens twice; the dates recorded
  are the commands' effective dates, and "after" holds for them too: a command
  backdated to before the start (or completion) it must follow is refused;
- a department goes live in a started, not yet completed phase of its own
  cluster, once per cluster (leaving and joining again does not reset that).

Time moves forward from the day the clusters were formed; starts and completions
are sometimes backdated, never to before that day. Completing a phase on a date
before a department went live in it is a case the SPEC leaves open: either
outcome is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from opmodel.domain import Cluster, Department, DepartmentCode
from opmodel.errors import (
    AlreadyInCluster,
    AlreadyOnboarded,
    InvalidPlannedDates,
    NotFound,
    NotInCluster,
    OpmodelError,
    PhaseAlreadyCompleted,
    PhaseAlreadyStarted,
    PhaseNotInProgress,
    PhaseOutOfOrder,
    PhaseOutOfRange,
    PhaseRuleBreached,
)
from tests.handlers import command
from tests.property.harness import MACHINE_SETTINGS, NONE, Harness
from tests.strategies import (
    cluster_names,
    day_offsets,
    day_steps,
    department_codes,
    display_names,
    known_or,
    mostly,
    optional_dates,
    phase_counts,
    phase_numbers,
)

Rejections = set[type[OpmodelError]]

#: The run's first day: the clusters are formed and the departments registered on it.
EPOCH = date(2021, 3, 1)


@dataclass
class ModelPhase:
    name: str
    planned_start: date | None
    planned_end: date | None
    started: date | None = None
    completed: date | None = None
    onboarded: list[UUID] = field(default_factory=list)
    last_live: date | None = None  # when the last department went live in it


#: What phase 1 comes after: as if started and completed before anything else.
FIRST = ModelPhase("before the first", None, None, date.min, date.min)


@dataclass
class ModelCluster:
    name: str
    phase_count: int
    phases: dict[int, ModelPhase] = field(default_factory=dict)
    members: set[UUID] = field(default_factory=set)
    onboarded: set[UUID] = field(default_factory=set)


class PhaseMachine(Harness, RuleBasedStateMachine):
    """Phase commands (and the membership they depend on) against a model of each phase."""

    def __init__(self) -> None:
        super().__init__()
        self.open_app()
        self.clusters: dict[str, ModelCluster] = {}
        self.departments: dict[str, UUID] = {}  # code -> id
        self.cluster_of: dict[UUID, str] = {}  # department -> its cluster's name
        self.today = EPOCH

    # --- helpers -----------------------------------------------------------

    def known_aggregates(self) -> Iterable[tuple[type[Aggregate], UUID]]:
        for cluster in self.clusters.values():
            yield Cluster, Cluster.create_id(cluster.name)
        for code, department_id in self.departments.items():
            yield Department, department_id
            yield DepartmentCode, DepartmentCode.create_id(code)

    def some_cluster(self) -> st.SearchStrategy[str]:
        return known_or(self.clusters, cluster_names)

    def some_phase(self, step: str) -> st.SearchStrategy[tuple[str, int]]:
        """Mostly a phase that ``step`` (plan, start, complete, onboard) can act on now, if
        there is one; else any cluster and any number in its range, sometimes one out of it."""
        ready = [
            (name, number)
            for name, cluster in sorted(self.clusters.items())
            for number in range(1, cluster.phase_count + 1)
            if self.acts_on(cluster, number, step)
        ]
        anything = self.some_cluster().flatmap(
            lambda name: st.tuples(st.just(name), self.any_number(name))
        )
        return mostly(st.sampled_from(ready), anything) if ready else anything

    def any_number(self, cluster: str) -> st.SearchStrategy[int]:
        found = self.clusters.get(cluster)
        if found is None:
            return phase_numbers
        return mostly(st.integers(min_value=1, max_value=found.phase_count), phase_numbers)

    @staticmethod
    def acts_on(cluster: ModelCluster, number: int, step: str) -> bool:
        phase = cluster.phases.get(number)
        before = cluster.phases.get(number - 1) if number > 1 else FIRST
        if step == "plan":
            return phase is None or phase.started is None
        if phase is None or before is None:
            return False
        if step == "start":
            return phase.started is None and before.started is not None
        if step == "complete":
            return bool(phase.started and not phase.completed and before.completed)
        waiting = cluster.members - cluster.onboarded
        return bool(phase.started and not phase.completed and waiting)

    def some_code(self, members_of: str | None = None) -> st.SearchStrategy[str]:
        """Mostly a member of ``members_of`` not yet live there; else mostly any member (or
        any registered department, when it has none); sometimes any code."""
        found = self.clusters.get(members_of) if members_of else None
        members = [c for c, d in self.departments.items() if found and d in found.members]
        waiting = [c for c in members if found and self.departments[c] not in found.onboarded]
        anyone = known_or(members or self.departments, department_codes)
        return mostly(st.sampled_from(waiting), anyone) if waiting else anyone

    def tick(self, days: int) -> date:
        """Time moves forward by ``days`` (and that is the date a command takes effect),
        up to the real today: a fact cannot take effect in the future."""
        self.today = min(self.today + timedelta(days=days), date.today())
        return self.today

    def when(self, days: int) -> date:
        """Forward ``days`` as :meth:`tick`; or, for a negative ``days``, a command backdated
        that far (never before the run's first day, when the clusters were formed)."""
        if days >= 0:
            return self.tick(days)
        return max(EPOCH, self.today + timedelta(days=days))

    def phase_rejections(self, cluster: str, number: int) -> tuple[Rejections, ModelPhase | None]:
        """An unknown cluster, a number out of range or a phase never planned."""
        found = self.clusters.get(cluster)
        if found is None:
            return {NotFound}, None
        if not 1 <= number <= found.phase_count:
            return {PhaseOutOfRange}, None
        phase = found.phases.get(number)
        return (set(), phase) if phase is not None else ({NotFound}, None)

    def earlier(self, cluster: str, number: int) -> ModelPhase | None:
        return self.clusters[cluster].phases.get(number - 1)

    # --- setup -------------------------------------------------------------

    @initialize(
        names=st.lists(cluster_names, min_size=2, max_size=2, unique=True),
        counts=st.lists(phase_counts, min_size=2, max_size=2),
        codes=st.lists(department_codes, min_size=3, max_size=5, unique=True),
        started=st.booleans(),
    )
    def set_up(self, names: list[str], counts: list[int], codes: list[str], started: bool) -> None:
        """Two clusters: all phases of the first planned (the first maybe started), the first
        phase of the other; departments, all but one members of a cluster."""
        for name, count in zip(names, counts, strict=True):
            self.form(name, count)
        for code in codes:
            self.register(code)
        for i, code in enumerate(codes[1:]):
            self.join(code, names[i % 2])
        for number in range(1, counts[0] + 1):
            self.plan_phase(names[0], number, f"Phase {number}", None, None)
        self.plan_phase(names[1], 1, "Phase 1", None, None)
        if started:
            self.start_phase(names[0], 1, 0)

    def form(self, name: str, count: int) -> None:
        meta = self.meta(effective=self.today)
        self.attempt(
            lambda uow: command("form_cluster", name, count, None).run(self.app, uow, meta), NONE
        )
        self.clusters[name] = ModelCluster(name=name, phase_count=count)

    def register(self, code: str) -> None:
        meta = self.meta(effective=self.today)
        self.attempt(
            lambda uow: command(
                "register_department", code, f"Department {code}", "ministerial", None, None
            ).run(self.app, uow, meta),
            NONE,
        )
        index = self.stored(DepartmentCode.create_id(code))
        assert index is not None
        self.departments[code] = index.department_id

    # --- phases ------------------------------------------------------------

    @rule(
        data=st.data(),
        name=display_names,
        start=optional_dates,
        end=optional_dates,
    )
    def plan(self, data: st.DataObject, name: str, start: date | None, end: date | None) -> None:
        cluster, number = data.draw(self.some_phase("plan"), label="phase")
        self.plan_phase(cluster, number, name, start, end)

    def plan_phase(
        self, cluster: str, number: int, name: str, start: date | None, end: date | None
    ) -> None:
        rejections: Rejections = set()
        found = self.clusters.get(cluster)
        if found is None:
            rejections.add(NotFound)
        elif not 1 <= number <= found.phase_count:
            rejections.add(PhaseOutOfRange)
        else:
            existing = found.phases.get(number)
            if existing is not None and existing.started is not None:
                rejections.add(PhaseAlreadyStarted)
        if start is not None and end is not None and end < start:
            rejections.add(InvalidPlannedDates)
        meta = self.meta(effective=self.today)
        outcome = self.attempt(
            lambda uow: command("plan_phase", cluster, number, name, start, end).run(
                self.app, uow, meta
            ),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert found is not None
            self.clusters[cluster].phases[number] = ModelPhase(name, start, end)

    @rule(data=st.data(), days=day_offsets)
    def start(self, data: st.DataObject, days: int) -> None:
        cluster, number = data.draw(self.some_phase("start"), label="phase")
        self.start_phase(cluster, number, days)

    def start_phase(self, cluster: str, number: int, days: int) -> None:
        rejections, phase = self.phase_rejections(cluster, number)
        if cluster in self.clusters and 1 <= number <= self.clusters[cluster].phase_count:
            if phase is not None and phase.started is not None:
                rejections.add(PhaseAlreadyStarted)
            before = self.earlier(cluster, number)
            if number > 1 and (before is None or before.started is None):
                rejections.add(PhaseOutOfOrder)
            effective = self.when(days)
            if number > 1 and before and before.started and effective < before.started:
                rejections.add(PhaseOutOfOrder)  # "cannot start before k-1 has started"
        else:
            effective = self.when(days)
        meta = self.meta(effective=effective)
        outcome = self.attempt(
            lambda uow: command("start_phase", cluster, number).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert phase is not None
            phase.started = meta.effective

    @rule(data=st.data(), days=day_offsets)
    def complete(self, data: st.DataObject, days: int) -> None:
        cluster, number = data.draw(self.some_phase("complete"), label="phase")
        rejections, phase = self.phase_rejections(cluster, number)
        if phase is not None:
            if phase.completed is not None:
                rejections.add(PhaseAlreadyCompleted)
            else:
                if phase.started is None:
                    rejections.add(PhaseNotInProgress)
                before = self.earlier(cluster, number)
                if number > 1 and (before is None or before.completed is None):
                    rejections.add(PhaseOutOfOrder)
        effective = self.when(days)
        if phase is not None and phase.completed is None:
            if phase.started is not None and effective < phase.started:
                # completing on a date before it started: out of order, or not in progress then
                rejections |= {PhaseOutOfOrder, PhaseNotInProgress}
            before = self.earlier(cluster, number)
            if number > 1 and before and before.completed and effective < before.completed:
                rejections.add(PhaseOutOfOrder)  # "nor complete before k-1 has completed"
        # completing on a date before a department went live in it: the SPEC does not say
        open_case = bool(
            not rejections and phase and phase.last_live and effective < phase.last_live
        )
        meta = self.meta(effective=effective)
        outcome = self.attempt(
            lambda uow: command("complete_phase", cluster, number).run(self.app, uow, meta),
            frozenset(rejections or ({PhaseRuleBreached} if open_case else set())),
            may_succeed=open_case,
        )
        if outcome.accepted:
            assert phase is not None
            phase.completed = meta.effective

    @rule(data=st.data(), days=day_steps)
    def onboard(self, data: st.DataObject, days: int) -> None:
        cluster, number = data.draw(self.some_phase("onboard"), label="phase")
        code = data.draw(self.some_code(members_of=cluster), label="code")
        rejections, phase = self.phase_rejections(cluster, number)
        department = self.departments.get(code)
        if department is None:
            rejections.add(NotFound)
        if phase is not None and (phase.started is None or phase.completed is not None):
            rejections.add(PhaseNotInProgress)
        if department is not None and cluster in self.clusters:
            if department not in self.clusters[cluster].members:
                rejections.add(NotInCluster)
            if department in self.clusters[cluster].onboarded:
                rejections.add(AlreadyOnboarded)
        meta = self.meta(effective=self.tick(days))
        outcome = self.attempt(
            lambda uow: command("onboard", cluster, number, code).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert phase is not None
            assert department is not None
            phase.onboarded.append(department)
            phase.last_live = meta.effective
            self.clusters[cluster].onboarded.add(department)

    # --- membership, so that onboarding meets joins, leaves and moves ---------

    @rule(data=st.data(), change=st.sampled_from(["join", "leave", "move"]))
    def change_membership(self, data: st.DataObject, change: str) -> None:
        """One rule for the three, so that the phase rules get most of the steps."""
        code = data.draw(self.some_code(), label="code")
        if change == "leave":
            self.leave(code)
        else:
            cluster = data.draw(self.some_cluster(), label="cluster")
            (self.join if change == "join" else self.move)(code, cluster)

    def join(self, code: str, cluster: str) -> None:
        department = self.departments.get(code)
        rejections: Rejections = set()
        if department is None or cluster not in self.clusters:
            rejections.add(NotFound)
        if department is not None and department in self.cluster_of:
            rejections.add(AlreadyInCluster)
        meta = self.meta(effective=self.today)
        outcome = self.attempt(
            lambda uow: command("join_cluster", code, cluster).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            self.clusters[cluster].members.add(department)
            self.cluster_of[department] = cluster

    def leave(self, code: str) -> None:
        department = self.departments.get(code)
        rejections: Rejections = set()
        if department is None:
            rejections.add(NotFound)
        elif department not in self.cluster_of:
            rejections.add(NotInCluster)
        meta = self.meta(effective=self.today)
        outcome = self.attempt(
            lambda uow: command("leave_cluster", code).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            self.clusters[self.cluster_of.pop(department)].members.remove(department)

    def move(self, code: str, cluster: str) -> None:
        department = self.departments.get(code)
        rejections: Rejections = set()
        if department is None or cluster not in self.clusters:
            rejections.add(NotFound)
        if department is not None:
            if department not in self.cluster_of:
                rejections.add(NotInCluster)
            elif self.cluster_of[department] == cluster:
                rejections.add(AlreadyInCluster)
        meta = self.meta(effective=self.today)
        outcome = self.attempt(
            lambda uow: command("move_department", code, cluster).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            self.clusters[self.cluster_of[department]].members.remove(department)
            self.clusters[cluster].members.add(department)
            self.cluster_of[department] = cluster

    # --- invariants ----------------------------------------------------------

    @invariant()
    def phases_match_the_model(self) -> None:
        for expected in self.clusters.values():
            stored = self.stored(Cluster.create_id(expected.name))
            assert stored is not None
            assert set(stored.phases) == set(expected.phases), f"{expected.name}'s phases"
            for number, phase in expected.phases.items():
                got = stored.phases[number]
                where = f"{expected.name}:{number}"
                assert got.number == number, where
                assert got.name == phase.name, where
                assert (got.planned_start, got.planned_end) == (
                    phase.planned_start,
                    phase.planned_end,
                ), where
                assert got.started == phase.started, f"{where} started"
                assert got.completed == phase.completed, f"{where} completed"
                assert got.onboarded == phase.onboarded, f"{where} onboarded"
            assert stored.onboarded == expected.onboarded
            assert stored.members == expected.members

    @invariant()
    def phases_are_in_order_in_the_store(self) -> None:
        """Read from the store alone: k started/completed only after k-1; the dates agree."""
        for name in self.clusters:
            stored = self.stored(Cluster.create_id(name))
            for number, phase in stored.phases.items():
                assert 1 <= number <= stored.phase_count
                if phase.completed is not None:
                    assert phase.started is not None
                    assert phase.started <= phase.completed
                if number > 1 and phase.started is not None:
                    before = stored.phases.get(number - 1)
                    assert before is not None
                    assert before.started is not None
                    assert before.started <= phase.started
                    if phase.completed is not None:
                        assert before.completed is not None
                        assert before.completed <= phase.completed
                for department in phase.onboarded:
                    assert department in stored.onboarded


PhaseMachine.TestCase.settings = MACHINE_SETTINGS
TestPhases = PhaseMachine.TestCase
