"""The operating model as a read model: a batch of events -> grouped operations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from sqlalchemy import Connection, MetaData

from opmodel.projections.base import (
    AnyOperation,
    Envelope,
    Operation,
    Planned,
    event_names,
)
from opmodel.projections.operating_model.handlers import HANDLERS
from opmodel.projections.operating_model.tables import metadata


class OperatingModelProjection:
    """Clusters, members, leads, phases, contracts, decisions and governance."""

    name: ClassVar[str] = "operating_model"
    metadata: ClassVar[MetaData] = metadata
    reads_stored: ClassVar[bool] = False

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        # Each handler's operations follow from its event alone.
        return Planned(grouped(_by_thing(batch)))

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> list[AnyOperation]:
        return self.plan(batch).operations(conn)


def _by_thing(batch: Sequence[Envelope]) -> Iterator[tuple[str, Operation]]:
    """Each event's operations, with the id of the thing it is about."""
    for envelope in batch:
        handler = _handler_of(type(envelope.event))
        if handler is _none:
            continue
        ident = envelope.ident
        for operation in handler(envelope):
            yield ident, operation


def _none(_: Envelope) -> Iterable[Operation]:
    return ()


#: Event class -> its handler (``HANDLERS`` is keyed by names; this saves the lookup).
_HANDLER_OF_CLASS: dict[type, Callable[[Envelope], Iterable[Operation]]] = {}


def _handler_of(event_class: type) -> Callable[[Envelope], Iterable[Operation]]:
    """The handler of an event class (``_none`` when this read model has none)."""
    handler = _HANDLER_OF_CLASS.get(event_class)
    if handler is None:
        handler = HANDLERS.get(event_names(event_class)[:2], _none)
        _HANDLER_OF_CLASS[event_class] = handler
    return handler


def changes_the_model(envelope: Envelope) -> bool:
    """Whether this read model has a handler for the event (time travel reads only those)."""
    return _handler_of(type(envelope.event)) is not _none


def grouped(operations: Iterable[tuple[str, Operation]]) -> list[AnyOperation]:
    """Operations reordered so that runs of one statement are long, each thing's in order.

    Every handler changes only rows of the thing its event is about (a cluster's
    rows, phases, go-lives and business cases; a department's row; a contract's;
    a decision's and its concerns), so operations on different things commute,
    and only each thing's own operations must keep their order. An operation
    joins the latest group of its statement (and parameter names) when no later
    group holds an operation on the same thing; otherwise it starts a new group.
    The groups then go to the database in order, each as one ``executemany``.
    """
    groups: list[tuple[Any, list[dict[str, Any]]]] = []
    latest: dict[tuple[Any, tuple[str, ...]], int] = {}  # statement, names -> group
    last_of: dict[str, int] = {}  # thing -> the group of its latest operation
    for thing, (statement, params) in operations:
        key = (id(statement), tuple(params))
        index = latest.get(key)
        if index is None or index < last_of.get(thing, -1):
            index = len(groups)
            groups.append((statement, []))
            latest[key] = index
        groups[index][1].append(params)
        last_of[thing] = index
    return [(statement, params) for statement, rows in groups for params in rows]
