"""Handlers of the contract commands: tender, award, correct, extend, vary, terminate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opmodel import domain
from opmodel.domain.values import Meta
from opmodel.errors import (
    ContractAlreadyExists,
    InvalidInput,
)
from opmodel.handlers.finding import Finding
from opmodel.unit_of_work import UnitOfWork

if TYPE_CHECKING:  # the handlers take the commands; the commands know nothing of them
    from opmodel import commands


class ContractHandlers(Finding):
    """A contract's life, from its notice to its end."""

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
