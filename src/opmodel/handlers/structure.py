"""Handlers of the commands that shape the model: clusters, departments, delivery phases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opmodel import domain
from opmodel.domain.values import Meta
from opmodel.errors import (
    ClusterAlreadyFormed,
    DepartmentAlreadyRegistered,
    InvalidInput,
)
from opmodel.handlers.finding import Finding
from opmodel.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # the handlers take the commands; the commands know nothing of them
    from opmodel import commands


class StructureHandlers(Finding):
    """Forming clusters, registering and moving departments, running delivery phases."""

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
