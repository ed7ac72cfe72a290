"""Contracts: tendered and awarded, bundled, extended, varied, corrected, terminated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from opmodel.application import OperatingModel
from opmodel.domain import Contract
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
)
from opmodel.service import make_meta
from tests.handlers import command as handled

DAY = date(2024, 8, 30)
ORACLE = "SYN-ORACLE-2024"
IBM = "SYN-IBM-2024"


class Model:
    """The operating model on an in-memory store, driven command by command."""

    def __init__(self) -> None:
        self.app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        for cluster in ("Synergy", "Matrix"):
            self.when("form_cluster", cluster, 5, None)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def when(
        self, command: str, *args: Any, on: date = DAY, reason: str | None = None
    ) -> list[Any]:
        """Run the command ``app.<command>`` takes, its fields ``args``; the events it wrote."""
        given = handled(command, *args)
        meta = make_meta(effective=on, actor="tester", reason=reason)
        _, saved = self.app.execute(lambda uow: given.run(self.app, uow, meta))
        written = self.app.recorder.select_notifications(start=1, limit=1000)
        return [self.app.mapper.to_domain_event(n) for n in written if n.id in saved.positions]

    def names(self, command: str, *args: Any, reason: str | None = None) -> list[str]:
        """The class names of the events a command wrote."""
        return [type(e).__qualname__ for e in self.when(command, *args, reason=reason)]

    def rejects(
        self, error: type[OpmodelError], command: str, *args: Any, reason: str | None = None
    ) -> Any:
        """Run a command that must fail with ``error`` and write nothing; the error."""
        before = self.head()
        with pytest.raises(error) as raised:
            self.when(command, *args, reason=reason)
        assert self.head() == before, "a rejected command wrote events"
        return raised.value

    # --- given ------------------------------------------------------------

    def award(
        self,
        ref: str = ORACLE,
        cluster: str = "Synergy",
        *,
        supplier: str = "Oracle",
        value: str = "710000000.00",
        start: date = DAY,
        term: int = 120,
        allowance: int = 24,
        bundled_with: str | None = None,
    ) -> list[Any]:
        return self.when(
            "award_contract", ref, cluster, "software", supplier, Decimal(value), start, term,
            allowance, bundled_with, None,
        )  # fmt: skip

    def tender(self, ref: str = ORACLE, cluster: str = "Synergy") -> list[Any]:
        return self.when(
            "tender_contract", ref, cluster, "software", Decimal("933650000.00"), 120, 24
        )

    # --- then -------------------------------------------------------------

    def contract(self, ref: str) -> Contract:
        return self.app.repository.get(Contract.create_id(ref))


def names(events: list[Any]) -> list[str]:
    return [type(e).__qualname__ for e in events]


@pytest.fixture
def model() -> Model:
    return Model()


# --- tendering and awarding -----------------------------------------------------------


def test_a_contract_awarded_directly_is_active_with_its_terms(model: Model) -> None:
    events = model.award(value="710000000.00", start=date(2024, 8, 30), term=120, allowance=24)

    assert names(events) == ["Contract.Awarded"]
    assert events[0].value == Decimal("710000000.00")
    assert isinstance(events[0].value, Decimal)
    contract = model.contract(ORACLE)
    assert contract.status == "active"
    assert contract.supplier == "Oracle"
    assert contract.cluster == "Synergy"
    assert contract.extended_months == 0


def test_a_tender_records_the_estimated_value_and_intended_terms(model: Model) -> None:
    events = model.tender()

    assert names(events) == ["Contract.Tendered"]
    contract = model.contract(ORACLE)
    assert contract.status == "tendered"
    assert contract.estimated_value == Decimal("933650000.00")
    assert (contract.term_months, contract.extension_months) == (120, 24)
    assert contract.end is None


def test_a_tendered_contract_is_awarded_under_the_same_reference(model: Model) -> None:
    model.tender()

    events = model.award(supplier="Oracle", value="710000000.00")

    assert names(events) == ["Contract.TenderAwarded"]
    contract = model.contract(ORACLE)
    assert contract.status == "active"
    assert contract.value == Decimal("710000000.00")
    assert contract.supplier == "Oracle"


def test_a_tendered_contract_is_awarded_in_the_cluster_that_tendered_it(model: Model) -> None:
    model.tender(cluster="Synergy")

    error = model.rejects(
        ContractClusterMismatch, "award_contract", ORACLE, "Matrix", "software", "Oracle",
        Decimal("1.00"), DAY, 12, 0, None, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "Synergy" in error.message
    assert model.contract(ORACLE).status == "tendered"


def test_a_contract_is_tendered_once(model: Model) -> None:
    model.tender()

    error = model.rejects(
        ContractAlreadyExists, "tender_contract", ORACLE, "Synergy", "software",
        Decimal("1.00"), None, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert ORACLE in error.message


def test_contract_references_are_unique_ignoring_case(model: Model) -> None:
    model.tender()

    error = model.rejects(
        ContractAlreadyExists, "tender_contract", ORACLE.lower(), "Synergy", "software",
        Decimal("1.00"), None, None,
    )  # fmt: skip

    assert ORACLE in error.message


def test_a_contract_is_awarded_once(model: Model) -> None:
    model.award(supplier="Oracle")

    error = model.rejects(
        ContractAlreadyAwarded, "award_contract", ORACLE, "Synergy", "software", "Capgemini",
        Decimal("1.00"), DAY, 12, 0, None, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert model.contract(ORACLE).supplier == "Oracle"


def test_a_contract_is_awarded_in_a_cluster_that_exists(model: Model) -> None:
    error = model.rejects(
        NotFound, "award_contract", ORACLE, "Nebula", "software", "Oracle",
        Decimal("1.00"), DAY, 12, 0, None, None,
    )  # fmt: skip

    assert error.exit_code == 3
    assert "Nebula" in error.message


def test_an_unknown_contract_is_not_found(model: Model) -> None:
    error = model.rejects(NotFound, "terminate_contract", "NO-SUCH-REF")

    assert error.exit_code == 3
    assert "NO-SUCH-REF" in error.message


# --- bundles ------------------------------------------------------------------------


def test_bundled_contracts_are_linked_both_ways(model: Model) -> None:
    model.award(ORACLE)

    events = model.award(IBM, supplier="IBM", value="144330703", bundled_with=ORACLE)

    assert names(events) == ["Contract.Awarded", "Contract.BundleLinked"]
    assert len({e.meta.command_id for e in events}) == 1
    assert model.contract(IBM).bundled_with == ORACLE
    assert model.contract(ORACLE).bundled_with == IBM


def test_a_tendered_contract_can_be_awarded_bundled_with_another(model: Model) -> None:
    model.award(ORACLE)
    model.tender(IBM)

    events = model.award(IBM, supplier="IBM", bundled_with=ORACLE)

    assert names(events) == ["Contract.TenderAwarded", "Contract.BundleLinked"]
    assert model.contract(IBM).bundled_with == ORACLE
    assert model.contract(ORACLE).bundled_with == IBM


def test_bundled_contracts_share_a_cluster(model: Model) -> None:
    model.award(ORACLE, "Synergy")

    error = model.rejects(
        BundleMismatch, "award_contract", "MAT-WORKDAY", "Matrix", "software", "Workday",
        Decimal("1.00"), DAY, 12, 0, ORACLE, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert "MAT-WORKDAY" in error.message
    assert ORACLE in error.message
    assert model.contract(ORACLE).bundled_with is None


def test_a_contract_already_bundled_cannot_be_bundled_with_a_third(model: Model) -> None:
    model.award(ORACLE)
    model.award(IBM, supplier="IBM", bundled_with=ORACLE)

    error = model.rejects(
        BundleMismatch, "award_contract", "SYN-OTHER", "Synergy", "other", "Other",
        Decimal("1.00"), DAY, 12, 0, ORACLE, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert IBM in error.message
    assert model.contract(ORACLE).bundled_with == IBM


def test_a_contract_cannot_be_bundled_with_an_unknown_one(model: Model) -> None:
    error = model.rejects(
        NotFound, "award_contract", IBM, "Synergy", "software", "IBM",
        Decimal("1.00"), DAY, 12, 0, "SYN-GHOST", None,
    )  # fmt: skip

    assert error.exit_code == 3
    assert "SYN-GHOST" in error.message


def test_a_contract_cannot_be_bundled_with_itself(model: Model) -> None:
    model.tender(IBM)

    error = model.rejects(
        InvalidInput, "award_contract", IBM, "Synergy", "software", "IBM",
        Decimal("1.00"), DAY, 12, 0, IBM, None,
    )  # fmt: skip

    assert error.exit_code == 2
    assert IBM in error.message


def test_awarding_a_tendered_contract_keeps_the_bundle_it_joined_while_tendered(
    model: Model,
) -> None:
    model.tender(ORACLE)
    model.award(IBM, supplier="IBM", bundled_with=ORACLE)
    assert model.contract(ORACLE).bundled_with == IBM

    model.award(ORACLE)  # the award does not repeat --bundled-with

    assert model.contract(ORACLE).bundled_with == IBM
    assert model.contract(IBM).bundled_with == ORACLE


def test_a_tendered_contract_already_bundled_cannot_be_awarded_bundled_with_a_third(
    model: Model,
) -> None:
    model.tender(ORACLE)
    model.award(IBM, supplier="IBM", bundled_with=ORACLE)
    model.award("SYN-OTHER", supplier="Other")

    error = model.rejects(
        BundleMismatch, "award_contract", ORACLE, "Synergy", "software", "Oracle",
        Decimal("1.00"), DAY, 12, 0, "SYN-OTHER", None,
    )  # fmt: skip

    assert ORACLE in error.message
    assert IBM in error.message


# --- extending --------------------------------------------------------------------------


def test_an_extension_within_the_allowance_moves_the_end(model: Model) -> None:
    model.award(start=date(2024, 8, 30), term=120, allowance=24)

    assert model.names("extend_contract", ORACLE, 12) == ["Contract.Extended"]
    contract = model.contract(ORACLE)
    assert contract.extended_months == 12
    assert contract.end == date(2035, 8, 30)


def test_the_whole_allowance_can_be_exercised(model: Model) -> None:
    model.award(allowance=24)
    model.when("extend_contract", ORACLE, 12)

    assert model.names("extend_contract", ORACLE, 12) == ["Contract.Extended"]
    assert model.contract(ORACLE).end == date(2036, 8, 30)


def test_extensions_never_exceed_the_allowance(model: Model) -> None:
    model.award(allowance=24)
    model.when("extend_contract", ORACLE, 24)

    error = model.rejects(ExtensionExceedsAllowance, "extend_contract", ORACLE, 1)

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "has 0 months of extension left (allowance 24, used 24)" in error.message
    assert model.contract(ORACLE).extended_months == 24


def test_an_extension_longer_than_what_is_left_is_rejected(model: Model) -> None:
    model.award(allowance=24)
    model.when("extend_contract", ORACLE, 6)

    error = model.rejects(ExtensionExceedsAllowance, "extend_contract", ORACLE, 19)

    assert "has 18 months of extension left (allowance 24, used 6)" in error.message
    assert "19" in error.message


def test_a_contract_without_an_allowance_cannot_be_extended(model: Model) -> None:
    model.award(allowance=0)

    error = model.rejects(ExtensionExceedsAllowance, "extend_contract", ORACLE, 1)

    assert "(allowance 0, used 0)" in error.message


def test_a_tendered_contract_cannot_be_extended(model: Model) -> None:
    model.tender()

    error = model.rejects(ContractNotAwarded, "extend_contract", ORACLE, 6)

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "award" in error.message


def test_a_terminated_contract_cannot_be_extended(model: Model) -> None:
    model.award()
    model.when("terminate_contract", ORACLE)

    error = model.rejects(ContractTerminated, "extend_contract", ORACLE, 6)

    assert error.exit_code == 4
    assert ORACLE in error.message


# --- varying --------------------------------------------------------------------------


def test_a_variation_records_the_old_and_new_value_and_its_reason(model: Model) -> None:
    model.award(value="710000000.00")

    events = model.when(
        "vary_contract", ORACLE, Decimal("750000000.00"), reason="scope change agreed"
    )

    assert names(events) == ["Contract.Varied"]
    assert events[0].old_value == Decimal("710000000.00")
    assert events[0].value == Decimal("750000000.00")
    assert events[0].meta.reason == "scope change agreed"
    assert model.contract(ORACLE).value == Decimal("750000000.00")


def test_a_variation_needs_a_reason(model: Model) -> None:
    model.award()

    error = model.rejects(InvalidInput, "vary_contract", ORACLE, Decimal("1.00"))

    assert error.exit_code == 2
    assert ORACLE in error.message
    assert "--reason" in error.message
    assert model.contract(ORACLE).value == Decimal("710000000.00")


def test_a_tendered_contract_cannot_be_varied(model: Model) -> None:
    model.tender()

    error = model.rejects(
        ContractNotAwarded, "vary_contract", ORACLE, Decimal("1.00"), reason="because"
    )

    assert ORACLE in error.message


def test_a_terminated_contract_cannot_be_varied(model: Model) -> None:
    model.award()
    model.when("terminate_contract", ORACLE)

    error = model.rejects(
        ContractTerminated, "vary_contract", ORACLE, Decimal("1.00"), reason="because"
    )

    assert ORACLE in error.message


# --- terminating ------------------------------------------------------------------------


def test_an_awarded_contract_can_be_terminated(model: Model) -> None:
    model.award()

    assert model.names("terminate_contract", ORACLE) == ["Contract.Terminated"]
    assert model.contract(ORACLE).status == "terminated"


def test_a_contract_is_terminated_once(model: Model) -> None:
    model.award()
    model.when("terminate_contract", ORACLE)

    error = model.rejects(ContractTerminated, "terminate_contract", ORACLE)

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "terminated" in error.message


def test_a_tendered_contract_cannot_be_terminated(model: Model) -> None:
    model.tender()

    error = model.rejects(ContractNotAwarded, "terminate_contract", ORACLE)

    assert ORACLE in error.message


# --- correcting ------------------------------------------------------------------------


def test_a_correction_records_only_the_facts_that_differ(model: Model) -> None:
    model.award(value="710000000.00", term=120)

    events = model.when(
        "correct_contract", ORACLE, {"term_months": 120, "value": Decimal("712500000.00")}
    )

    assert names(events) == ["Contract.Corrected"]
    assert events[0].changes == {"value": Decimal("712500000.00")}
    assert model.contract(ORACLE).value == Decimal("712500000.00")
    assert model.contract(ORACLE).term_months == 120


def test_a_corrected_start_and_term_move_the_end(model: Model) -> None:
    model.award(start=date(2024, 8, 30), term=120)

    events = model.when("correct_contract", ORACLE, {"start": date(2024, 9, 1), "term_months": 60})

    assert events[0].changes == {"start": date(2024, 9, 1), "term_months": 60}
    assert model.contract(ORACLE).end == date(2029, 9, 1)


def test_a_correction_that_changes_nothing_is_rejected(model: Model) -> None:
    model.award(supplier="Oracle", term=120)

    error = model.rejects(
        NothingToCorrect, "correct_contract", ORACLE, {"supplier": "Oracle", "term_months": 120}
    )

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "nothing to correct" in error.message


def test_a_correction_must_name_a_fact(model: Model) -> None:
    model.award()

    error = model.rejects(InvalidInput, "correct_contract", ORACLE, {})

    assert error.exit_code == 2
    assert ORACLE in error.message


def test_the_allowance_cannot_be_corrected_below_the_months_already_exercised(
    model: Model,
) -> None:
    model.award(allowance=24)
    model.when("extend_contract", ORACLE, 12)

    error = model.rejects(
        ExtensionExceedsAllowance, "correct_contract", ORACLE, {"extension_months": 6}
    )

    assert error.exit_code == 4
    assert ORACLE in error.message
    assert "12" in error.message
    assert model.contract(ORACLE).extension_months == 24


def test_the_allowance_can_be_corrected_down_to_the_months_already_exercised(
    model: Model,
) -> None:
    model.award(allowance=24)
    model.when("extend_contract", ORACLE, 12)

    assert model.names("correct_contract", ORACLE, {"extension_months": 12}) == [
        "Contract.Corrected"
    ]
    error = model.rejects(ExtensionExceedsAllowance, "extend_contract", ORACLE, 1)
    assert "(allowance 12, used 12)" in error.message


def test_correcting_a_tendered_contracts_value_corrects_its_estimate(model: Model) -> None:
    model.tender()

    model.when("correct_contract", ORACLE, {"value": Decimal("950000000.00")})

    assert model.contract(ORACLE).estimated_value == Decimal("950000000.00")
    assert model.contract(ORACLE).value is None


def test_an_unknown_contract_cannot_be_corrected(model: Model) -> None:
    error = model.rejects(NotFound, "correct_contract", "SYN-GHOST", {"term_months": 12})

    assert "SYN-GHOST" in error.message


# --- derived dates ----------------------------------------------------------------------


def test_the_end_is_start_plus_term_plus_extensions_exercised(model: Model) -> None:
    model.award(start=date(2024, 8, 30), term=120, allowance=24)

    assert model.contract(ORACLE).end == date(2034, 8, 30)


def test_the_end_of_a_term_clamps_to_the_last_day_of_a_shorter_month(model: Model) -> None:
    model.award(start=date(2024, 1, 31), term=1, allowance=0)

    assert model.contract(ORACLE).end == date(2024, 2, 29)
