"""CLI: ``--json`` output is the standard library's indented JSON, byte for byte.

The CLI writes its documents with orjson (much faster than ``json.dumps`` with
``indent``, which cannot use the C encoder); what it prints must stay exactly
what ``json.dumps(document, indent=2, ensure_ascii=False)`` printed before.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from opmodel_cli.commands.common import dumps_json
from tests.conftest import Cli


def stdlib(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def test_show_and_history_print_what_the_standard_library_prints(cli: Cli) -> None:
    cli.ok("cluster", "form", "Synergy", "--description", 'Quotes " and \\ and\ttabs')
    cli.ok("department", "register", "DWP", "--name", "Département “Work” & Pensions ✓ 🚀")
    cli.ok("department", "join", "DWP", "Synergy", "--reason", "line one\nline two\t")
    cli.ok("decision", "propose", "Ünïcode", "--context", "c", "--decision", "d")
    for command in (("show",), ("history",), ("projections", "status"), ("audit", "digest")):
        printed = cli.ok(*command, "--json").stdout
        assert printed == stdlib(json.loads(printed)) + "\n", command


#: JSON documents like opmodel's: string keys, text of every kind, integers (some
#: beyond 64 bits, which orjson refuses), booleans, nulls, durations in seconds.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text()
    | st.floats(min_value=0, max_value=1e6).map(lambda seconds: round(seconds, 3))
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(documents)
def test_dumps_json_is_the_standard_librarys_indented_json(document: Any) -> None:
    assert dumps_json(document) == stdlib(document)


def test_what_orjson_refuses_goes_through_the_standard_library() -> None:
    for document in ({1: "a"}, [2**64], {"lone": "\ud800"}):
        assert dumps_json(document) == stdlib(document)
