"""opmodel's mapper and transcoder read back exactly what eventsourcing's own would.

Reading events is most of a rebuild's and a past model's time, so opmodel decodes
stored state with orjson and looks each event class up once (``EventMapper``,
``StateTranscoder``); it writes stored state with orjson too, and the bytes, which
the hash chain covers, must be the library's. These tests hold the two to the same
answers: on generated states (bytes written, values read), on every event of the
UK example as stored, on a class with an upcaster, and on states only the
library's encoder or decoder can handle.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
)
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from opmodel.application import OperatingModel
from opmodel.domain.values import Meta
from opmodel.service import Service
from opmodel.store.codec import EventMapper, StateTranscoder

EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "uk-shared-services.yaml"


def transcoders() -> tuple[JSONTranscoder, StateTranscoder]:
    """The library's transcoder and opmodel's, with opmodel's transcodings on both."""
    app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    library = JSONTranscoder()
    app.register_transcodings(library)
    ours = app.mapper.transcoder
    assert isinstance(ours, StateTranscoder)
    return library, ours


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (``1 == 1.0``, ``Decimal('1') == 1``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, Decimal):
        return str(a) == str(b)
    return bool(a == b)


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond 64 bits too
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.uuids(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), None])),
)
keys = st.one_of(st.text(), st.sampled_from(["_type_", "_data_", "meta", "concerns"]))
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
metas = st.builds(
    Meta,
    effective=st.dates(),
    actor=st.text(min_size=1),
    command_id=st.text(min_size=1),
    reason=st.none() | st.text(),
    source=st.none() | st.text(),
)


@given(state=st.dictionaries(keys, values | metas, max_size=8))
def test_states_decode_as_the_library_decodes_them(state: dict[str, Any]) -> None:
    library, ours = transcoders()
    stored = library.encode(state)
    try:
        expected = library.decode(stored)
    except Exception as exc:  # a "_type_" key with a value no transcoding has
        with pytest.raises(type(exc)):
            ours.decode(stored)
        return
    assert same(ours.decode(stored), expected)


class _Text(str):
    pass


class _Number(int):
    pass


@given(
    state=st.dictionaries(
        keys,
        st.recursive(
            leaves
            | metas
            | st.text().map(_Text)
            | st.integers().map(_Number)
            | st.tuples(st.integers(), st.text()),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(keys | st.integers(), inner, max_size=4)
            ),
            max_leaves=20,
        ),
        max_size=8,
    )
)
def test_states_are_written_as_the_library_writes_them(state: dict[str, Any]) -> None:
    library, ours = transcoders()
    try:
        expected = library.encode(state)
    except Exception as exc:  # text with a lone surrogate: the library's error, ours too
        with pytest.raises(type(exc)):
            ours.encode(state)
        return
    assert ours.encode(state) == expected


def test_a_state_without_exotic_values_is_written_by_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library, ours = transcoders()
    state = {
        "meta": Meta(effective=date(2024, 8, 30), actor="a", command_id="c", reason="r"),
        "timestamp": datetime(2024, 8, 30, 12, tzinfo=UTC),
        "cluster_id": UUID(int=7),
        "amount": Decimal("1.50"),
        "concerns": [{"kind": "contract", "id": "ab"}],
        "name": 'Sy\u00f1ergy \u2014 "quoted"\n',
    }
    expected = library.encode(state)

    def refused(_: Any) -> bytes:
        raise AssertionError("the library's encoder was used")

    monkeypatch.setattr(JSONTranscoder, "encode", refused)
    assert ours.encode(state) == expected


def test_an_object_shaped_like_a_transcoded_value_but_unregistered_is_refused_alike() -> None:
    library, ours = transcoders()
    stored = b'{"x":{"_type_":"no_such_type","_data_":1}}'
    with pytest.raises(TypeError, match="no_such_type"):
        library.decode(stored)
    with pytest.raises(TypeError, match="no_such_type"):
        ours.decode(stored)


def test_every_stored_event_of_the_example_reads_back_as_the_library_reads_it(
    tmp_path: Path,
) -> None:
    with Service.open(f"sqlite:///{tmp_path / 'uk.db'}", write=True) as service:
        service.import_file(EXAMPLE)
        library, _ = transcoders()
        reference = Mapper[UUID](transcoder=library)
        mapper = service.app.mapper
        notifications = service.app.recorder.select_notifications(start=1, limit=10_000)
        assert len(notifications) > 100
        for n in notifications:
            expected = reference.to_domain_event(n)
            for event in (
                mapper.to_domain_event(n),
                # As a plain SQL read gives it: the originator id as text.
                mapper.event_of(str(n.originator_id), n.originator_version, n.topic, n.state),
            ):
                assert type(event) is type(expected)
                assert same(vars(event), vars(expected))


class Upcast(Aggregate):
    """An aggregate whose created-event gained a field in version 2."""

    class Created(Aggregate.Created):
        class_version = 2
        name: str
        size: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["size"] = 0


def test_older_class_versions_are_upcast_as_the_library_does() -> None:
    library, ours = transcoders()
    v1_state = library.encode(
        {"timestamp": datetime(2024, 1, 2, tzinfo=UTC), "originator_topic": get_topic(Upcast),
         "name": "old"}
    )  # fmt: skip
    stored = StoredEvent(UUID(int=7), 1, get_topic(Upcast.Created), v1_state)
    expected = Mapper[UUID](transcoder=library).to_domain_event(stored)
    event = EventMapper(ours).to_domain_event(stored)
    assert vars(event) == vars(expected)
    assert event.size == 0


def test_an_undecodable_state_raises_the_library_error() -> None:
    _, ours = transcoders()
    stored = StoredEvent(UUID(int=7), 1, get_topic(Upcast.Created), b"{not json")
    with pytest.raises(MapperDeserialisationError, match="Failed to deserialise"):
        EventMapper(ours).to_domain_event(stored)


def test_a_compressed_store_is_read_by_the_library_path() -> None:
    library, ours = transcoders()
    compressor = ZlibCompressor()
    event = Upcast.Created(
        originator_id=UUID(int=9),
        originator_version=1,
        timestamp=datetime(2024, 1, 2, tzinfo=UTC),
        originator_topic=get_topic(Upcast),
        name="zipped",
        size=3,
    )
    stored = Mapper[UUID](transcoder=library, compressor=compressor).to_stored_event(event)
    back = EventMapper(ours, compressor=compressor).to_domain_event(stored)
    assert vars(back) == vars(event)


def test_dates_stay_dates() -> None:
    library, ours = transcoders()
    stored = library.encode({"day": date(2024, 2, 29)})
    assert ours.decode(stored) == {"day": date(2024, 2, 29)}


def test_a_registered_subclass_of_a_json_type_is_written_as_json_writes_it() -> None:
    from eventsourcing.persistence import Transcoding

    class Code(str):
        pass

    class CodeAsText(Transcoding):
        type = Code
        name = "code"

        def encode(self, obj: Code) -> str:
            return f"code:{obj}"

        def decode(self, data: str) -> Code:
            return Code(data.removeprefix("code:"))

    library, ours = transcoders()
    library.register(CodeAsText())
    ours.register(CodeAsText())
    state = {"code": Code("DWP"), "when": date(2024, 8, 30)}
    assert (
        ours.encode(state)
        == library.encode(state)
        == b'{"code":"DWP","when":{"_type_":"date","_data_":"2024-08-30"}}'
    )
