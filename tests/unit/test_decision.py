"""Decisions: numbered in order, about things that exist, accepted or rejected, superseded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from opmodel.application import OperatingModel
from opmodel.domain import Decision
from opmodel.errors import (
    DecisionNotAccepted,
    DecisionNotProposed,
    InvalidInput,
    NotFound,
    OpmodelError,
)
from opmodel.service import make_meta
from tests.handlers import command as handled

DAY = date(2023, 5, 26)


class Model:
    """The operating model on an in-memory store, driven command by command."""

    def __init__(self) -> None:
        self.app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        self.result: Any = None

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def when(self, command: str, *args: Any) -> list[Any]:
        """Run the command ``app.<command>`` takes, its fields ``args``; the events it wrote."""
        given = handled(command, *args)
        meta = make_meta(effective=DAY, actor="tester")
        self.result, saved = self.app.execute(lambda uow: given.run(self.app, uow, meta))
        written = self.app.recorder.select_notifications(start=1, limit=1000)
        return [self.app.mapper.to_domain_event(n) for n in written if n.id in saved.positions]

    def names(self, command: str, *args: Any) -> list[str]:
        """The class names of the events a command wrote."""
        return [type(e).__qualname__ for e in self.when(command, *args)]

    def rejects(self, error: type[OpmodelError], command: str, *args: Any) -> Any:
        """Run a command that must fail with ``error`` and write nothing; the error."""
        before = self.head()
        with pytest.raises(error) as raised:
            self.when(command, *args)
        assert self.head() == before, "a rejected command wrote events"
        return raised.value

    # --- given ------------------------------------------------------------

    def propose(self, title: str = "Adopt Oracle Fusion", concerns: tuple[str, ...] = ()) -> str:
        self.when("propose_decision", title, "Context.", "We will.", None, list(concerns))
        return str(self.result)

    def accepted(self, title: str = "Adopt Oracle Fusion") -> str:
        key = self.propose(title)
        self.when("accept_decision", key)
        return key

    def given_synergy(self) -> None:
        self.when("form_cluster", "Synergy", 5, None)
        self.when("register_department", "DWP", "DWP", "ministerial", None, None)
        self.when("plan_phase", "Synergy", 1, "Mobilise", None, None)
        self.when(
            "award_contract", "SYN-ORACLE-2024", "Synergy", "software", "Oracle",
            Decimal("710000000.00"), date(2024, 8, 30), 120, 24, None, None,
        )  # fmt: skip

    # --- then -------------------------------------------------------------

    def decision(self, number: int) -> Decision:
        return self.app.repository.get(Decision.create_id(number))


@pytest.fixture
def model() -> Model:
    return Model()


# --- proposing ------------------------------------------------------------------------


def test_the_first_decision_is_dec_0001_and_starts_the_numbering(model: Model) -> None:
    events = model.when("propose_decision", "Adopt Oracle Fusion", "Why.", "What.", "So what.", [])

    assert model.result == "DEC-0001"
    assert [type(e).__qualname__ for e in events] == [
        "DecisionNumbering.Started",
        "DecisionNumbering.NumberIssued",
        "Decision.Proposed",
    ]
    proposed = events[-1]
    assert (proposed.number, proposed.title) == (1, "Adopt Oracle Fusion")
    assert (proposed.context, proposed.decision, proposed.consequences) == (
        "Why.",
        "What.",
        "So what.",
    )
    assert model.decision(1).status == "proposed"


def test_decisions_are_numbered_in_order(model: Model) -> None:
    first = model.propose("First")

    events = model.when("propose_decision", "Second", "Why.", "What.", None, [])

    assert first == "DEC-0001"
    assert model.result == "DEC-0002"
    assert [type(e).__qualname__ for e in events] == [
        "DecisionNumbering.NumberIssued",
        "Decision.Proposed",
    ]
    assert model.propose("Third") == "DEC-0003"


def test_a_decision_concerns_clusters_departments_phases_and_contracts(model: Model) -> None:
    model.given_synergy()

    events = model.when(
        "propose_decision", "Bundle the ERP", "Why.", "What.", None,
        ["cluster:synergy", "department:dwp", "phase:Synergy:1", "contract:SYN-ORACLE-2024"],
    )  # fmt: skip

    concerns = events[-1].concerns
    assert [(c["kind"], c["key"]) for c in concerns] == [
        ("cluster", "Synergy"),
        ("department", "DWP"),
        ("phase", "Synergy:1"),
        ("contract", "SYN-ORACLE-2024"),
    ]


def test_a_concern_named_twice_is_recorded_once(model: Model) -> None:
    model.given_synergy()

    events = model.when(
        "propose_decision", "T", "Why.", "What.", None, ["cluster:Synergy", "cluster:SYNERGY"]
    )

    assert [c["key"] for c in events[-1].concerns] == ["Synergy"]


@pytest.mark.parametrize(
    ("concern", "named"),
    [
        ("cluster:Nebula", "Nebula"),
        ("department:XYZ", "XYZ"),
        ("contract:SYN-GHOST", "SYN-GHOST"),
        ("phase:Synergy:2", "Synergy:2"),
        ("phase:Nebula:1", "Nebula"),
    ],
)
def test_a_decision_concerns_only_things_that_exist(model: Model, concern: str, named: str) -> None:
    model.given_synergy()

    error = model.rejects(NotFound, "propose_decision", "T", "Why.", "What.", None, [concern])

    assert error.exit_code == 3
    assert named in error.message


@pytest.mark.parametrize("concern", ["team:Synergy", "cluster:", "Synergy", "phase:Synergy:one"])
def test_a_malformed_concern_is_invalid_input(model: Model, concern: str) -> None:
    model.given_synergy()

    error = model.rejects(InvalidInput, "propose_decision", "T", "Why.", "What.", None, [concern])

    assert error.exit_code == 2
    assert concern in error.message
    assert "cluster:NAME" in error.message


def test_a_rejected_proposal_does_not_use_up_a_number(model: Model) -> None:
    model.rejects(NotFound, "propose_decision", "T", "Why.", "What.", None, ["cluster:Nebula"])

    assert model.propose() == "DEC-0001"


# --- accepting and rejecting ---------------------------------------------------------------


def test_a_proposed_decision_can_be_accepted(model: Model) -> None:
    key = model.propose()

    assert model.names("accept_decision", key) == ["Decision.Accepted"]
    assert model.decision(1).status == "accepted"


def test_a_proposed_decision_can_be_rejected(model: Model) -> None:
    key = model.propose()

    assert model.names("reject_decision", key) == ["Decision.Rejected"]
    assert model.decision(1).status == "rejected"


def test_a_decision_id_may_be_written_in_lower_case_without_padding(model: Model) -> None:
    model.propose()

    assert model.names("accept_decision", "dec-1") == ["Decision.Accepted"]


def test_an_accepted_decision_cannot_be_accepted_again(model: Model) -> None:
    key = model.accepted()

    error = model.rejects(DecisionNotProposed, "accept_decision", key)

    assert error.exit_code == 4
    assert "DEC-0001" in error.message
    assert "accepted" in error.message


def test_an_accepted_decision_cannot_be_rejected(model: Model) -> None:
    key = model.accepted()

    error = model.rejects(DecisionNotProposed, "reject_decision", key)

    assert "DEC-0001" in error.message
    assert model.decision(1).status == "accepted"


def test_a_rejected_decision_cannot_be_accepted(model: Model) -> None:
    key = model.propose()
    model.when("reject_decision", key)

    error = model.rejects(DecisionNotProposed, "accept_decision", key)

    assert "DEC-0001" in error.message
    assert "rejected" in error.message


def test_an_unknown_decision_is_not_found(model: Model) -> None:
    error = model.rejects(NotFound, "accept_decision", "DEC-0009")

    assert error.exit_code == 3
    assert "DEC-0009" in error.message


@pytest.mark.parametrize("key", ["DEC-", "0001", "DEC-ONE", "ADR-0001"])
def test_a_malformed_decision_id_is_invalid_input(model: Model, key: str) -> None:
    error = model.rejects(InvalidInput, "accept_decision", key)

    assert error.exit_code == 2
    assert key in error.message


# --- superseding ------------------------------------------------------------------------


def test_an_accepted_decision_is_superseded_by_another_linking_both_ways(model: Model) -> None:
    old = model.accepted("Adopt Oracle Fusion")
    new = model.accepted("Adopt Oracle Fusion and a bundled integrator")

    events = model.when("supersede_decision", old, new)

    assert [type(e).__qualname__ for e in events] == ["Decision.Superseded", "Decision.Supersedes"]
    assert len({e.meta.command_id for e in events}) == 1
    assert model.decision(1).status == "superseded"
    assert model.decision(1).superseded_by == "DEC-0002"
    assert model.decision(2).supersedes == ["DEC-0001"]
    assert model.decision(2).status == "accepted"


def test_only_an_accepted_decision_can_be_superseded(model: Model) -> None:
    old = model.propose("Proposed only")
    new = model.accepted("Accepted")

    error = model.rejects(DecisionNotAccepted, "supersede_decision", old, new)

    assert error.exit_code == 4
    assert old in error.message
    assert model.decision(1).superseded_by is None


def test_only_an_accepted_decision_can_supersede(model: Model) -> None:
    old = model.accepted("Accepted")
    new = model.propose("Proposed only")

    error = model.rejects(DecisionNotAccepted, "supersede_decision", old, new)

    assert error.exit_code == 4
    assert new in error.message
    assert model.decision(1).status == "accepted"


def test_a_superseded_decision_cannot_be_superseded_again(model: Model) -> None:
    old = model.accepted("First")
    model.when("supersede_decision", old, model.accepted("Second"))
    third = model.accepted("Third")

    error = model.rejects(DecisionNotAccepted, "supersede_decision", old, third)

    assert old in error.message
    assert "superseded" in error.message
    assert model.decision(1).superseded_by == "DEC-0002"


def test_a_decision_cannot_supersede_itself(model: Model) -> None:
    key = model.accepted()

    error = model.rejects(InvalidInput, "supersede_decision", key, key)

    assert error.exit_code == 2
    assert "DEC-0001" in error.message


def test_a_decision_cannot_be_superseded_by_an_unknown_one(model: Model) -> None:
    key = model.accepted()

    error = model.rejects(NotFound, "supersede_decision", key, "DEC-0042")

    assert "DEC-0042" in error.message
