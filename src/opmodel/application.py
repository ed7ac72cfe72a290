"""The write side: the only way to change the operating model.

Every change runs in a :class:`UnitOfWork`: a command (or a whole import)
loads the aggregates it needs, applies its rules, and the events it raised
are saved together in one transaction, in the order they were raised. A
rule that fails raises before anything is saved, so a failed command writes
nothing. When another writer changed one of the same aggregates first, the
whole unit is recomputed from the new state (a few times) before giving up
with :class:`~opmodel.errors.ConcurrentChange`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Recording, Transcoder

from opmodel import domain
from opmodel.domain.values import Meta
from opmodel.errors import (
    ClusterAlreadyFormed,
    ConcurrentChange,
    ContractAlreadyExists,
    DepartmentAlreadyRegistered,
    InvalidInput,
    NotFound,
)
from opmodel.store.codec import EventMapper, make_transcoder, register_transcodings

if TYPE_CHECKING:  # the commands import this module; their handlers below take them
    from opmodel import commands

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

#: How many times a unit of work is recomputed after losing a race.
RETRIES = 5


class UnitOfWork:
    """The aggregates one command or import has loaded, and the events it raised, in order."""

    def __init__(self, app: OperatingModel, *, store_empty: bool = False) -> None:
        self._app = app
        self._aggregates: dict[UUID, Aggregate] = {}
        self.events: list[Any] = []
        # Nothing to load from an empty store: what this unit has not made, is not.
        # (Should another writer fill the store meanwhile, the save conflicts on the
        # aggregates' ids and the unit runs again, against the store as it is then.)
        self._store_empty = store_empty

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as this unit sees it (with its own changes), or ``None``."""
        found = self._aggregates.get(aggregate_id)
        if found is None:
            if self._store_empty:
                return None
            try:
                found = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            self._aggregates[aggregate_id] = found
        if not isinstance(found, cls):  # pragma: no cover - ids are namespaced by kind
            raise TypeError(f"{aggregate_id} is a {type(found).__name__}, not a {cls.__name__}")
        return found

    def stage(self, *aggregates: Aggregate, first: bool = False) -> None:
        """Take the aggregates' new events, in the order given, into this unit.

        ``first``: put them before the events already taken (they are saved first).
        """
        events: list[Any] = []
        for aggregate in aggregates:
            self._aggregates[aggregate.id] = aggregate
            events.extend(aggregate.collect_events())
        if first:
            self.events[:0] = events
        else:
            self.events.extend(events)


@dataclass(frozen=True)
class Saved:
    """What a unit of work saved: the store positions of its events (may be empty)."""

    positions: tuple[int, ...]
    #: What the recorder returned: each event as raised and as stored, with its position.
    recordings: tuple[Recording[UUID], ...] = ()

    @property
    def head(self) -> int | None:
        """The last position written, if any."""
        return self.positions[-1] if self.positions else None


