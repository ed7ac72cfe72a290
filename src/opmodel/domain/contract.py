"""A contract of a cluster: tendered, awarded, extended, varied, corrected, terminated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.values import Meta, contract_end, format_money
from opmodel.errors import (
    BundleMismatch,
    ContractAlreadyAwarded,
    ContractClusterMismatch,
    ContractNotAwarded,
    ContractTerminated,
    ExtensionExceedsAllowance,
    InvalidInput,
    NothingToCorrect,
)

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
        kind: str,
        supplier: str,
        value: Decimal,
        start: date,
        term_months: int,
        extension_months: int,
        bundled_with: str | None,
        framework: str | None,
        meta: Meta,
    ) -> Contract:
        """A contract awarded with no tender recorded before it."""
        return cls._create(
            cls.Awarded,
            ref=ref,
            cluster_id=cluster_id,
            cluster=cluster,
            kind=kind,
            supplier=supplier,
            value=value,
            start=start,
            term_months=term_months,
            extension_months=extension_months,
            bundled_with=bundled_with,
            framework=framework,
            meta=meta,
        )

    def award(
        self,
        cluster_id: UUID,
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
        """Award a tendered contract, in the cluster that tendered it."""
        if self.status != TENDERED:
            raise ContractAlreadyAwarded(
                f"contract {self.ref} was already awarded to {self.supplier}; "
                "correct or vary it instead",
                contract=self.ref,
            )
        if cluster_id != self.cluster_id:
            raise ContractClusterMismatch(
                f"contract {self.ref} was tendered by cluster {self.cluster} "
                "and must be awarded in that cluster",
                contract=self.ref,
                cluster=self.cluster,
            )
        self._tender_awarded(
            kind=kind,
            supplier=supplier,
            value=value,
            start=start,
            term_months=term_months,
            extension_months=extension_months,
            bundled_with=bundled_with,
            framework=framework,
            meta=meta,
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

    def check_can_bundle_with(self, other: Contract) -> None:
        """Rule: a bundle joins two contracts of one cluster, each bundled at most once."""
        if other.cluster_id != self.cluster_id:
            raise BundleMismatch(
                f"contract {self.ref} (cluster {self.cluster}) cannot be bundled with "
                f"{other.ref} (cluster {other.cluster}): bundled contracts share a cluster",
                contract=self.ref,
                bundled_with=other.ref,
            )
        for contract, partner in ((self, other), (other, self)):
            if contract.bundled_with and contract.bundled_with.casefold() != partner.ref.casefold():
                raise BundleMismatch(
                    f"contract {contract.ref} is already bundled with {contract.bundled_with}",
                    contract=contract.ref,
                    bundled_with=contract.bundled_with,
                )

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

    @property
    def extension_left(self) -> int:
        """Months of extension allowance not yet exercised."""
        return (self.extension_months or 0) - self.extended_months

    def extend(self, months: int, meta: Meta) -> None:
        """Exercise months of the extension allowance."""
        self.check_awarded_and_live()
        if months > self.extension_left:
            raise ExtensionExceedsAllowance(
                f"contract {self.ref} has {self.extension_left} months of extension left "
                f"(allowance {self.extension_months or 0}, used {self.extended_months}); "
                f"cannot extend by {months}",
                contract=self.ref,
                months=months,
            )
        self._extended(months=months, meta=meta)

    @event(Extended)
    def _extended(self, months: int, meta: Meta) -> None:
        self.extended_months += months

    def vary(self, value: Decimal, meta: Meta) -> None:
        """Vary the contract's value."""
        self.check_awarded_and_live()
        assert self.value is not None
        self._varied(old_value=self.value, value=value, meta=meta)

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
        if "extension_months" in differing:
            allowance = differing["extension_months"]
            assert isinstance(allowance, int)
            if allowance < self.extended_months:
                raise ExtensionExceedsAllowance(
                    f"contract {self.ref} has already been extended by {self.extended_months} "
                    f"months; its allowance cannot be corrected to {allowance}",
                    contract=self.ref,
                )
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

    @property
    def end(self) -> date | None:
        """Start + term + extensions exercised."""
        if self.start is None or self.term_months is None:
            return None
        return contract_end(self.start, self.term_months + self.extended_months)

    @property
    def max_end(self) -> date | None:
        """Start + term + the whole extension allowance."""
        if self.start is None or self.term_months is None:
            return None
        return contract_end(self.start, self.term_months + (self.extension_months or 0))

    def check_dates_in_calendar(self) -> None:
        """Rule: a contract's latest possible end is a date opmodel can hold."""
        try:
            _ = self.max_end
        except InvalidInput as exc:
            raise InvalidInput(f"contract {self.ref}: {exc.message}", contract=self.ref) from None


def _show(value: object) -> str:
    return format_money(value) if isinstance(value, Decimal) else str(value)
