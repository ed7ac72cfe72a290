"""A contract of a cluster: tendered, awarded, extended, varied, corrected, terminated."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.bundles import check_can_be_bundled_with, partner_for_award
from opmodel.domain.terms import ContractTerms, Term
from opmodel.domain.values import Meta, format_money
from opmodel.errors import (
    ContractAlreadyAwarded,
    ContractClusterMismatch,
    ContractNotAwarded,
    ContractTerminated,
    InvalidInput,
    NothingToCorrect,
)

__all__ = ["ACTIVE", "TENDERED", "TERMINATED", "Contract", "ContractTerms"]

TENDERED = "tendered"
ACTIVE = "active"
TERMINATED = "terminated"


class Contract(Entity):
    """A software, systems-integration or other contract held by a cluster."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Tendered(Event, Entity.Created):
        class_version = 1
        ref: str
        cluster_id: UUID
        cluster: str
        kind: str
        estimated_value: Decimal
        term_months: int | None
        extension_months: int | None

        def apply(self, aggregate: Contract) -> None:
            aggregate.estimated_value = self.estimated_value
            aggregate.term_months = self.term_months
            aggregate.extension_months = self.extension_months

    class Awarded(Event, Entity.Created):
        """Awarded without a tender recorded first."""

        class_version = 1
        ref: str
        cluster_id: UUID
        cluster: str
        kind: str
        supplier: str
        value: Decimal
        start: date
        term_months: int
        extension_months: int
        bundled_with: str | None
        framework: str | None

        def apply(self, aggregate: Contract) -> None:
            aggregate.status = ACTIVE
            aggregate.supplier = self.supplier
            aggregate.value = self.value
            aggregate.start = self.start
            aggregate.term_months = self.term_months
            aggregate.extension_months = self.extension_months
            aggregate.bundled_with = self.bundled_with
            aggregate.framework = self.framework

    class TenderAwarded(Entity.Event):
        """Awarded after its tender."""

        class_version = 1
        kind: str
        supplier: str
        value: Decimal
        start: date
        term_months: int
        extension_months: int
        bundled_with: str | None
        framework: str | None

    class BundleLinked(Event):
        class_version = 1
        bundled_with: str

    class Extended(Event):
        class_version = 1
        months: int

    class Varied(Event):
        class_version = 1
        old_value: Decimal
        value: Decimal

    class Corrected(Entity.Event):
        """A fact recorded wrongly, set right from the event's effective date."""

        class_version = 1
        changes: dict[str, object]

    class Terminated(Event):
        class_version = 1

    @staticmethod
    def create_id(ref: str) -> UUID:
        """Contract references are unique ignoring case."""
        return natural_id("contract", ref)

    # Both created-events (Tendered, Awarded) pass these; each one's apply() sets the rest.
    def __init__(self, ref: str, cluster_id: UUID, cluster: str, kind: str) -> None:
        self.ref = ref
        self.cluster_id = cluster_id
        self.cluster = cluster
        self.kind = kind
        self.status = TENDERED
        self.supplier: str | None = None
        self.value: Decimal | None = None
        self.estimated_value: Decimal | None = None
        self.start: date | None = None
        self.term_months: int | None = None
        self.extension_months: int | None = None
        self.extended_months = 0
        self.bundled_with: str | None = None
        self.framework: str | None = None

    @classmethod
    def tender(
        cls,
        ref: str,
        cluster_id: UUID,
        cluster: str,
        *,
        kind: str,
        estimated_value: Decimal,
        term_months: int | None,
        extension_months: int | None,
        meta: Meta,
    ) -> Contract:
        """A published contract notice: estimated value and intended terms."""
        return cls._create(
            cls.Tendered,
            ref=ref,
            cluster_id=cluster_id,
            cluster=cluster,
            kind=kind,
            estimated_value=estimated_value,
            term_months=term_months,
            extension_months=extension_months,
            meta=meta,
        )

    @classmethod
    def award_directly(
        cls,
        ref: str,
        cluster_id: UUID,
        cluster: str,
        terms: ContractTerms,
        partner: Contract | None,
        meta: Meta,
    ) -> Contract:
        """A contract awarded with no tender recorded before it, maybe bundled with ``partner``."""
        terms.check_in_calendar(ref)
        if partner is not None:
            check_can_be_bundled_with(partner, ref, cluster_id, cluster)
        return cls._create(
            cls.Awarded,
            ref=ref,
            cluster_id=cluster_id,
            cluster=cluster,
            **asdict(terms),
            bundled_with=partner.ref if partner is not None else None,
            meta=meta,
        )

    def award(
        self,
        cluster_id: UUID,
        terms: ContractTerms,
        partner: Contract | None,
        tendered_with: Contract | None,
        meta: Meta,
    ) -> None:
        """Award a tendered contract in the cluster that tendered it, keeping its bundle.

        ``partner``: the contract the award names as its bundle partner, if any;
        ``tendered_with``: the one this contract was bundled with while tendered, if any.
        """
        partner = partner_for_award(self, partner, tendered_with)
        self.check_not_yet_awarded()
        self.check_awarded_where_tendered(cluster_id)
        terms.check_in_calendar(self.ref)
        if partner is not None:
            check_can_be_bundled_with(partner, self.ref, self.cluster_id, self.cluster)
        self._tender_awarded(
            **asdict(terms),
            bundled_with=partner.ref if partner is not None else None,
            meta=meta,
        )

    def check_not_yet_awarded(self) -> None:
        """Rule: a contract is awarded once."""
        if self.status != TENDERED:
            raise ContractAlreadyAwarded(
                f"contract {self.ref} was already awarded to {self.supplier}; "
                "correct or vary it instead",
                contract=self.ref,
            )

    def check_awarded_where_tendered(self, cluster_id: UUID) -> None:
        """Rule: a tendered contract is awarded in the cluster that tendered it."""
        if cluster_id != self.cluster_id:
            raise ContractClusterMismatch(
                f"contract {self.ref} was tendered by cluster {self.cluster} "
                "and must be awarded in that cluster",
                contract=self.ref,
                cluster=self.cluster,
            )

    @event(TenderAwarded)
    def _tender_awarded(
        self,
        kind: str,
        supplier: str,
        value: Decimal,
        start: date,
        term_months: int,
        extension_months: int,
        bundled_with: str | None,
        framework: str | None,
        meta: Meta,
    ) -> None:
        self.status = ACTIVE
        self.kind = kind
        self.supplier = supplier
        self.value = value
        self.start = start
        self.term_months = term_months
        self.extension_months = extension_months
        self.bundled_with = bundled_with
        self.framework = framework

    def link_bundle(self, partner_ref: str, meta: Meta) -> None:
        """Record the other half of a symmetric bundle link."""
        self._bundle_linked(bundled_with=partner_ref, meta=meta)

    @event(BundleLinked)
    def _bundle_linked(self, bundled_with: str, meta: Meta) -> None:
        self.bundled_with = bundled_with

    def check_awarded_and_live(self) -> None:
        """Rule: only an awarded, not terminated contract is extended, varied or terminated."""
        if self.status == TENDERED:
            raise ContractNotAwarded(
                f"contract {self.ref} is only tendered; award it first "
                f"(opmodel contract award {self.ref} …)",
                contract=self.ref,
            )
        if self.status == TERMINATED:
            raise ContractTerminated(
                f"contract {self.ref} was terminated and cannot be changed",
                contract=self.ref,
            )

    def extend(self, months: int, meta: Meta) -> None:
        """Exercise months of the extension allowance."""
        self.check_awarded_and_live()
        self.term.check_can_extend(months)
        self._extended(months=months, meta=meta)

    @event(Extended)
    def _extended(self, months: int, meta: Meta) -> None:
        self.extended_months += months

    def vary(self, value: Decimal, meta: Meta) -> None:
        """Vary the contract's value (a reason is required)."""
        self.check_variation_has_reason(self.ref, meta)
        self.check_awarded_and_live()
        assert self.value is not None
        self._varied(old_value=self.value, value=value, meta=meta)

    @staticmethod
    def check_variation_has_reason(ref: str, meta: Meta) -> None:
        """Rule: a variation needs a reason."""
        if not meta.reason:
            raise InvalidInput(
                f"contract vary {ref}: a variation needs a reason: give --reason TEXT",
                contract=ref,
            )

    @event(Varied)
    def _varied(self, old_value: Decimal, value: Decimal, meta: Meta) -> None:
        self.value = value

    def correct(self, changes: dict[str, object], meta: Meta) -> None:
        """Set right facts recorded wrongly; only facts that differ are recorded."""
        current: dict[str, object] = {
            "term_months": self.term_months,
            "extension_months": self.extension_months,
            "value": self.value if self.status != TENDERED else self.estimated_value,
            "start": self.start,
            "supplier": self.supplier,
        }
        differing = {k: v for k, v in changes.items() if current[k] != v}
        if not differing:
            raise NothingToCorrect(
                f"contract {self.ref} already records "
                + ", ".join(f"{k} {_show(v)}" for k, v in changes.items())
                + "; nothing to correct",
                contract=self.ref,
            )
        self.term.check_can_correct(differing)
        self._corrected(changes=differing, meta=meta)

    @event(Corrected)
    def _corrected(self, changes: dict[str, object], meta: Meta) -> None:
        for key, value in changes.items():
            if key == "value" and self.status == TENDERED:
                self.estimated_value = value  # type: ignore[assignment]
            else:
                setattr(self, key, value)

    def terminate(self, meta: Meta) -> None:
        """Terminate the contract, once."""
        self.check_awarded_and_live()
        self._terminated(meta=meta)

    @event(Terminated)
    def _terminated(self, meta: Meta) -> None:
        self.status = TERMINATED

    # --- its term and dates (rules and arithmetic: opmodel.domain.terms) -----

    @property
    def term(self) -> Term:
        """The running term as it stands: start, term, allowance, extensions exercised."""
        return Term(
            self.ref, self.start, self.term_months, self.extension_months, self.extended_months
        )

    @property
    def end(self) -> date | None:
        """Start + term + extensions exercised."""
        return self.term.end

    @property
    def max_end(self) -> date | None:
        """Start + term + the whole extension allowance."""
        return self.term.max_end

    @property
    def extension_left(self) -> int:
        """Months of extension allowance not yet exercised."""
        return self.term.extension_left


def _show(value: object) -> str:
    return format_money(value) if isinstance(value, Decimal) else str(value)
