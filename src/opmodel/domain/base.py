"""The base of every aggregate: events carry :class:`~opmodel.domain.values.Meta`."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from opmodel.domain.values import Meta

#: Namespace of the ids derived from natural keys (cluster names, contract refs, …).
OPMODEL_NAMESPACE = uuid5(NAMESPACE_URL, "https://opmodel.invalid/ids")


def natural_id(kind: str, key: str) -> UUID:
    """The stable id of the aggregate a natural key names (case-insensitive)."""
    return uuid5(OPMODEL_NAMESPACE, f"{kind}:{key.casefold()}")


class Entity(Aggregate):
    """An aggregate of the operating model. Every event it raises carries ``meta``."""

    class Event(Aggregate.Event):
        meta: Meta

    class Created(Event, Aggregate.Created):
        pass
