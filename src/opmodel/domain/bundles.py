"""Bundles: two contracts of one cluster awarded together, each bundled at most once.

A bundle's rules compare two contracts, so they live beside
:class:`~opmodel.domain.contract.Contract` rather than in it, and read only what
a :class:`Party` shows. The contract checks them before raising its award.
"""

from __future__ import annotations

from typing import Protocol, TypeVar
from uuid import UUID

from opmodel.errors import BundleMismatch, InvalidInput


class Party(Protocol):
    """What the bundle rules read of a contract."""

    @property
    def id(self) -> UUID: ...
    @property
    def ref(self) -> str: ...
    @property
    def cluster_id(self) -> UUID: ...
    @property
    def cluster(self) -> str: ...
    @property
    def bundled_with(self) -> str | None: ...


P = TypeVar("P", bound=Party)


def partner_for_award(contract: Party, named: P | None, tendered_with: P | None) -> P | None:
    """The partner an award is bundled with: the one it had while tendered, else the one named."""
    if named is not None:
        check_not_bundled_with_itself(contract, named)
    check_keeps_its_bundle(contract, named, tendered_with)
    return tendered_with if tendered_with is not None else named


def check_not_bundled_with_itself(contract: Party, partner: Party) -> None:
    """Rule: a contract is not bundled with itself."""
    if partner.id == contract.id:
        raise InvalidInput(
            f"contract {contract.ref} cannot be bundled with itself", contract=contract.ref
        )


def check_keeps_its_bundle(
    contract: Party, partner: Party | None, tendered_with: Party | None
) -> None:
    """Rule: a contract bundled while tendered is awarded in that bundle, not another."""
    if partner is not None and tendered_with is not None and partner.id != tendered_with.id:
        raise BundleMismatch(
            f"contract {contract.ref} is already bundled with {tendered_with.ref}; "
            f"it cannot also be bundled with {partner.ref}",
            contract=contract.ref,
            bundled_with=tendered_with.ref,
        )


def check_can_be_bundled_with(partner: Party, ref: str, cluster_id: UUID, cluster: str) -> None:
    """Rule: a bundle joins two contracts of one cluster, each bundled at most once."""
    if cluster_id != partner.cluster_id:
        raise BundleMismatch(
            f"contract {ref} (cluster {cluster}) cannot be bundled with "
            f"{partner.ref} (cluster {partner.cluster}): bundled contracts share a cluster",
            contract=ref,
            bundled_with=partner.ref,
        )
    if partner.bundled_with and partner.bundled_with.casefold() != ref.casefold():
        raise BundleMismatch(
            f"contract {partner.ref} is already bundled with {partner.bundled_with}",
            contract=partner.ref,
            bundled_with=partner.bundled_with,
        )
