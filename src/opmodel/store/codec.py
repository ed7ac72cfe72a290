"""How events are written to the store and read back: the state transcoder and the mapper.

Both are eventsourcing's, with less work per event (orjson, classes looked up
once per topic); the bytes they write are the library's, and the hash chain
covers them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import fields
from datetime import date
from functools import lru_cache
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from opmodel.domain.values import Meta


class DateAsISO(Transcoding):
    """Dates stay dates through the store (``2024-08-30``)."""

    type = date
    name = "date"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    """Event metadata as a plain mapping."""

    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict[str, Any]:
        return {
            "effective": obj.effective,
            "actor": obj.actor,
            "command_id": obj.command_id,
            "reason": obj.reason,
            "source": obj.source,
        }

    def decode(self, data: dict[str, Any]) -> Meta:
        if data.keys() == _META_FIELDS:  # as encode writes it: fill the instance directly
            meta: Meta = object.__new__(Meta)
            object.__setattr__(meta, "__dict__", data)
            return meta
        return Meta(**data)  # anything else: the dataclass says what is wrong


_META_FIELDS = {field.name for field in fields(Meta)}


class UUIDsShared(UUIDAsHex):
    """The library's ``uuid_hex`` transcoding, handing out one object per id.

    Ids recur (a cluster's, a department's in every event about them), and making
    a ``UUID`` from hex is Python work; a UUID is immutable, so one object serves
    every event that holds it. The cache is bounded.
    """

    def decode(self, data: str) -> UUID:
        return _uuid_of(data)


_uuid_of = lru_cache(maxsize=1 << 16)(UUID)


class StateTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, encoding and decoding with orjson.

    Writing: the library encodes with :mod:`json` (compact, non-ASCII as UTF-8) and
    a Python ``default`` hook for every value of a registered type. Here one pass
    turns each such value into the ``{"_type_": name, "_data_": value}`` object the
    hook would return, then orjson writes the state: the same bytes (tested against
    the library's encoder), which the hash chain covers. A state holding anything
    else (a float, a key that is not text, a subclass of a JSON type, an integer
    beyond 64 bits, text orjson refuses) is written by the library's encoder, as
    before, which also raises its own errors.

    Reading is most of the time of a rebuild or a past model: the library decodes
    with :mod:`json` and a Python ``object_hook`` called for every object. Here
    orjson parses the state, then one pass, inner values first as the hook would
    see them, turns each ``{"_type_": name, "_data_": value}`` object into its
    value with the same registered transcodings. The result is the same (tested
    against the library's decoder). A state orjson refuses (``NaN``) or may read
    differently (any number with a fraction or an exponent, and integers beyond 64
    bits, which orjson can turn into floats; opmodel's events hold neither: money
    is text) is decoded by the library's decoder, as before.
    """

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._transcoded(obj))
        except (orjson.JSONEncodeError, _Inexact, RecursionError):
            return super().encode(obj)

    def _transcoded(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is dict:
            return self._transcoded_dict(value)
        if kind is list or kind is tuple:
            return [self._transcoded(item) for item in value]
        return self._transcoded_object(value)

    def _transcoded_dict(self, value: dict[Any, Any]) -> dict[str, Any]:
        # The leaves of a state are mostly text, numbers and null: kept here, in the
        # loop, rather than by a call each (the same as _transcoded, only quicker).
        transcoded: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:  # json would write it as text: the library's
                raise _Inexact
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                transcoded[key] = item
            elif kind is dict:
                transcoded[key] = self._transcoded_dict(item)
            elif kind is list or kind is tuple:
                transcoded[key] = [self._transcoded(i) for i in item]
            else:
                transcoded[key] = self._transcoded_object(item)
        return transcoded

    def _transcoded_object(self, value: Any) -> dict[str, Any]:
        transcoding = self.types.get(type(value))
        # A float, a subclass of a type json writes itself (whatever is registered for
        # it: json never asks), or no transcoding at all: the library's encoder.
        if transcoding is None or isinstance(value, _JSON_TYPES):
            raise _Inexact
        return {"_type_": transcoding.name, "_data_": self._transcoded(transcoding.encode(value))}

    def decode(self, data: bytes) -> Any:
        try:
            return self._revive(orjson.loads(data))
        except (orjson.JSONDecodeError, _Inexact):
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if (
                len(value) == 2
                and "_type_" in value
                and "_data_" in value
                and type(value["_type_"]) is str
            ):
                # A registered type's value: what it holds first (as the hook sees it).
                data = value["_data_"]
                if type(data) in _LOOKED_INTO:
                    value["_data_"] = data = self._revive(data)
                try:
                    transcoding = self.names[value["_type_"]]
                except KeyError:
                    return self._decode_obj(value)  # raises the library's error
                return transcoding.decode(data)
            for key, item in value.items():
                if type(item) in _LOOKED_INTO:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._decode_obj(value)  # a "_type_" that is not text: the library's
            return value
        if kind is list:
            return [self._revive(item) for item in value]
        if kind is float:
            raise _Inexact
        return value


#: What json writes itself, subclasses included, without asking the ``default`` hook.
_JSON_TYPES = (str, int, float, dict, list, tuple)

#: What :meth:`StateTranscoder._revive` looks into (dicts, lists) or refuses (floats).
_LOOKED_INTO = (dict, list, float)


class _Inexact(Exception):
    """A number orjson may have read otherwise than :mod:`json`: the library decodes it."""


class EventMapper(Mapper[UUID]):
    """eventsourcing's mapper, turning stored rows back into events with less work per row.

    The library's ``to_domain_event`` looks up the event's class, its id converter and
    its class version again for every event; here they are looked up once per topic.
    The rest is the library's: the transcoder decodes the state, the originator id is
    converted the same way, older class versions are upcast the same way. With a
    cipher or a compressor, or for a state that cannot be decoded, the library's own
    method runs (and raises its own error).
    """

    def __init__(self, transcoder: Transcoder, compressor: Any = None, cipher: Any = None) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self._classes: dict[tuple[str, type], tuple[type, int, Callable[[Any], Any]]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_of(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )

    def event_of(self, originator_id: UUID | str, version: int, topic: str, state: bytes) -> Any:
        """The domain event stored as this row (its originator id as stored: UUID or text)."""
        if self.cipher is not None or self.compressor is not None:
            return super().to_domain_event(StoredEvent(originator_id, version, topic, state))
        key = (topic, type(originator_id))
        known = self._classes.get(key)
        if known is None:
            cls = resolve_topic(topic)
            known = (
                cls,
                getattr(cls, "class_version", 1),
                find_id_convertor(cls, cast(Hashable, key[1])),
            )
            self._classes[key] = known
        cls, class_version, convert = known
        try:
            event_state: dict[str, Any] = self.transcoder.decode(state)
        except Exception:  # the library says what failed, in its own words
            return super().to_domain_event(StoredEvent(originator_id, version, topic, state))
        event_state["originator_id"] = convert(originator_id)
        event_state["originator_version"] = version
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event: Any = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """The types a stored state holds besides JSON's own (the library's, then ours)."""
    transcoder.register(UUIDsShared())  # the library's uuid_hex, by the same name
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DateAsISO())
    transcoder.register(MetaAsDict())


def make_transcoder() -> StateTranscoder:
    """The transcoder every stored state is written and read with."""
    transcoder = StateTranscoder()
    register_transcodings(transcoder)
    return transcoder


def make_mapper() -> EventMapper:
    """A mapper for reading stored events (no cipher, no compressor: as the store writes)."""
    return EventMapper(transcoder=make_transcoder())
