"""What every stateful machine of tests/property shares: run a command, check the outcome.

A machine keeps a plain model of what the SPEC says the state should be and,
for each command, predicts the set of error classes a rejection may raise
(empty: the command must be accepted). :meth:`Harness.attempt` runs the
command through the application on an in-memory store and checks that

- a predicted rejection is raised with one of exactly the predicted classes
  (the class itself, not a parent or a sibling) and wrote nothing;
- an accepted command saved its events in one contiguous run ending at the
  store's head;
- every aggregate the machine knows about, as the command's unit of work
  holds it afterwards, equals the aggregate rebuilt from its stored events.

A command that breaks several rules at once may be refused for any one of them
(the SPEC does not order its rules), so the model names every rule broken. Where
the SPEC leaves a case open, a machine says so (``may_succeed``) and follows
whichever outcome the engine chose.
"""

from __future__ import annotations

import calendar
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, Phase, event, settings

from opmodel.application import OperatingModel, Saved, UnitOfWork
from opmodel.domain import Meta
from opmodel.errors import OpmodelError
from opmodel.service import make_meta

#: Fast enough for CI, on every machine. No explain phase: its line tracing makes every
#: shrink step of these machines some hundred times slower (minutes, not seconds, to report
#: a failure); the shrunk steps Hypothesis prints say enough.
MACHINE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[phase for phase in Phase if phase is not Phase.explain],
)

Errors = frozenset[type[OpmodelError]]
NONE: Errors = frozenset()


@dataclass(frozen=True)
class Outcome:
    """What happened to one command."""

    accepted: bool
    result: Any = None
    saved: Saved | None = None


def add_months(start: date, months: int) -> date:
    """The model's own month arithmetic: same day ``months`` later, or that month's last day."""
    year, month_index = divmod(start.year * 12 + start.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(start.day, last_day))


class Harness:
    """Mixed into each machine: an in-memory application and the checks around a command."""

    app: OperatingModel

    def open_app(self) -> None:
        self.app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def meta(self, *, effective: date | None = None, reason: str | None = "property") -> Meta:
        return make_meta(actor="prop", effective=effective, reason=reason)

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def stored(self, aggregate_id: UUID) -> Any:
        """The aggregate rebuilt from its stored events, or ``None`` if it has none."""
        try:
            return self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def known_aggregates(self) -> Iterable[tuple[type[Aggregate], UUID]]:
        """Every aggregate the model says exists (each machine says which)."""
        raise NotImplementedError

    def attempt(
        self,
        call: Callable[[UnitOfWork], Any],
        rejections: Errors,
        *,
        may_succeed: bool = False,
        writes: bool = True,
    ) -> Outcome:
        """Run ``call`` in a unit of work and check it against the prediction.

        ``rejections``: the error classes the model allows (empty: must be accepted).
        ``may_succeed``: the SPEC leaves the case open: acceptance is fine, and so is a
        rejection with any subclass of ``rejections``.
        ``writes``: an accepted command must write at least one event.
        """
        rule = sys._getframe(1).f_code.co_name  # for --hypothesis-show-statistics
        before = self.head()
        held: list[UnitOfWork] = []

        def work(uow: UnitOfWork) -> Any:
            held.append(uow)
            return call(uow)

        error: OpmodelError | None = None
        try:
            result, saved = self.app.execute(work)
        except OpmodelError as raised:
            error = raised
        if error is not None:
            assert rejections, f"predicted acceptance, got {type(error).__name__}: {error}"
            # an open case allows any error of the kinds named; otherwise exactly those
            allowed = may_succeed and isinstance(error, tuple(rejections))
            assert allowed or type(error) in rejections, (
                f"predicted one of {sorted(e.__name__ for e in rejections)}, "
                f"got {type(error).__name__}: {error}"
            )
            assert self.head() == before, "a rejected command wrote events"
            event(f"{rule}: {type(error).__name__}")
            return Outcome(accepted=False)
        assert not rejections or may_succeed, (
            f"predicted a rejection ({sorted(e.__name__ for e in rejections)}), "
            f"but the command was accepted and wrote {saved.positions}"
        )
        event(f"{rule}: accepted")
        self._check_saved(before, saved, writes=writes)
        self._check_live_equals_stored(held[-1])
        return Outcome(accepted=True, result=result, saved=saved)

    def _check_saved(self, before: int, saved: Saved, *, writes: bool) -> None:
        positions = list(saved.positions)
        if writes:
            assert positions, "an accepted command wrote nothing"
        else:
            assert not positions, f"a command that changes nothing wrote {positions}"
        assert positions == list(range(before + 1, before + 1 + len(positions))), (
            f"a command's events are not one contiguous run after {before}: {positions}"
        )
        assert self.head() == before + len(positions)

    def _check_live_equals_stored(self, uow: UnitOfWork) -> None:
        for cls, aggregate_id in self.known_aggregates():
            live = uow.get(cls, aggregate_id)
            rebuilt = self.stored(aggregate_id)
            assert live is not None, f"{cls.__name__} {aggregate_id} should exist"
            assert rebuilt is not None, f"{cls.__name__} {aggregate_id} has no stored events"
            assert not live.collect_events(), "the unit of work left events unsaved"
            assert live == rebuilt, (
                f"live {cls.__name__} differs from the one rebuilt from its events:\n"
                f"live:    {live!r}\nrebuilt: {rebuilt!r}"
            )
