"""The base of every aggregate: events carry :class:`~opmodel.domain.values.Meta`."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from opmodel.domain.values import Meta

#: Namespace of the ids derived from natural keys (cluster names, contract refs, …).
OPMODEL_NAMESPACE = uuid5(NAMESPACE_URL, "https://opmodel.invalid/ids")


@lru_cache(maxsize=65536)
def natural_id(kind: str, key: str) -> UUID:
    """The stable id of the aggregate a natural key names (case-insensitive).

    Remembered: a bulk import asks for the same few clusters' and departments' ids
    over and over (34,256 times for 20,000 entries), and each is a SHA-1.
    """
    return uuid5(OPMODEL_NAMESPACE, f"{kind}:{key.casefold()}")


class Entity(Aggregate):
    """An aggregate of the operating model. Every event it raises carries ``meta``.

    Each aggregate defines its own ``class Event(Entity.Event)`` first and derives
    its events from it (created-events from ``Event`` and ``Entity.Created``).
    eventsourcing makes every event class of an aggregate a subclass of the
    aggregate's ``Event``, building a second class for any that is not one already;
    defined this way, each event class is built once, which halves the time taken
    to import the domain. The classes' names, topics and fields are the same either
    way, so stored events read back unchanged.
    """

    class Event(Aggregate.Event):
        meta: Meta

    class Created(Event, Aggregate.Created):
        pass
