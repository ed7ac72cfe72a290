"""Handlers of the decision and governance commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opmodel import domain
from opmodel.domain.values import Meta
from opmodel.errors import (
    InvalidInput,
)
from opmodel.handlers.finding import Finding
from opmodel.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # the handlers take the commands; the commands know nothing of them
    from opmodel import commands


class DecisionHandlers(Finding):
    """Decisions proposed, accepted, rejected, superseded; business cases, funding,
    benefits and assurance ratings recorded."""

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
