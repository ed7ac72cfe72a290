"""A stored event as the rest of opmodel sees it: its position, the event, and its row.

A named tuple, because a rebuild makes one per stored event.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from opmodel.domain.values import Meta

#: The fields every event has (the envelope's), as opposed to its own data.
BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}
)


class Envelope(NamedTuple):
    """One stored event as read models see it: its position and the domain event.

    A named tuple, because a rebuild makes one per stored event.
    """

    position: int
    event: Any
    stored: Any = None  # the notification as stored: originator_id, version, topic, state

    @property
    def aggregate(self) -> str:
        """The aggregate class name (``Cluster``)."""
        return event_names(type(self.event))[0]

    @property
    def name(self) -> str:
        """The event class name (``LeadDesignated``)."""
        return event_names(type(self.event))[1]

    @property
    def meta(self) -> Meta:
        meta: Meta = self.event.meta
        return meta

    @property
    def recorded_at(self) -> datetime:
        recorded: datetime = self.event.timestamp
        return recorded

    @property
    def originator_id(self) -> UUID:
        originator: UUID = self.event.originator_id
        return originator

    @property
    def ident(self) -> str:
        """The originator id as 32 hex digits, as the read models store it."""
        return self.event.originator_id.hex  # type: ignore[no-any-return]

    def fields(self) -> dict[str, Any]:
        """The event's own fields (not the envelope's: id, version, time, meta), as held."""
        event = self.event
        return {name: getattr(event, name) for name in event_names(type(event))[2]}


class StoredRow(NamedTuple):
    """A stored event as the store holds it (the fields of eventsourcing's notification)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


_CLASS_NAMES: dict[type, tuple[str, str, tuple[str, ...]]] = {}


def event_names(event_class: type) -> tuple[str, str, tuple[str, ...]]:
    """An event class's aggregate name, own name and data field names (worked out once)."""
    names = _CLASS_NAMES.get(event_class)
    if names is None:
        own = tuple(f.name for f in fields(event_class) if f.name not in BASE_FIELDS)
        names = (event_class.__qualname__.split(".")[0], event_class.__name__, own)
        _CLASS_NAMES[event_class] = names
    return names
