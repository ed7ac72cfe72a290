"""Contracts as a state machine: tender, award (directly, after a tender, bundled), extend,
vary, correct, terminate.

The model is a plain dict of records written from SPEC §2:

- a reference is used once; a tender is later awarded under the same reference,
  in the cluster that tendered it; an awarded contract is not awarded again;
- extending, varying and terminating need an awarded, not terminated contract;
  extensions exercised never exceed the allowance; a variation needs a reason;
- ``bundled_with`` links two contracts of one cluster, both ways, each with at
  most one other; the link made when one of them was signed stays;
- a correction sets facts right (a tender's value is its estimated value) and
  must change one; an allowance is not corrected below what was exercised;
- ``end`` = start + term + extensions exercised.

Where the SPEC leaves a case open (a no-op variation, bundling with or correcting
a terminated contract) either outcome is accepted, and the model follows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from opmodel.application import UnitOfWork
from opmodel.domain import Cluster, Contract
from opmodel.errors import (
    BundleMismatch,
    ContractAlreadyAwarded,
    ContractAlreadyExists,
    ContractClusterMismatch,
    ContractNotAwarded,
    ContractTerminated,
    ExtensionExceedsAllowance,
    InvalidInput,
    NotFound,
    NothingToCorrect,
    OpmodelError,
    RuleBreached,
)
from tests.handlers import command
from tests.property.harness import MACHINE_SETTINGS, NONE, Harness, add_months
from tests.strategies import (
    CONTRACT_REFS,
    allowance_months,
    cluster_names,
    contract_kinds,
    contract_refs,
    dates,
    extension_steps,
    known_or,
    mostly,
    small_money,
    suppliers,
    term_months,
)

Rejections = set[type[OpmodelError]]
TENDERED, ACTIVE, TERMINATED = "tendered", "active", "terminated"


@dataclass
class ModelContract:
    ref: str
    cluster: str
    kind: str
    status: str
    estimated_value: Decimal | None = None
    supplier: str | None = None
    value: Decimal | None = None
    start: date | None = None
    term_months: int | None = None
    extension_months: int | None = None
    extended_months: int = 0
    bundled_with: str | None = None

    @property
    def end(self) -> date | None:
        if self.start is None or self.term_months is None:
            return None
        return add_months(self.start, self.term_months + self.extended_months)


class ContractMachine(Harness, RuleBasedStateMachine):
    """Contract commands against a model of each contract's facts."""

    def __init__(self) -> None:
        super().__init__()
        self.open_app()
        self.clusters: list[str] = []
        self.contracts: dict[str, ModelContract] = {}

    # --- helpers -----------------------------------------------------------

    def known_aggregates(self) -> Iterable[tuple[type[Aggregate], UUID]]:
        for name in self.clusters:
            yield Cluster, Cluster.create_id(name)
        for ref in self.contracts:
            yield Contract, Contract.create_id(ref)

    def some_cluster(self) -> st.SearchStrategy[str]:
        return known_or(self.clusters, cluster_names)

    def some_ref(self, status: str | None = None) -> st.SearchStrategy[str]:
        """Mostly a contract the machine made (in ``status``, if there is one), else any."""
        refs = [r for r, c in self.contracts.items() if status in (None, c.status)]
        return known_or(refs or self.contracts, contract_refs)

    # --- setup -------------------------------------------------------------

    @initialize(
        names=st.lists(cluster_names, min_size=2, max_size=2, unique=True),
        refs=st.permutations(CONTRACT_REFS),
        allowance=allowance_months,
    )
    def set_up(self, names: list[str], refs: list[str], allowance: int) -> None:
        """Two clusters; in the first, a contract awarded and another tendered."""
        for name in names:
            self.form(name)
        self.award_contract(
            refs[0], names[0], None, "software", "Oracle", Decimal("710000000.00"),
            date(2024, 8, 30), 120, allowance,
        )  # fmt: skip
        self.tender_contract(refs[1], names[0], "consultancy", Decimal("5000000.00"), 24, None)

    def form(self, name: str) -> None:
        meta = self.meta()
        self.attempt(
            lambda uow: command("form_cluster", name, 5, None).run(self.app, uow, meta), NONE
        )
        self.clusters.append(name)

    # --- rules -------------------------------------------------------------

    @rule(
        data=st.data(),
        kind=contract_kinds,
        estimated=small_money,
        term=st.none() | term_months,
        allowance=st.none() | allowance_months,
    )
    def tender(
        self,
        data: st.DataObject,
        kind: str,
        estimated: Decimal,
        term: int | None,
        allowance: int | None,
    ) -> None:
        ref = data.draw(contract_refs, label="ref")
        cluster = data.draw(self.some_cluster(), label="cluster")
        self.tender_contract(ref, cluster, kind, estimated, term, allowance)

    def tender_contract(
        self,
        ref: str,
        cluster: str,
        kind: str,
        estimated: Decimal,
        term: int | None,
        allowance: int | None,
    ) -> None:
        rejections: Rejections = set()
        if cluster not in self.clusters:
            rejections.add(NotFound)
        if ref in self.contracts:
            rejections.add(ContractAlreadyExists)
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command(
                "tender_contract", ref, cluster, kind, estimated, term, allowance
            ).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            self.contracts[ref] = ModelContract(
                ref=ref,
                cluster=cluster,
                kind=kind,
                status=TENDERED,
                estimated_value=estimated,
                term_months=term,
                extension_months=allowance,
            )

    @rule(
        data=st.data(),
        kind=contract_kinds,
        supplier=suppliers,
        value=small_money,
        start=dates,
        term=term_months,
        allowance=allowance_months,
        bundled=st.booleans(),
    )
    def award(
        self,
        data: st.DataObject,
        kind: str,
        supplier: str,
        value: Decimal,
        start: date,
        term: int,
        allowance: int,
        bundled: bool,
    ) -> None:
        """Directly (a new reference), after a tender (a tendered one), maybe bundled."""
        ref = data.draw(self.some_ref(TENDERED), label="ref")
        existing = self.contracts.get(ref)
        cluster = data.draw(
            known_or([existing.cluster], self.some_cluster()) if existing else self.some_cluster(),
            label="cluster",
        )
        partner_ref = data.draw(self.some_ref(), label="bundled with") if bundled else None
        self.award_contract(
            ref, cluster, partner_ref, kind, supplier, value, start, term, allowance
        )

    def award_contract(
        self,
        ref: str,
        cluster: str,
        partner_ref: str | None,
        kind: str,
        supplier: str,
        value: Decimal,
        start: date,
        term: int,
        allowance: int,
    ) -> None:
        existing = self.contracts.get(ref)
        partner = self.contracts.get(partner_ref) if partner_ref else None

        rejections: Rejections = set()
        open_case = False
        if cluster not in self.clusters or (partner_ref is not None and partner is None):
            rejections.add(NotFound)
        if existing is not None:
            if existing.status != TENDERED:
                rejections.add(ContractAlreadyAwarded)
            elif existing.cluster != cluster and cluster in self.clusters:
                rejections.add(ContractClusterMismatch)
        if partner_ref == ref:
            rejections |= {InvalidInput, BundleMismatch}
        elif partner is not None:
            if partner.cluster != cluster:
                rejections.add(BundleMismatch)
            if partner.bundled_with not in (None, ref):
                rejections.add(BundleMismatch)
            if existing is not None and existing.bundled_with not in (None, partner_ref):
                rejections.add(BundleMismatch)
            open_case = partner.status == TERMINATED
        meta = self.meta()

        def award(uow: UnitOfWork) -> None:
            award = command(
                "award_contract", ref, cluster, kind, supplier, value, start, term, allowance,
                partner_ref, None,
            )  # fmt: skip
            award.run(self.app, uow, meta)

        outcome = self.attempt(
            award,
            frozenset(rejections or ({RuleBreached} if open_case else set())),
            may_succeed=open_case and not rejections,
        )
        if not outcome.accepted:
            return
        contract = existing or ModelContract(ref=ref, cluster=cluster, kind=kind, status=ACTIVE)
        contract.status = ACTIVE
        contract.kind = kind
        contract.supplier = supplier
        contract.value = value
        contract.start = start
        contract.term_months = term
        contract.extension_months = allowance
        # a link made when the partner was signed stays when this one is signed
        contract.bundled_with = partner_ref or contract.bundled_with
        self.contracts[ref] = contract
        if partner is not None:
            partner.bundled_with = ref

    @rule(data=st.data())
    def extend(self, data: st.DataObject) -> None:
        ref = data.draw(self.some_ref(ACTIVE), label="ref")
        contract = self.contracts.get(ref)
        left = (contract.extension_months or 0) - contract.extended_months if contract else 0
        edge = [m for m in (left, left + 1) if m >= 1]  # all that is left, or one month more
        months = data.draw(mostly(st.sampled_from(edge), extension_steps), label="months")
        rejections = self.live_rejections(contract)
        if not rejections:
            assert contract is not None
            if contract.extended_months + months > (contract.extension_months or 0):
                rejections.add(ExtensionExceedsAllowance)
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command("extend_contract", ref, months).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert contract is not None
            contract.extended_months += months

    @rule(data=st.data(), value=small_money, with_reason=st.booleans())
    def vary(self, data: st.DataObject, value: Decimal, with_reason: bool) -> None:
        ref = data.draw(self.some_ref(ACTIVE), label="ref")
        contract = self.contracts.get(ref)
        rejections = self.live_rejections(contract)
        if not with_reason:
            rejections.add(InvalidInput)
        # the SPEC does not say whether a "variation" to the same value is one
        open_case = not rejections and contract is not None and contract.value == value
        meta = self.meta(reason="change request" if with_reason else None)
        outcome = self.attempt(
            lambda uow: command("vary_contract", ref, value).run(self.app, uow, meta),
            frozenset(rejections or ({InvalidInput, RuleBreached} if open_case else set())),
            may_succeed=open_case,
        )
        if outcome.accepted:
            assert contract is not None
            contract.value = value

    @rule(
        data=st.data(),
        term=st.none() | term_months,
        value=st.none() | small_money,
        start=st.none() | dates,
        supplier=st.none() | suppliers,
    )
    def correct(
        self,
        data: st.DataObject,
        term: int | None,
        value: Decimal | None,
        start: date | None,
        supplier: str | None,
    ) -> None:
        extended = [r for r, c in self.contracts.items() if c.extended_months]
        some_ref = self.some_ref()
        ref = data.draw(
            mostly(st.sampled_from(extended), some_ref) if extended else some_ref, label="ref"
        )
        contract = self.contracts.get(ref)
        used = contract.extended_months if contract else 0
        edge = [m for m in (used - 1, used) if m >= 0]  # just below what was exercised, or all
        allowance = data.draw(
            st.none() | mostly(st.sampled_from(edge), allowance_months), label="extension_months"
        )
        changes: dict[str, object] = {
            "term_months": term,
            "extension_months": allowance,
            "value": value,
        }
        if contract is None or contract.status != TENDERED:
            changes |= {"start": start, "supplier": supplier}  # a tender has neither yet
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            changes = {"term_months": term or 12}
        rejections: Rejections = set()
        open_case = False
        if contract is None:
            rejections.add(NotFound)
        else:
            current = {
                "term_months": contract.term_months,
                "extension_months": contract.extension_months,
                "value": contract.estimated_value
                if contract.status == TENDERED
                else contract.value,
                "start": contract.start,
                "supplier": contract.supplier,
            }
            if all(current[k] == v for k, v in changes.items()):
                rejections.add(NothingToCorrect)
            new_allowance = changes.get("extension_months")
            if isinstance(new_allowance, int) and new_allowance < contract.extended_months:
                rejections.add(ExtensionExceedsAllowance)
            open_case = contract.status == TERMINATED
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command("correct_contract", ref, dict(changes)).run(self.app, uow, meta),
            frozenset(rejections or ({ContractTerminated} if open_case else set())),
            may_succeed=open_case and not rejections,
        )
        if outcome.accepted:
            assert contract is not None
            for key, fact in changes.items():
                if key == "value" and contract.status == TENDERED:
                    contract.estimated_value = fact  # type: ignore[assignment]
                else:
                    setattr(contract, key, fact)

    @rule(data=st.data())
    def terminate(self, data: st.DataObject) -> None:
        ref = data.draw(self.some_ref(ACTIVE), label="ref")
        contract = self.contracts.get(ref)
        rejections = self.live_rejections(contract)
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command("terminate_contract", ref).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert contract is not None
            contract.status = TERMINATED

    def live_rejections(self, contract: ModelContract | None) -> Rejections:
        """Extending, varying and terminating need an awarded, not terminated contract."""
        if contract is None:
            return {NotFound}
        if contract.status == TENDERED:
            return {ContractNotAwarded}
        if contract.status == TERMINATED:
            return {ContractTerminated}
        return set()

    # --- invariants ----------------------------------------------------------

    @invariant()
    def contracts_match_the_model(self) -> None:
        for ref in CONTRACT_REFS:
            stored = self.stored(Contract.create_id(ref))
            expected = self.contracts.get(ref)
            if expected is None:
                assert stored is None, f"contract {ref} exists but was never tendered or awarded"
                continue
            assert stored is not None, f"contract {ref} is not stored"
            got = {
                "ref": stored.ref,
                "cluster": stored.cluster,
                "cluster_id": stored.cluster_id,
                "kind": stored.kind,
                "status": stored.status,
                "estimated_value": stored.estimated_value,
                "supplier": stored.supplier,
                "value": stored.value,
                "start": stored.start,
                "term_months": stored.term_months,
                "extension_months": stored.extension_months,
                "extended_months": stored.extended_months,
                "bundled_with": stored.bundled_with,
                "end": stored.end,
            }
            want = {
                "ref": expected.ref,
                "cluster": expected.cluster,
                "cluster_id": Cluster.create_id(expected.cluster),
                "kind": expected.kind,
                "status": expected.status,
                "estimated_value": expected.estimated_value,
                "supplier": expected.supplier,
                "value": expected.value,
                "start": expected.start,
                "term_months": expected.term_months,
                "extension_months": expected.extension_months,
                "extended_months": expected.extended_months,
                "bundled_with": expected.bundled_with,
                "end": expected.end,
            }
            assert got == want, f"contract {ref}: {_differences(got, want)}"

    @invariant()
    def bundles_are_symmetric_in_the_store(self) -> None:
        """Read from the store alone: a bundle links two contracts of one cluster both ways."""
        for ref in self.contracts:
            stored = self.stored(Contract.create_id(ref))
            assert stored.extended_months <= (stored.extension_months or 0)
            if stored.bundled_with is None:
                continue
            partner = self.stored(Contract.create_id(stored.bundled_with))
            assert partner is not None, f"{ref} is bundled with a contract that does not exist"
            assert partner.bundled_with == stored.ref, (
                f"{ref} is bundled with {partner.ref}, "
                f"but {partner.ref} is bundled with {partner.bundled_with}"
            )
            assert partner.cluster_id == stored.cluster_id


def _differences(got: dict[str, object], want: dict[str, object]) -> str:
    return "; ".join(
        f"{key} is {got[key]!r}, the model says {want[key]!r}"
        for key in want
        if got[key] != want[key]
    )


ContractMachine.TestCase.settings = MACHINE_SETTINGS
TestContracts = ContractMachine.TestCase
