"""``audit verify`` reads originator ids raw; each must hash as ``UUID(id).hex`` always did."""

from __future__ import annotations

import re
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opmodel.audit.integrity import _hex


@given(st.uuids())
def test_every_form_of_an_id_gives_what_uuid_gives(uuid: UUID) -> None:
    text = str(uuid)
    braced, urn = f"{{{text}}}", f"urn:uuid:{text}"
    for form in (uuid, text, text.upper(), uuid.hex, uuid.hex.upper(), braced, urn):
        assert _hex(form) == UUID(str(form)).hex == uuid.hex


@given(st.text(alphabet="0123456789abcdefABCDEF-{}:urnid g", max_size=40))
def test_any_text_gives_what_uuid_gives_or_fails_as_it_fails(text: str) -> None:
    try:
        expected = UUID(text).hex
    except ValueError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            _hex(text)
        return
    assert _hex(text) == expected
