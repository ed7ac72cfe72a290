"""A unit of work: the aggregates one command or import loads, and the events it raises.

The events are saved together, in the order they were raised, by
:meth:`OperatingModel.execute <opmodel.application.OperatingModel.execute>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

A = TypeVar("A", bound=Aggregate)


class UnitOfWork:
    """The aggregates one command or import has loaded, and the events it raised, in order."""

    def __init__(self, app: Application[UUID], *, store_empty: bool = False) -> None:
        self._app = app
        self._aggregates: dict[UUID, Aggregate] = {}
        self.events: list[Any] = []
        # Nothing to load from an empty store: what this unit has not made, is not.
        # (Should another writer fill the store meanwhile, the save conflicts on the
        # aggregates' ids and the unit runs again, against the store as it is then.)
        self._store_empty = store_empty

    def get(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate as this unit sees it (with its own changes), or ``None``."""
        found = self._aggregates.get(aggregate_id)
        if found is None:
            if self._store_empty:
                return None
            try:
                found = self._app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            self._aggregates[aggregate_id] = found
        if not isinstance(found, cls):  # pragma: no cover - ids are namespaced by kind
            raise TypeError(f"{aggregate_id} is a {type(found).__name__}, not a {cls.__name__}")
        return found

    def stage(self, *aggregates: Aggregate, first: bool = False) -> None:
        """Take the aggregates' new events, in the order given, into this unit.

        ``first``: put them before the events already taken (they are saved first).
        """
        events: list[Any] = []
        for aggregate in aggregates:
            self._aggregates[aggregate.id] = aggregate
            events.extend(aggregate.collect_events())
        if first:
            self.events[:0] = events
        else:
            self.events.extend(events)


@dataclass(frozen=True)
class Saved:
    """What a unit of work saved: the store positions of its events (may be empty)."""

    positions: tuple[int, ...]
    #: What the recorder returned: each event as raised and as stored, with its position.
    recordings: tuple[Recording[UUID], ...] = ()

    @property
    def head(self) -> int | None:
        """The last position written, if any."""
        return self.positions[-1] if self.positions else None
