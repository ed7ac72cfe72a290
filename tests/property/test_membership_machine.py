"""Clusters and departments as a state machine: form, register, join, leave, move, lead, re-code.

The model is plain dicts and sets written from SPEC §2:

- a cluster is formed once (its name unique ignoring case); its lead is a member;
- a department is registered once under a code; an ALB names a registered parent
  and nothing else names one; a re-code keeps the department (and its cluster)
  and frees the old code;
- a department is in at most one cluster; joining needs none, leaving and moving
  need one; the lead can neither leave nor move out; a move is one change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.domain import Aggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from opmodel.domain import Cluster, Department, DepartmentCode
from opmodel.errors import (
    AlreadyInCluster,
    ClusterAlreadyFormed,
    DepartmentAlreadyRegistered,
    InvalidInput,
    LeadCannotLeave,
    LeadMustBeMember,
    NotFound,
    NotInCluster,
    OpmodelError,
    ParentRequired,
)
from tests.handlers import command
from tests.property.harness import MACHINE_SETTINGS, Harness
from tests.strategies import (
    CLUSTER_NAMES,
    DEPARTMENT_CODES,
    cluster_names_any_case,
    department_codes,
    department_kinds,
    display_names,
    known_or,
    phase_counts,
)


@dataclass
class ModelCluster:
    name: str
    phase_count: int
    members: set[UUID] = field(default_factory=set)
    lead: UUID | None = None


@dataclass
class ModelDepartment:
    code: str
    name: str
    kind: str
    parent: UUID | None
    cluster: str | None = None  # the casefolded name of its cluster


class MembershipMachine(Harness, RuleBasedStateMachine):
    """Membership commands against a model of who is in which cluster."""

    def __init__(self) -> None:
        super().__init__()
        self.open_app()
        self.clusters: dict[str, ModelCluster] = {}  # casefolded name -> cluster
        self.departments: dict[UUID, ModelDepartment] = {}
        self.codes: dict[str, UUID] = {}  # codes in use -> department
        self.released: dict[str, str] = {}  # re-coded away -> the code it became then

    # --- helpers -----------------------------------------------------------

    def known_aggregates(self) -> Iterable[tuple[type[Aggregate], UUID]]:
        for cluster in self.clusters.values():
            yield Cluster, Cluster.create_id(cluster.name)
        for department_id in self.departments:
            yield Department, department_id
        for code in [*self.codes, *self.released]:
            yield DepartmentCode, DepartmentCode.create_id(code)

    def some_code(
        self, *, members_of: str | None = None, free: bool | None = None
    ) -> st.SearchStrategy[str]:
        """Mostly a code in use, else any code; when there are some, of a member of the
        cluster ``members_of``, or of a department in no cluster (``free``) or in one."""
        codes = list(self.codes)
        cluster = self.clusters.get(members_of.casefold()) if members_of else None
        if cluster is not None:
            codes = [c for c in codes if self.codes[c] in cluster.members] or codes
        if free is not None:
            codes = [
                c for c in codes if (self.departments[self.codes[c]].cluster is None) == free
            ] or codes
        return known_or(codes, department_codes)

    def some_cluster(self) -> st.SearchStrategy[str]:
        """Mostly a formed cluster (as formed, or upper-cased), else any name in any case."""
        formed = [c.name for c in self.clusters.values()]
        return known_or([*formed, *(n.upper() for n in formed)], cluster_names_any_case)

    def department_of(self, code: str) -> ModelDepartment | None:
        found = self.codes.get(code)
        return self.departments[found] if found is not None else None

    # --- rules -------------------------------------------------------------

    @initialize(
        names=st.lists(cluster_names_any_case, min_size=2, max_size=2, unique_by=str.casefold),
        phases=phase_counts,
        codes=st.lists(department_codes, min_size=3, max_size=4, unique=True),
    )
    def start_with_two_clusters(self, names: list[str], phases: int, codes: list[str]) -> None:
        """Two clusters, a few departments, two of them members of the first cluster."""
        for name in names:
            self.form(name, phases)
        for code in codes:
            self.register_department(code, f"Department {code}", "ministerial", None)
        for code in codes[:2]:
            self.join_cluster(code, names[0])

    @rule(name=cluster_names_any_case, phases=phase_counts)
    def form(self, name: str, phases: int) -> None:
        key = name.casefold()
        rejections = {ClusterAlreadyFormed} if key in self.clusters else set()
        outcome = self.attempt(
            lambda uow: command("form_cluster", name, phases, None).run(self.app, uow, self.meta()),
            frozenset(rejections),
        )
        if outcome.accepted:
            self.clusters[key] = ModelCluster(name=name, phase_count=phases)

    @rule(data=st.data(), code=department_codes, name=display_names, kind=department_kinds)
    def register(self, data: st.DataObject, code: str, name: str, kind: str) -> None:
        # mostly as the SPEC wants it (an ALB names a parent, others none), sometimes not
        wants_parent = (kind == "alb") != data.draw(
            st.integers(0, 4).map(lambda n: n == 0), label="parent rule broken"
        )
        parent = data.draw(self.some_code(), label="code") if wants_parent else None
        self.register_department(code, name, kind, parent)

    def register_department(self, code: str, name: str, kind: str, parent: str | None) -> None:
        rejections: set[type[OpmodelError]] = set()
        if code in self.codes:
            rejections.add(DepartmentAlreadyRegistered)
        if (kind == "alb") != (parent is not None):
            rejections.add(ParentRequired)
        if parent is not None and parent not in self.codes:
            rejections.add(NotFound)
        outcome = self.attempt(
            lambda uow: command("register_department", code, name, kind, parent, None).run(
                self.app, uow, self.meta()
            ),
            frozenset(rejections),
        )
        if outcome.accepted:
            index = self.stored(DepartmentCode.create_id(code))
            assert index is not None
            assert index.department_id is not None
            assert index.department_id not in self.departments, "a new department reused an id"
            self.departments[index.department_id] = ModelDepartment(
                code=code,
                name=name,
                kind=kind,
                parent=self.codes[parent] if parent is not None else None,
            )
            self.codes[code] = index.department_id
            self.released.pop(code, None)

    @rule(
        data=st.data(),
        new_code=st.none() | department_codes,
        new_name=st.none() | display_names,
    )
    def rename_or_recode(
        self, data: st.DataObject, new_code: str | None, new_name: str | None
    ) -> None:
        code = data.draw(self.some_code(), label="code")
        rejections: set[type[OpmodelError]] = set()
        department = self.department_of(code)
        if new_code is None and new_name is None:
            rejections.add(InvalidInput)
        if department is None:
            rejections.add(NotFound)
        if new_code is not None and new_code != code and new_code in self.codes:
            rejections.add(DepartmentAlreadyRegistered)
        changes = department is not None and (
            (new_name is not None and new_name != department.name)
            or (new_code is not None and new_code != code)
        )
        outcome = self.attempt(
            lambda uow: command("rename_department", code, new_name, new_code).run(
                self.app, uow, self.meta()
            ),
            frozenset(rejections),
            writes=changes,
        )
        if outcome.accepted:
            assert department is not None
            if new_name is not None:
                department.name = new_name
            if new_code is not None and new_code != code:
                department_id = self.codes.pop(code)
                self.codes[new_code] = department_id
                self.released[code] = new_code
                self.released.pop(new_code, None)
                department.code = new_code

    @rule(data=st.data())
    def join(self, data: st.DataObject) -> None:
        self.join_cluster(
            data.draw(self.some_code(free=True), label="code"),
            data.draw(self.some_cluster(), label="cluster"),
        )

    def join_cluster(self, code: str, cluster: str) -> None:
        rejections: set[type[OpmodelError]] = set()
        department = self.department_of(code)
        key = cluster.casefold()
        if department is None or key not in self.clusters:
            rejections.add(NotFound)
        if department is not None and department.cluster is not None:
            rejections.add(AlreadyInCluster)
        outcome = self.attempt(
            lambda uow: command("join_cluster", code, cluster).run(self.app, uow, self.meta()),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            department.cluster = key
            self.clusters[key].members.add(self.codes[code])

    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        code = data.draw(
            self.some_code(members_of=data.draw(self.some_cluster(), label="cluster")), label="code"
        )
        rejections: set[type[OpmodelError]] = set()
        department = self.department_of(code)
        if department is None:
            rejections.add(NotFound)
        elif department.cluster is None:
            rejections.add(NotInCluster)
        elif self.clusters[department.cluster].lead == self.codes[code]:
            rejections.add(LeadCannotLeave)
        outcome = self.attempt(
            lambda uow: command("leave_cluster", code).run(self.app, uow, self.meta()),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            assert department.cluster is not None
            self.clusters[department.cluster].members.remove(self.codes[code])
            department.cluster = None

    @rule(data=st.data())
    def move(self, data: st.DataObject) -> None:
        code = data.draw(self.some_code(free=False), label="code")
        cluster = data.draw(self.some_cluster(), label="cluster")
        rejections: set[type[OpmodelError]] = set()
        department = self.department_of(code)
        key = cluster.casefold()
        if department is None or key not in self.clusters:
            rejections.add(NotFound)
        if department is not None:
            if department.cluster is None:
                rejections.add(NotInCluster)
            else:
                if department.cluster == key:
                    rejections.add(AlreadyInCluster)
                if self.clusters[department.cluster].lead == self.codes[code]:
                    rejections.add(LeadCannotLeave)
        outcome = self.attempt(
            lambda uow: command("move_department", code, cluster).run(self.app, uow, self.meta()),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert department is not None
            assert department.cluster is not None
            department_id = self.codes[code]
            self.clusters[department.cluster].members.remove(department_id)
            self.clusters[key].members.add(department_id)
            department.cluster = key

    @rule(data=st.data())
    def designate_lead(self, data: st.DataObject) -> None:
        cluster = data.draw(self.some_cluster(), label="cluster")
        code = data.draw(self.some_code(members_of=cluster), label="code")
        rejections: set[type[OpmodelError]] = set()
        department = self.department_of(code)
        key = cluster.casefold()
        if department is None or key not in self.clusters:
            rejections.add(NotFound)
        elif self.codes[code] not in self.clusters[key].members:
            rejections.add(LeadMustBeMember)
        outcome = self.attempt(
            lambda uow: command("designate_lead", cluster, code).run(self.app, uow, self.meta()),
            frozenset(rejections),
        )
        if outcome.accepted:
            self.clusters[key].lead = self.codes[code]

    # --- invariants ----------------------------------------------------------

    @invariant()
    def clusters_match_the_model(self) -> None:
        for name in CLUSTER_NAMES:
            stored = self.stored(Cluster.create_id(name))
            expected = self.clusters.get(name.casefold())
            if expected is None:
                assert stored is None, f"cluster {name} exists but was never formed"
                continue
            assert stored is not None, f"cluster {name} was formed but is not stored"
            assert stored.name == expected.name
            assert stored.phase_count == expected.phase_count
            assert stored.members == expected.members
            assert stored.lead == expected.lead

    @invariant()
    def departments_match_the_model(self) -> None:
        for department_id, expected in self.departments.items():
            stored = self.stored(department_id)
            assert stored is not None
            assert stored.code == expected.code
            assert stored.name == expected.name
            assert stored.kind == expected.kind
            assert stored.parent_id == expected.parent
            cluster_id = (
                Cluster.create_id(self.clusters[expected.cluster].name)
                if expected.cluster is not None
                else None
            )
            assert stored.cluster_id == cluster_id, f"department {expected.code}'s cluster"

    @invariant()
    def codes_name_what_the_model_says(self) -> None:
        for code in DEPARTMENT_CODES:
            index = self.stored(DepartmentCode.create_id(code))
            if code in self.codes:
                assert index is not None
                assert index.department_id == self.codes[code]
            elif code in self.released:
                assert index is not None
                assert index.department_id is None, f"{code} was re-coded away"
                assert index.recoded_to == self.released[code]
            else:
                assert index is None, f"code {code} was never used"

    @invariant()
    def membership_agrees_both_ways(self) -> None:
        """Read from the store alone: each member points back at its one cluster; the lead is
        a member."""
        seen: dict[UUID, UUID] = {}
        for cluster in self.clusters.values():
            stored = self.stored(Cluster.create_id(cluster.name))
            assert stored is not None
            assert stored.lead is None or stored.lead in stored.members
            for member in stored.members:
                assert member not in seen, "a department is a member of two clusters"
                seen[member] = stored.id
                department = self.stored(member)
                assert department is not None
                assert department.cluster_id == stored.id
        for department_id in self.departments:
            department = self.stored(department_id)
            assert department.cluster_id is None or seen.get(department_id) == (
                department.cluster_id
            )


MembershipMachine.TestCase.settings = MACHINE_SETTINGS
TestMembership = MembershipMachine.TestCase
