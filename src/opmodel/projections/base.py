"""What every read model shares: the events it is given, the operations it returns.

A read model turns a batch of events (:class:`~opmodel.store.events.Envelope`)
into *operations*: a Core statement and its parameters, or a statement and many
:class:`~opmodel.store.execution.Rows`. It never executes them: the catch-up
engine (:mod:`opmodel.catchup`) runs them, with the read model's tracking row
(:mod:`opmodel.projections.tracking`), in one transaction per batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, Protocol
from uuid import UUID

import orjson
from sqlalchemy import Connection, MetaData

from opmodel.domain.values import format_money
from opmodel.store.events import Envelope, StoredRow, event_names
from opmodel.store.execution import AnyOperation, Operation, Rows

__all__ = [
    "INTERNAL_AGGREGATES",
    "AnyOperation",
    "Envelope",
    "Operation",
    "Planned",
    "Projection",
    "Rows",
    "StoredRow",
    "dumps",
    "dumps_fields",
    "event_names",
    "pence",
    "plain",
]

#: Events of these aggregates are bookkeeping (code index, numbering): they change no model.
INTERNAL_AGGREGATES = frozenset({"DepartmentCode", "DecisionNumbering"})


def plain(value: Any) -> Any:
    """A value as JSON shows it: dates ISO, money two-decimal strings, ids as hex."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return _plain_leaf(value)


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return value.hex
    return value


def _json_default(value: Any) -> Any:
    converted = _plain_leaf(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not a JSON value")
    return converted


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON of a value, with :func:`plain`'s conversions.

    Written by orjson (ids turned to hex first: orjson would write them with
    dashes; money and dates through the ``default`` hook, as below), which is
    several times faster than :mod:`json` for a history row's data. A value with
    a float, a key that is not text, or anything else orjson would write otherwise
    or refuses is written by :mod:`json`, whose C encoder calls the same hook.
    Both write the same text (tested).
    """
    try:
        return orjson.dumps(
            _with_hex_ids(value), default=_json_default, option=orjson.OPT_SORT_KEYS
        ).decode("utf-8")
    except (TypeError, _NotForOrjson):
        return json.dumps(
            value, default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )


def dumps_fields(obj: Any, names: Iterable[str]) -> str:
    """``dumps({name: getattr(obj, name) for name in names})``, the same text, made once."""
    try:
        data = {}
        for name in names:
            item = getattr(obj, name)
            data[name] = _with_hex_ids(item) if type(item) in _CONVERTED else item
        return orjson.dumps(data, default=_json_default, option=orjson.OPT_SORT_KEYS).decode(
            "utf-8"
        )
    except (TypeError, _NotForOrjson):
        return dumps({name: getattr(obj, name) for name in names})


class _NotForOrjson(Exception):
    """A value :func:`dumps` leaves to :mod:`json`."""


def _with_hex_ids(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {
            key: _with_hex_ids(item) if type(item) in _CONVERTED else item
            for key, item in value.items()
        }
    if kind is list or kind is tuple:
        return [_with_hex_ids(item) if type(item) in _CONVERTED else item for item in value]
    if kind is UUID:
        return value.hex
    if kind is float:  # orjson and json may print it differently
        raise _NotForOrjson
    return value


#: What :func:`_with_hex_ids` looks into or converts. Everything else orjson writes as
#: json does (text, integers, booleans, null, dates, times) or hands to ``default``.
_CONVERTED = frozenset({dict, list, tuple, UUID, float})


def pence(amount: Decimal | None) -> int | None:
    """Money in whole pence, exact, for SQL arithmetic."""
    return None if amount is None else int(amount * 100)


class Planned(NamedTuple):
    """A batch's operations for one read model, worked out from its events alone.

    ``ready`` needs nothing of the read model's tables. ``finish``, when there is
    something it cannot know from the events (the hash chain's last link, the name a
    thing went by before the batch), gives the rest from a connection that sees the
    tables as the batches before this one left them: it is called before any of this
    batch's operations run. So a batch can be planned while another process is still
    writing the batches before it (ADR 0009), and only ``finish`` waits for them.
    """

    ready: list[AnyOperation]
    finish: Callable[[Connection], Iterable[AnyOperation]] | None = None

    def operations(self, conn: Connection) -> list[AnyOperation]:
        """Every operation, in order (``finish``'s worked out first, before any has run)."""
        if self.finish is None:
            return self.ready
        rest = list(self.finish(conn))
        return [*self.ready, *rest]


class Projection(Protocol):
    """A read model: its tables and how each batch of events changes them."""

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    #: Whether it needs the events as stored (``Envelope.stored``), which exist only
    #: once they are saved; the others can be worked out from the events raised.
    reads_stored: ClassVar[bool]

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        """The operations that apply ``batch``, as far as its events say (see :class:`Planned`)."""
        ...

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> Iterable[AnyOperation]:
        """The statements that apply ``batch``, in order: ``plan(batch).operations(conn)``."""
        ...
