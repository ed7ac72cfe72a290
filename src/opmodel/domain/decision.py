"""Architecture decisions: proposed, accepted or rejected, superseded; and their numbering."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.values import Meta
from opmodel.errors import DecisionNotAccepted, DecisionNotProposed, InvalidInput

PROPOSED = "proposed"
ACCEPTED = "accepted"
REJECTED = "rejected"
SUPERSEDED = "superseded"


def decision_id(number: int) -> str:
    """``DEC-0001`` for 1."""
    return f"DEC-{number:04d}"


class Decision(Entity):
    """A recorded decision about the operating model (an ADR for the programme)."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Proposed(Event, Entity.Created):
        class_version = 1
        number: int
        title: str
        context: str
        decision: str
        consequences: str | None
        concerns: list[dict[str, str]]

    class Accepted(Event):
        class_version = 1

    class Rejected(Event):
        class_version = 1

    class Superseded(Event):
        class_version = 1
        by: str

    class Supersedes(Event):
        class_version = 1
        supersedes: str

    @staticmethod
    def create_id(number: int) -> UUID:
        """Decisions are found by their number."""
        return natural_id("decision", decision_id(number))

    @event(Proposed)
    def __init__(
        self,
        number: int,
        title: str,
        context: str,
        decision: str,
        consequences: str | None,
        concerns: list[dict[str, str]],
        meta: Meta,
    ) -> None:
        self.number = number
        self.title = title
        self.status = PROPOSED
        self.superseded_by: str | None = None
        self.supersedes: list[str] = []

    @property
    def key(self) -> str:
        """The decision's id as people write it (``DEC-0007``)."""
        return decision_id(self.number)

    def check_proposed(self, verb: str) -> None:
        """Rule: a decision is accepted or rejected only while proposed."""
        if self.status != PROPOSED:
            raise DecisionNotProposed(
                f"decision {self.key} is {self.status}; only a proposed decision can be {verb}",
                decision=self.key,
            )

    def check_accepted(self, role: str) -> None:
        """Rule: supersession links two accepted decisions."""
        if self.status != ACCEPTED:
            raise DecisionNotAccepted(
                f"decision {self.key} is {self.status}; {role} must be accepted",
                decision=self.key,
            )

    def accept(self, meta: Meta) -> None:
        """Accept a proposed decision."""
        self.check_proposed("accepted")
        self._accepted(meta=meta)

    @event(Accepted)
    def _accepted(self, meta: Meta) -> None:
        self.status = ACCEPTED

    def reject(self, meta: Meta) -> None:
        """Reject a proposed decision."""
        self.check_proposed("rejected")
        self._rejected(meta=meta)

    @event(Rejected)
    def _rejected(self, meta: Meta) -> None:
        self.status = REJECTED

    def check_not_itself(self, other: Decision) -> None:
        """Rule: a decision cannot supersede itself."""
        if other.id == self.id:
            raise InvalidInput(f"decision {self.key} cannot supersede itself")

    def superseded(self, by: Decision, meta: Meta) -> None:
        """This accepted decision is replaced by another accepted one, ``by``."""
        self.check_not_itself(by)
        self.check_accepted("the decision superseded")
        by.check_accepted("the superseding decision")
        self._superseded(by=by.key, meta=meta)

    @event(Superseded)
    def _superseded(self, by: str, meta: Meta) -> None:
        self.status = SUPERSEDED
        self.superseded_by = by

    def supersede(self, old: Decision, meta: Meta) -> None:
        """This accepted decision replaces another, ``old``."""
        self.check_not_itself(old)
        self.check_accepted("the superseding decision")
        self._supersedes(supersedes=old.key, meta=meta)

    @event(Supersedes)
    def _supersedes(self, supersedes: str, meta: Meta) -> None:
        self.supersedes = [*self.supersedes, supersedes]


class DecisionNumbering(Entity):
    """Hands out decision numbers in order, never reusing one, under concurrent writers."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    ID = natural_id("sequence", "decisions")

    class Started(Event, Entity.Created):
        class_version = 1

    class NumberIssued(Event):
        class_version = 1
        number: int

    @staticmethod
    def create_id() -> UUID:
        """There is one numbering for the whole store."""
        return DecisionNumbering.ID

    @event(Started)
    def __init__(self, meta: Meta) -> None:
        self.last = 0

    def issue(self, meta: Meta) -> int:
        """The next number."""
        self._number_issued(number=self.last + 1, meta=meta)
        return self.last

    @event(NumberIssued)
    def _number_issued(self, number: int, meta: Meta) -> None:
        self.last = number
