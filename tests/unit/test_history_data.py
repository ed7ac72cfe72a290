"""A history row's ``data`` is written by orjson, and must read as json's text did.

``projections.base.dumps`` hands ids to orjson as hex, money and dates to the
same ``default`` hook, and anything orjson might write otherwise (floats, keys
that are not text, integers beyond 64 bits) to :mod:`json`. The text must be
exactly what ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` with that hook wrote before.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opmodel.projections.base import _json_default, dumps, dumps_fields
from opmodel.projections.history import utc_stamp


def reference(value: Any) -> str:
    return json.dumps(
        value, default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(),
    st.uuids(),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)
    ),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), None])),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text() | st.integers(0, 9), inner, max_size=4)
    ),
    max_leaves=24,
)


@given(st.dictionaries(st.text(), values, max_size=8))
def test_data_is_the_text_json_wrote(fields: dict[str, Any]) -> None:
    try:
        expected = reference(fields)
    except TypeError:  # json cannot sort text and integer keys together: nor can dumps
        with pytest.raises(TypeError):
            dumps(fields)
        return
    assert dumps(fields) == expected


def test_an_event_s_fields_as_stored_in_history() -> None:
    fields = {
        "value": Decimal("125000000.00"),
        "cluster_id": UUID(int=1),
        "start": date(2024, 4, 1),
        "concerns": [{"kind": "contract", "id": "ab" * 16}],
        "supplier": "Sopra Steria",
    }
    assert dumps(fields) == (
        '{"cluster_id":"00000000000000000000000000000001","concerns":[{"id":"'
        + "ab" * 16
        + '","kind":"contract"}],"start":"2024-04-01","supplier":"Sopra Steria",'
        '"value":"125000000.00"}'
    )


#: Field names an object may carry as its own (not the names of its class's attributes).
field_names = st.text().filter(lambda name: name not in dir(SimpleNamespace()))


@given(st.dictionaries(field_names, values, max_size=8))
def test_an_event_s_fields_read_from_it_are_written_as_from_a_mapping(
    fields: dict[str, Any],
) -> None:
    event = SimpleNamespace(**fields)
    try:
        expected = reference(fields)
    except TypeError:
        with pytest.raises(TypeError):
            dumps_fields(event, list(fields))
        return
    assert dumps_fields(event, list(fields)) == expected


@given(
    moment=st.datetimes(
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5, minutes=-30))])
    )
)
def test_a_history_stamp_is_the_fixed_width_utc_isoformat(moment: datetime) -> None:
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    assert utc_stamp(moment) == utc.isoformat(timespec="microseconds") + "Z"
