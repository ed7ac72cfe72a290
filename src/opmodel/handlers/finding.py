"""Finding the aggregates a command is about, by the keys people type."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

from opmodel import domain
from opmodel.errors import (
    InvalidInput,
    NotFound,
)
from opmodel.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # the handlers take the commands; the commands know nothing of them
    pass


class Finding:
    """Loading aggregates by name, code, reference or id, or saying they do not exist."""

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
