"""A cluster's business case, funding, benefits realised and assurance ratings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from opmodel.application import OperatingModel
from opmodel.domain import Cluster
from opmodel.errors import BusinessCaseOutOfOrder, NotFound, OpmodelError
from opmodel.service import make_meta
from tests.handlers import command as handled

DAY = date(2022, 11, 30)


class Model:
    """The operating model on an in-memory store with cluster Synergy formed."""

    def __init__(self) -> None:
        self.app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.when("form_cluster", "Synergy", 5, None)

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def when(self, command: str, *args: Any) -> list[Any]:
        """Run the command ``app.<command>`` takes, its fields ``args``; the events it wrote."""
        given = handled(command, *args)
        meta = make_meta(effective=DAY, actor="tester")
        _, saved = self.app.execute(lambda uow: given.run(self.app, uow, meta))
        written = self.app.recorder.select_notifications(start=1, limit=1000)
        return [self.app.mapper.to_domain_event(n) for n in written if n.id in saved.positions]

    def rejects(self, error: type[OpmodelError], command: str, *args: Any) -> Any:
        """Run a command that must fail with ``error`` and write nothing; the error."""
        before = self.head()
        with pytest.raises(error) as raised:
            self.when(command, *args)
        assert self.head() == before, "a rejected command wrote events"
        return raised.value

    def case(self, stage: str, status: str, cluster: str = "Synergy") -> list[Any]:
        return self.when("record_business_case", cluster, stage, status, None, None, None)

    def stages(self) -> dict[str, str]:
        cluster: Cluster = self.app.repository.get(Cluster.create_id("Synergy"))
        return {stage: case.status for stage, case in cluster.business_cases.items()}


def names(events: list[Any]) -> list[str]:
    return [type(e).__qualname__ for e in events]


@pytest.fixture
def model() -> Model:
    return Model()


# --- business case ------------------------------------------------------------------


def test_a_business_case_stage_is_recorded_with_its_figures(model: Model) -> None:
    events = model.when(
        "record_business_case", "Synergy", "SOC", "submitted",
        Decimal("900000000.00"), Decimal("1800000000.00"), 15,
    )  # fmt: skip

    assert names(events) == ["Cluster.BusinessCaseRecorded"]
    recorded = events[0]
    assert (recorded.stage, recorded.status) == ("SOC", "submitted")
    assert recorded.cost == Decimal("900000000.00")
    assert recorded.benefits == Decimal("1800000000.00")
    assert recorded.period_years == 15
    assert model.stages() == {"SOC": "submitted"}


def test_business_case_stages_go_soc_then_obc_then_fbc(model: Model) -> None:
    model.case("SOC", "submitted")
    model.case("SOC", "approved")
    model.case("OBC", "submitted")
    model.case("OBC", "approved")

    assert names(model.case("FBC", "submitted")) == ["Cluster.BusinessCaseRecorded"]
    assert model.stages() == {"SOC": "approved", "OBC": "approved", "FBC": "submitted"}


@pytest.mark.parametrize(("later", "earlier"), [("OBC", "SOC"), ("FBC", "SOC"), ("FBC", "OBC")])
def test_no_earlier_stage_is_recorded_after_a_later_one(
    model: Model, later: str, earlier: str
) -> None:
    model.case(later, "submitted")

    error = model.rejects(
        BusinessCaseOutOfOrder, "record_business_case", "Synergy", earlier, "submitted",
        None, None, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert "Synergy" in error.message
    assert later in error.message
    assert earlier in error.message
    assert earlier not in model.stages()


def test_an_approved_stage_is_final(model: Model) -> None:
    model.case("SOC", "approved")

    error = model.rejects(
        BusinessCaseOutOfOrder, "record_business_case", "Synergy", "SOC", "rejected",
        None, None, None,
    )  # fmt: skip

    assert error.exit_code == 4
    assert "SOC" in error.message
    assert "approved" in error.message
    assert model.stages() == {"SOC": "approved"}


def test_a_rejected_stage_can_be_submitted_again(model: Model) -> None:
    model.case("OBC", "submitted")
    model.case("OBC", "rejected")

    assert names(model.case("OBC", "submitted")) == ["Cluster.BusinessCaseRecorded"]
    assert model.stages() == {"OBC": "submitted"}


def test_a_business_case_is_recorded_for_a_cluster_that_exists(model: Model) -> None:
    error = model.rejects(
        NotFound, "record_business_case", "Nebula", "SOC", "submitted", None, None, None
    )

    assert error.exit_code == 3
    assert "Nebula" in error.message


# --- funding, benefits, assurance ---------------------------------------------------


def test_a_funding_envelope_is_recorded_exactly(model: Model) -> None:
    events = model.when("grant_funding", "Synergy", Decimal("300000000.00"))

    assert names(events) == ["Cluster.FundingGranted"]
    assert events[0].amount == Decimal("300000000.00")
    assert isinstance(events[0].amount, Decimal)


def test_benefits_realised_are_recorded_with_kind_and_period(model: Model) -> None:
    events = model.when(
        "realise_benefit", "Synergy", Decimal("500000000.00"), "cashable", "2021-2036"
    )

    assert names(events) == ["Cluster.BenefitRealised"]
    assert events[0].amount == Decimal("500000000.00")
    assert (events[0].kind, events[0].period) == ("cashable", "2021-2036")


def test_an_assurance_rating_is_recorded_with_its_assessor(model: Model) -> None:
    events = model.when("rate_assurance", "Synergy", "amber-red", "IPA")

    assert names(events) == ["Cluster.AssuranceRated"]
    assert (events[0].rating, events[0].assessor) == ("amber-red", "IPA")


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("grant_funding", (Decimal("1.00"),)),
        ("realise_benefit", (Decimal("1.00"), "non-cashable", None)),
        ("rate_assurance", ("green", None)),
    ],
)
def test_governance_is_recorded_only_for_a_cluster_that_exists(
    model: Model, command: str, args: tuple[Any, ...]
) -> None:
    error = model.rejects(NotFound, command, "Nebula", *args)

    assert error.exit_code == 3
    assert "Nebula" in error.message
