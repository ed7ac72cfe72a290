"""Decisions as a state machine: propose, accept, reject, supersede.

The model is a plain dict of records written from SPEC §2:

- the store numbers decisions ``DEC-0001``, ``DEC-0002``, … in order; a proposal
  that is rejected (say, it concerns something that does not exist) uses no
  number, and no number is used twice;
- a proposal names the things it concerns (``cluster:NAME``, ``department:CODE``,
  ``phase:CLUSTER:N``, ``contract:REF``), each of which must exist;
- a decision is accepted or rejected only while proposed;
- an accepted decision is superseded by another accepted one, and the two are
  linked both ways.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from opmodel.application import UnitOfWork
from opmodel.domain import (
    Cluster,
    Contract,
    Decision,
    DecisionNumbering,
    Department,
    DepartmentCode,
)
from opmodel.errors import (
    DecisionNotAccepted,
    DecisionNotProposed,
    InvalidInput,
    NotFound,
    OpmodelError,
    PhaseOutOfRange,
)
from tests.handlers import command
from tests.property.harness import MACHINE_SETTINGS, NONE, Harness
from tests.strategies import decision_numbers, display_names, known_or

Rejections = set[type[OpmodelError]]
PROPOSED, ACCEPTED, REJECTED, SUPERSEDED = "proposed", "accepted", "rejected", "superseded"

#: What the set-up makes for proposals to concern.
CLUSTER, DEPARTMENT, CONTRACT = "Synergy", "DWP", "SYN-ORACLE-2024"

#: Concern references: each with what it names (its key) or the errors that may refuse it.
CONCERNS: dict[str, str | frozenset[type[OpmodelError]]] = {
    "cluster:Synergy": "Synergy",
    "cluster:synergy": "Synergy",
    "department:DWP": "DWP",
    "department:dwp": "DWP",
    "phase:Synergy:1": "Synergy:1",
    f"contract:{CONTRACT}": CONTRACT,
    "cluster:Nowhere": frozenset({NotFound}),
    "department:XYZ": frozenset({NotFound}),
    "contract:NO-SUCH-REF": frozenset({NotFound}),
    "phase:Nowhere:1": frozenset({NotFound}),
    "phase:Synergy:9": frozenset({NotFound, PhaseOutOfRange}),
    "budget:42": frozenset({InvalidInput}),
    "cluster:": frozenset({InvalidInput}),
}
concern_refs = st.sampled_from(sorted(CONCERNS))


@dataclass
class ModelDecision:
    title: str
    concerns: list[str]
    status: str = PROPOSED
    superseded_by: str | None = None
    supersedes: set[str] = field(default_factory=set)


def key(number: int) -> str:
    """The id a person writes for decision ``number``."""
    return f"DEC-{number:04d}"


class DecisionMachine(Harness, RuleBasedStateMachine):
    """Decision commands against a model of each decision's status and links."""

    def __init__(self) -> None:
        super().__init__()
        self.open_app()
        self.decisions: dict[int, ModelDecision] = {}
        self.base: list[tuple[type[Aggregate], UUID]] = []

    def known_aggregates(self) -> Iterable[tuple[type[Aggregate], UUID]]:
        yield from self.base
        if self.decisions:
            yield DecisionNumbering, DecisionNumbering.create_id()
        for number in self.decisions:
            yield Decision, Decision.create_id(number)

    def some_number(self, *statuses: str, besides: int | None = None) -> st.SearchStrategy[int]:
        """Mostly a decision in one of ``statuses`` (if any; other than ``besides``, if
        there are others), else any number near them."""
        wanted = [n for n, d in self.decisions.items() if d.status in statuses]
        wanted = [n for n in wanted if n != besides] or wanted
        return known_or(wanted or self.decisions, decision_numbers)

    # --- setup -------------------------------------------------------------

    @initialize()
    def set_up(self) -> None:
        """A cluster with its first phase planned, a department, a tendered contract; three
        decisions proposed, two of them accepted."""
        meta = self.meta()

        def make(uow: UnitOfWork) -> None:
            app = self.app
            command("form_cluster", CLUSTER, 3, None).run(app, uow, meta)
            command("plan_phase", CLUSTER, 1, "Mobilise", date(2023, 1, 1), None).run(
                app, uow, meta
            )
            command(
                "register_department", DEPARTMENT, "Work and Pensions", "ministerial", None, None
            ).run(app, uow, meta)
            command(
                "tender_contract", CONTRACT, CLUSTER, "software", Decimal("710000000.00"), 120, 24
            ).run(app, uow, meta)

        self.attempt(make, NONE)
        index = self.stored(DepartmentCode.create_id(DEPARTMENT))
        self.base = [
            (Cluster, Cluster.create_id(CLUSTER)),
            (DepartmentCode, DepartmentCode.create_id(DEPARTMENT)),
            (Department, index.department_id),
            (Contract, Contract.create_id(CONTRACT)),
        ]
        for number in (1, 2, 3):
            self.propose_decision(f"Decision {number}", [f"cluster:{CLUSTER}"])
        for number in (1, 2):
            self.decide(number, "accept")

    # --- rules -------------------------------------------------------------

    @rule(title=display_names, concerns=st.lists(concern_refs, max_size=3))
    def propose(self, title: str, concerns: list[str]) -> None:
        self.propose_decision(title, concerns)

    def propose_decision(self, title: str, concerns: list[str]) -> None:
        rejections: Rejections = set()
        expected: list[str] = []
        for reference in concerns:
            named = CONCERNS[reference]
            if isinstance(named, str):
                if named not in expected:
                    expected.append(named)
            else:
                rejections |= named
        number = len(self.decisions) + 1
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command(
                "propose_decision", title, "Context.", "Decision.", None, concerns
            ).run(self.app, uow, meta),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert outcome.result == key(number), "decisions are numbered in order"
            self.decisions[number] = ModelDecision(title=title, concerns=expected)

    @rule(data=st.data(), verb=st.sampled_from(["accept", "accept", "reject"]))
    def accept_or_reject(self, data: st.DataObject, verb: str) -> None:
        self.decide(data.draw(self.some_number(PROPOSED), label="decision"), verb)

    def decide(self, number: int, verb: str) -> None:
        found = self.decisions.get(number)
        rejections: Rejections = set()
        if found is None:
            rejections.add(NotFound)
        elif found.status != PROPOSED:
            rejections.add(DecisionNotProposed)
        meta = self.meta()
        act = command(f"{verb}_decision", key(number))
        outcome = self.attempt(lambda uow: act.run(self.app, uow, meta), frozenset(rejections))
        if outcome.accepted:
            assert found is not None
            found.status = ACCEPTED if verb == "accept" else REJECTED

    @rule(data=st.data())
    def supersede(self, data: st.DataObject) -> None:
        old_number = data.draw(self.some_number(ACCEPTED), label="old")
        new_number = data.draw(self.some_number(ACCEPTED, besides=old_number), label="by")
        old, new = self.decisions.get(old_number), self.decisions.get(new_number)
        rejections: Rejections = set()
        if old is None or new is None:
            rejections.add(NotFound)
        elif old_number == new_number:
            rejections |= {InvalidInput, DecisionNotAccepted}
        elif old.status != ACCEPTED or new.status != ACCEPTED:
            rejections.add(DecisionNotAccepted)
        meta = self.meta()
        outcome = self.attempt(
            lambda uow: command("supersede_decision", key(old_number), key(new_number)).run(
                self.app, uow, meta
            ),
            frozenset(rejections),
        )
        if outcome.accepted:
            assert old is not None
            assert new is not None
            old.status = SUPERSEDED
            old.superseded_by = key(new_number)
            new.supersedes.add(key(old_number))

    # --- invariants ----------------------------------------------------------

    @invariant()
    def numbering_is_in_order(self) -> None:
        issued = len(self.decisions)
        numbering = self.stored(DecisionNumbering.create_id())
        assert (numbering.last if numbering else 0) == issued
        assert sorted(self.decisions) == list(range(1, issued + 1))
        assert self.stored(Decision.create_id(issued + 1)) is None, "a number was skipped"

    @invariant()
    def decisions_match_the_model(self) -> None:
        for number, expected in self.decisions.items():
            stored = self.stored(Decision.create_id(number))
            assert stored is not None
            assert stored.key == key(number)
            assert stored.number == number
            assert stored.title == expected.title
            assert stored.status == expected.status, f"{key(number)}'s status"
            assert stored.superseded_by == expected.superseded_by
            assert _as_set(stored.supersedes) == expected.supersedes, (
                f"{key(number)} supersedes {stored.supersedes!r}, "
                f"the model says {sorted(expected.supersedes)}"
            )
            first = next(iter(self.app.repository.event_store.get(stored.id)))
            assert [c["key"] for c in first.concerns] == expected.concerns

    @invariant()
    def supersession_links_both_ways_in_the_store(self) -> None:
        """Read from the store alone: superseded by X means X supersedes it, and the reverse."""
        for number in self.decisions:
            stored = self.stored(Decision.create_id(number))
            assert (stored.status == SUPERSEDED) == (stored.superseded_by is not None)
            if stored.superseded_by is not None:
                by = self.stored(Decision.create_id(int(stored.superseded_by[4:])))
                assert by.status in (ACCEPTED, SUPERSEDED)
                assert stored.key in _as_set(by.supersedes), (
                    f"{stored.key} is superseded by {by.key}, "
                    f"but {by.key} supersedes only {by.supersedes!r}"
                )
            for old_key in _as_set(stored.supersedes):
                old = self.stored(Decision.create_id(int(old_key[4:])))
                assert old.superseded_by == stored.key


def _as_set(links: object) -> set[str]:
    """``supersedes`` as a set, however the aggregate holds it (one id, or several)."""
    if links is None:
        return set()
    if isinstance(links, str):
        return {links}
    assert isinstance(links, Iterable)
    return set(links)


DecisionMachine.TestCase.settings = MACHINE_SETTINGS
TestDecisions = DecisionMachine.TestCase