class OperatingModel(Application[UUID]):
    """The programme's operating model, as an event-sourced application."""

    name = "opmodel"
    mapper: EventMapper

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=EventMapper)

    def construct_transcoder(self) -> Transcoder:
        return make_transcoder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_transcodings(transcoder)

    # --- running units of work ----------------------------------------------

    def execute(
        self, work: Callable[[UnitOfWork], T], retries: int = RETRIES, *, bulk: bool = False
    ) -> tuple[T, Saved]:
        """Run ``work`` in a unit of work and save what it raised, atomically.

        On losing a race with another writer, recompute from the new state. ``bulk``
        (an import: many loads) first asks whether the store is empty, and if it is,
        loads nothing from it.
        """
        for _attempt in range(retries + 1):
            empty = bulk and not self.recorder.max_notification_id()
            uow = UnitOfWork(self, store_empty=empty)
            result = work(uow)
            if not uow.events:
                return result, Saved(())
            try:
                # The event store's put is what Application.save comes down to here (no
                # snapshots, no repository cache), without save's runtime Protocol check
                # of every event, which costs ~10 µs an event on Python 3.11.
                recordings = self.events.put(uow.events)
            except IntegrityError:
                continue
            positions = tuple(
                r.notification.id for r in recordings if r.notification.id is not None
            )
            return result, Saved(positions, tuple(recordings))
        raise ConcurrentChange(
            "another writer kept changing the same records; nothing was written, "
            "run the command again"
        )

    # --- finding things ---------------------------------------------------------

    def cluster(self, uow: UnitOfWork, name: str) -> domain.Cluster:
        """The cluster named ``name`` (ignoring case), or :class:`NotFound`."""
        found = uow.get(domain.Cluster, domain.Cluster.create_id(name))
        if found is None:
            raise NotFound(
                f"cluster {name!r} does not exist: form it first (opmodel cluster form {name})",
                cluster=name,
            )
        return found

    def department(self, uow: UnitOfWork, code: str) -> domain.Department:
        """The department that ``code`` names now, or :class:`NotFound`."""
        index = uow.get(domain.DepartmentCode, domain.DepartmentCode.create_id(code))
        if index is None or index.department_id is None:
            hint = (
                f"; it was re-coded to {index.recoded_to}: use that code"
                if index is not None and index.recoded_to
                else f": register it first (opmodel department register {code} --name TEXT)"
            )
            raise NotFound(f"department {code} is not registered{hint}", department=code)
        found = uow.get(domain.Department, index.department_id)
        assert found is not None, "a code index always names a stored department"
        return found

    def contract(self, uow: UnitOfWork, ref: str) -> domain.Contract:
        """The contract with reference ``ref``, or :class:`NotFound`."""
        found = uow.get(domain.Contract, domain.Contract.create_id(ref))
        if found is None:
            raise NotFound(f"contract {ref} does not exist: award or tender it first", contract=ref)
        return found

    def decision(self, uow: UnitOfWork, key: str) -> domain.Decision:
        """The decision ``DEC-NNNN``, or :class:`NotFound`."""
        match = re.fullmatch(r"(?i)DEC-(\d{1,9})", key.strip())
        if match is None:
            raise InvalidInput(f"decision id {key!r} is not valid: write it like DEC-0007")
        found = uow.get(domain.Decision, domain.Decision.create_id(int(match[1])))
        if found is None:
            raise NotFound(f"decision {key.upper()} does not exist", decision=key)
        return found

    def cluster_name_of(self, uow: UnitOfWork, cluster_id: UUID) -> str:
        """The name of the cluster with this id."""
        found = uow.get(domain.Cluster, cluster_id)
        assert found is not None
        return found.name

    # --- clusters -------------------------------------------------------------

    def form_cluster(self, uow: UnitOfWork, command: commands.FormCluster, meta: Meta) -> None:
        """Form a cluster; its name is unique ignoring case."""
        existing = uow.get(domain.Cluster, domain.Cluster.create_id(command.cluster))
        if existing is not None:
            raise ClusterAlreadyFormed(
                f"cluster {existing.name} already exists (names are unique ignoring case)",
                cluster=existing.name,
            )
        uow.stage(
            domain.Cluster(
                name=command.cluster,
                phase_count=command.phases,
                description=command.description,
                meta=meta,
            )
        )

    def designate_lead(self, uow: UnitOfWork, command: commands.DesignateLead, meta: Meta) -> None:
        """Make a member department the cluster's lead."""
        found = self.cluster(uow, command.cluster)
        department = self.department(uow, command.dept)
        found.designate_lead(department.id, department.code, meta)
        uow.stage(found)

    # --- departments ------------------------------------------------------------

    def register_department(
        self, uow: UnitOfWork, command: commands.RegisterDepartment, meta: Meta
    ) -> None:
        """Register a department or ALB under a code not in use."""
        code = command.code
        index = uow.get(domain.DepartmentCode, domain.DepartmentCode.create_id(code))
        if index is not None and index.department_id is not None:
            current = uow.get(domain.Department, index.department_id)
            assert current is not None
            raise DepartmentAlreadyRegistered(
                f"department {code} is already registered ({current.name})", department=code
            )
        # Before the parent is looked up: a parent given to a department that cannot
        # have one is refused for that (exit 4), not for being unknown (exit 3).
        domain.Department.check_parent_fits_kind(code, command.kind, command.parent)
        parent = self.department(uow, command.parent) if command.parent is not None else None
        department = domain.Department.register(
            code, command.title, command.kind, parent, command.headcount, meta
        )
        if index is None:
            index = domain.DepartmentCode(code=code, department_id=department.id, meta=meta)
        else:
            index.reclaim(department.id, meta)
        uow.stage(department, index)

    def rename_department(
        self, uow: UnitOfWork, command: commands.RenameDepartment, meta: Meta
    ) -> None:
        """Rename and/or re-code a department (a machinery-of-government change)."""
        name, new_code = command.title, command.new_code
        if name is None and new_code is None:
            raise InvalidInput(
                f"department rename {command.code}: give --name, --code or both",
                department=command.code,
            )
        department = self.department(uow, command.code)
        if name is not None and name != department.name:
            department.rename(name, meta)
        if new_code is not None and new_code != department.code:
            target = uow.get(domain.DepartmentCode, domain.DepartmentCode.create_id(new_code))
            if target is not None and target.department_id is not None:
                raise DepartmentAlreadyRegistered(
                    f"cannot re-code {department.code} to {new_code}: "
                    f"{new_code} already names another department",
                    department=new_code,
                )
            old_index = uow.get(
                domain.DepartmentCode, domain.DepartmentCode.create_id(department.code)
            )
            assert old_index is not None
            department.recode(new_code, meta)
            old_index.release(new_code, meta)
            if target is None:
                target = domain.DepartmentCode(
                    code=new_code, department_id=department.id, meta=meta
                )
            else:
                target.reclaim(department.id, meta)
            uow.stage(department, old_index, target)
        uow.stage(department)

    def record_headcount(
        self, uow: UnitOfWork, command: commands.RecordHeadcount, meta: Meta
    ) -> None:
        """Record a department's headcount."""
        department = self.department(uow, command.code)
        department.record_headcount(command.headcount, meta)
        uow.stage(department)

    def join_cluster(self, uow: UnitOfWork, command: commands.JoinCluster, meta: Meta) -> None:
        """A department joins a cluster (it must be in none)."""
        department = self.department(uow, command.code)
        found = self.cluster(uow, command.cluster)
        current = (
            self.cluster_name_of(uow, department.cluster_id) if department.cluster_id else None
        )
        department.check_not_in_a_cluster(found.name, current)
        department.join(found.id, found.name, meta)
        found.admit(department.id, department.code, meta)
        uow.stage(department, found)

    def leave_cluster(self, uow: UnitOfWork, command: commands.LeaveCluster, meta: Meta) -> None:
        """A department leaves its cluster (the lead cannot)."""
        department = self.department(uow, command.code)
        found = uow.get(domain.Cluster, department.check_in_a_cluster())
        assert found is not None
        found.release(department.id, department.code, meta)
        department.leave(found.name, meta)
        uow.stage(department, found)

    def move_department(
        self, uow: UnitOfWork, command: commands.MoveDepartment, meta: Meta
    ) -> None:
        """Move a department to another cluster, as one atomic change."""
        department = self.department(uow, command.code)
        target = self.cluster(uow, command.cluster)
        source = uow.get(domain.Cluster, department.check_in_a_cluster())
        assert source is not None
        department.move(source, target, meta)
        source.release(department.id, department.code, meta)
        target.admit(department.id, department.code, meta)
        uow.stage(department, source, target)

    # --- delivery phases -------------------------------------------------------

    def plan_phase(self, uow: UnitOfWork, command: commands.PlanPhase, meta: Meta) -> None:
        """Plan or re-plan a delivery phase."""
        found = self.cluster(uow, command.cluster)
        found.plan_phase(command.number, command.title, command.start, command.end, meta)
        uow.stage(found)

    def start_phase(self, uow: UnitOfWork, command: commands.StartPhase, meta: Meta) -> None:
        """Start a delivery phase (on the effective date)."""
        found = self.cluster(uow, command.cluster)
        found.start_phase(command.number, meta)
        uow.stage(found)

    def complete_phase(self, uow: UnitOfWork, command: commands.CompletePhase, meta: Meta) -> None:
        """Complete a delivery phase (on the effective date)."""
        found = self.cluster(uow, command.cluster)
        found.complete_phase(command.number, meta)
        uow.stage(found)

    def onboard(self, uow: UnitOfWork, command: commands.OnboardDepartment, meta: Meta) -> None:
        """A member department goes live in a phase in progress."""
        found = self.cluster(uow, command.cluster)
        department = self.department(uow, command.dept)
        found.onboard(command.number, department.id, department.code, meta)
        uow.stage(found)

    # --- contracts -------------------------------------------------------------

    def tender_contract(
        self, uow: UnitOfWork, command: commands.TenderContract, meta: Meta
    ) -> None:
        """Record a published contract notice."""
        found = self.cluster(uow, command.cluster)
        existing = uow.get(domain.Contract, domain.Contract.create_id(command.ref))
        if existing is not None:
            raise ContractAlreadyExists(
                f"contract {existing.ref} already exists ({existing.status})", contract=command.ref
            )
        uow.stage(
            domain.Contract.tender(
                command.ref,
                found.id,
                found.name,
                kind=command.kind,
                estimated_value=command.estimated_value,
                term_months=command.term_months,
                extension_months=command.extension_months,
                meta=meta,
            )
        )

    def award_contract(self, uow: UnitOfWork, command: commands.AwardContract, meta: Meta) -> None:
        """Award a contract (a tendered one, or directly); link its bundle partner."""
        found = self.cluster(uow, command.cluster)
        bundled_with = command.bundled_with
        named = self.contract(uow, bundled_with) if bundled_with is not None else None
        terms = domain.ContractTerms(
            kind=command.kind,
            supplier=command.supplier,
            value=command.value,
            start=command.start,
            term_months=command.term_months,
            extension_months=command.extension_months,
            framework=command.framework,
        )
        contract = uow.get(domain.Contract, domain.Contract.create_id(command.ref))
        if contract is None:
            contract = domain.Contract.award_directly(
                command.ref, found.id, found.name, terms, named, meta
            )
        else:
            # Bundled while tendered: the award keeps that bundle (or names it again).
            bundled = contract.bundled_with
            tendered_with = self.contract(uow, bundled) if bundled is not None else None
            contract.award(found.id, terms, named, tendered_with, meta)
        if contract.bundled_with is None:
            uow.stage(contract)
            return
        partner = self.contract(uow, contract.bundled_with)
        if partner.bundled_with is None:
            partner.link_bundle(contract.ref, meta)
        uow.stage(contract, partner)

    def correct_contract(
        self, uow: UnitOfWork, command: commands.CorrectContract, meta: Meta
    ) -> None:
        """Set right facts of a contract recorded wrongly."""
        changes = command.model_dump(exclude={"ref"}, exclude_none=True)
        if not changes:
            raise InvalidInput(
                f"contract correct {command.ref}: give at least one of --term-months, "
                "--extension-months, --value, --start, --supplier",
                contract=command.ref,
            )
        contract = self.contract(uow, command.ref)
        contract.correct(changes, meta)
        uow.stage(contract)

    def extend_contract(
        self, uow: UnitOfWork, command: commands.ExtendContract, meta: Meta
    ) -> None:
        """Exercise months of a contract's extension allowance."""
        contract = self.contract(uow, command.ref)
        contract.extend(command.months, meta)
        uow.stage(contract)

    def vary_contract(self, uow: UnitOfWork, command: commands.VaryContract, meta: Meta) -> None:
        """Vary a contract's value (a reason is required)."""
        # Before the lookup, as a missing option: exit 2 even for an unknown contract.
        domain.Contract.check_variation_has_reason(command.ref, meta)
        contract = self.contract(uow, command.ref)
        contract.vary(command.value, meta)
        uow.stage(contract)

    def terminate_contract(
        self, uow: UnitOfWork, command: commands.TerminateContract, meta: Meta
    ) -> None:
        """Terminate a contract (once)."""
        contract = self.contract(uow, command.ref)
        contract.terminate(meta)
        uow.stage(contract)

    # --- decisions -------------------------------------------------------------

    def resolve_concern(self, uow: UnitOfWork, reference: str) -> dict[str, str]:
        """A concern reference (``cluster:NAME``, ``department:CODE``, ``phase:C:N``,
        ``contract:REF``) resolved to the thing it names."""
        kind, _, key = reference.strip().partition(":")
        kind = kind.strip().lower()
        key = key.strip()
        if kind == "cluster" and key:
            cluster = self.cluster(uow, key)
            return {"kind": "cluster", "id": cluster.id.hex, "key": cluster.name}
        if kind == "department" and key:
            department = self.department(uow, key.upper())
            return {"kind": "department", "id": department.id.hex, "key": department.code}
        if kind == "contract" and key:
            contract = self.contract(uow, key)
            return {"kind": "contract", "id": contract.id.hex, "key": contract.ref}
        if kind == "phase":
            cluster_name, _, number = key.rpartition(":")
            if cluster_name and number.isdigit():
                cluster = self.cluster(uow, cluster_name)
                cluster.phase(int(number))
                return {
                    "kind": "phase",
                    "id": cluster.id.hex,
                    "key": f"{cluster.name}:{int(number)}",
                }
        raise InvalidInput(
            f"concern {reference!r} is not valid: write cluster:NAME, department:CODE, "
            "phase:CLUSTER:N or contract:REF"
        )

    def propose_decision(
        self, uow: UnitOfWork, command: commands.ProposeDecision, meta: Meta
    ) -> str:
        """Propose a decision; returns its id (``DEC-0001``, …, in order)."""
        resolved: list[dict[str, str]] = []
        for reference in command.concerns:
            concern = self.resolve_concern(uow, reference)
            if concern not in resolved:
                resolved.append(concern)
        numbering = uow.get(domain.DecisionNumbering, domain.DecisionNumbering.ID)
        if numbering is None:
            numbering = domain.DecisionNumbering(meta=meta)
        number = numbering.issue(meta)
        proposed = domain.Decision(
            number=number,
            title=command.title,
            context=command.context,
            decision=command.decision,
            consequences=command.consequences,
            concerns=resolved,
            meta=meta,
        )
        uow.stage(numbering, proposed)
        return domain.decision_id(number)

    def accept_decision(
        self, uow: UnitOfWork, command: commands.AcceptDecision, meta: Meta
    ) -> None:
        """Accept a proposed decision."""
        found = self.decision(uow, command.id)
        found.accept(meta)
        uow.stage(found)

    def reject_decision(
        self, uow: UnitOfWork, command: commands.RejectDecision, meta: Meta
    ) -> None:
        """Reject a proposed decision."""
        found = self.decision(uow, command.id)
        found.reject(meta)
        uow.stage(found)

    def supersede_decision(
        self, uow: UnitOfWork, command: commands.SupersedeDecision, meta: Meta
    ) -> None:
        """An accepted decision is superseded by another accepted one (linked both ways)."""
        old = self.decision(uow, command.id)
        new = self.decision(uow, command.by)
        old.superseded(new, meta)
        new.supersede(old, meta)
        uow.stage(old, new)

    # --- governance ------------------------------------------------------------

    def record_business_case(
        self, uow: UnitOfWork, command: commands.RecordBusinessCase, meta: Meta
    ) -> None:
        """Record a business case stage and its status."""
        found = self.cluster(uow, command.cluster)
        found.record_business_case(
            command.stage, command.status, command.cost, command.benefits,
            command.period_years, meta,
        )  # fmt: skip
        uow.stage(found)

    def grant_funding(self, uow: UnitOfWork, command: commands.GrantFunding, meta: Meta) -> None:
        """Record a funding envelope granted."""
        found = self.cluster(uow, command.cluster)
        found.grant_funding(command.amount, meta)
        uow.stage(found)

    def realise_benefit(
        self, uow: UnitOfWork, command: commands.RealiseBenefit, meta: Meta
    ) -> None:
        """Record benefits realised."""
        found = self.cluster(uow, command.cluster)
        found.realise_benefit(command.amount, command.kind, command.period, meta)
        uow.stage(found)

    def rate_assurance(self, uow: UnitOfWork, command: commands.RateAssurance, meta: Meta) -> None:
        """Record a delivery confidence rating."""
        found = self.cluster(uow, command.cluster)
        found.rate(command.rating, command.assessor, meta)
        uow.stage(found)


__all__ = ["OperatingModel", "Saved", "UnitOfWork"]
