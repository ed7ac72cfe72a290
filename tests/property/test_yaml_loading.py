"""Import files in YAML: the fast loader gives exactly what PyYAML's loader gave.

``opmodel.importing.parse`` builds a document straight from libyaml's event stream
instead of calling ``yaml.load``. It is held here to the loader it replaced,
kept as the reference: PyYAML's safe loader (libyaml's parser when present,
PyYAML's Python composer, resolver and constructor) without the timestamp
resolver, so dates stay text. "Exactly" means the same types (``True`` is not
``1``), the same key order, the same floats (``nan`` included), aliases that
share one object, and for a document PyYAML rejects, the same error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opmodel.errors import InvalidImportFile
from opmodel.importing.parse import _load_yaml, read_document

_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ReferenceLoader(_BASE):  # type: ignore[misc]
    """The import loader as it was: the safe loader less the timestamp resolver, and
    since the hostile-input fix one rule more: a key written twice in one mapping
    (merged keys aside) is refused where the constructor meets it."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BASE.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            own = [key for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"]
            self.flatten_mapping(node)
            seen: list[Any] = []
            for key_node in own:
                key = self.construct_object(key_node, deep=deep)
                try:
                    hash(key)
                except TypeError:
                    continue
                if any(key is other or key == other for other in seen):
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found the key {key!r} twice: give each key once",
                        key_node.start_mark,
                    )
                seen.append(key)
        return super().construct_mapping(node, deep=deep)


def reference(document: bytes) -> Any:
    return yaml.load(document, Loader=ReferenceLoader)


def canonical(value: Any, within: tuple[int, ...] = ()) -> Any:
    """``value`` with its types, key order and float spellings made part of equality.

    A collection inside itself (``&a [*a]``) becomes the depth of its first
    occurrence.
    """
    if isinstance(value, dict | list) and id(value) in within:
        return ("recursive", within.index(id(value)))
    inner = (*within, id(value))
    if isinstance(value, dict):
        return (
            "dict",
            [(canonical(key, inner), canonical(item, inner)) for key, item in value.items()],
        )
    if isinstance(value, list):
        return ("list", [canonical(item, inner) for item in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def outcome(load: Callable[[bytes], Any], document: bytes) -> tuple[Any, ...]:
    """What loading ``document`` gives: its canonical value, or the error's type and message."""
    try:
        value = load(document)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("value", canonical(value))


def assert_loads_as_before(document: bytes) -> None:
    assert outcome(_load_yaml, document) == outcome(reference, document), document


#: Plain scalars that YAML 1.1 reads as something other than text, or nearly does.
TRICKY = [
    *("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "off", "OFF", "y", "n", "N"),
    *("true", "True", "TRUE", "false", "False", "null", "Null", "NULL", "nul", "~", ""),
    *("0", "-0", "+12", "1_000", "0x1F", "0x_", "0b101", "0b_", "017", "0_7", "08", "0o17"),
    *("1e3", "1E3", "1.5", "1.", "1.e3", "1.0e+3", "6.8523015e+5", "685_230.15", ".5", "._5"),
    *(".inf", "-.Inf", "+.INF", ".nan", ".NaN", "NaN", "inf", "1:30", "12:30", "-1:30"),
    *("190:20:30.15", "1:60", "2023-02-30", "2024-01-31", "2024-01-31T12:00:00Z"),
    *("2024-01-31 12:00:00.5 +01:00", "=", "<<", "<", "a: b", "a:b", "it's", 'say "hi"'),
    *("#hash", "x #y", "- dash", "? q", "...", "---", "@at", "!bang", "&amp", "*star"),
    *("|pipe", ">gt", "[1]", "{a: 1}", " lead", "trail ", "multi\nline", "tab\there", "ünï"),
]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=12),
    st.text(alphabet="ny01.:-+_eE ~<=x#'\"", max_size=6),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=8), st.integers(), st.booleans())


@st.composite
def values(draw: st.DrawFn) -> Any:
    """Nested lists and mappings of scalars, some holding one shared collection (an alias)."""
    shared = draw(st.lists(scalars, max_size=3) | st.dictionaries(keys, scalars, max_size=3))
    leaves = scalars | st.just(shared)
    return draw(
        st.recursive(
            leaves,
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4)
            ),
            max_leaves=25,
        )
    )


class PlainDumper(yaml.SafeDumper):
    """Writes text as plain scalars wherever the syntax allows, so ``yes`` reads back as True.

    ``safe_dump`` quotes any text that would read back as something else;
    without resolvers the dumper sees all text as text. Numbers, booleans and
    nulls then carry explicit tags (``!!int 5``), which the loader hands to PyYAML.
    """

    yaml_implicit_resolvers: dict[Any, Any] = {}


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A value written by PyYAML's dumper in one of its styles."""
    text = yaml.dump(
        draw(values()),
        Dumper=draw(st.sampled_from([yaml.SafeDumper, PlainDumper])),
        sort_keys=False,
        default_flow_style=draw(st.sampled_from([False, True, None])),
        allow_unicode=draw(st.booleans()),
        width=draw(st.sampled_from([20, 80, 10_000])),
        explicit_start=draw(st.booleans()),
    )
    return text.encode()


def flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()


@st.composite
def merge_documents(draw: st.DrawFn) -> bytes:
    """A mapping with ``<<`` merge keys (one or two) taking anchored or inline mappings.

    Some merge what cannot be merged (a scalar, or a list holding one), which
    both loaders must reject alike.
    """
    small = st.dictionaries(
        st.sampled_from(["a", "b", "c", "yes", "1", "x y"]), scalars, max_size=3
    )
    base, other, own = draw(small), draw(small), draw(small)
    sources = ["*b", "*o", "[*b, *o]", "[*o, *b]", "[]", flow(draw(small)), "*s", "[*b, *s]"]
    items = [flow({key: value})[1:-1] for key, value in own.items()]
    for _ in range(draw(st.integers(1, 2))):
        position = draw(st.integers(0, len(items)))
        items.insert(position, f"<<: {draw(st.sampled_from(sources))}")
    if draw(st.booleans()):
        body = "{" + ", ".join(items) + "}"
    else:
        body = "".join(f"\n  {item}" for item in items)
    text = f"b: &b {flow(base)}\no: &o {flow(other)}\ns: &s text\nm: {body}\nn: *b\n"
    return text.encode()


#: Bytes that make or break YAML structure, for damaging documents.
DAMAGE = [
    *"[]{}:,-?&*!|>'\"#%@` \n\t",
    *("&a ", "*a", "*b", "<<: ", "--- ", "! ", "!!str ", "!!int ", "- ", "\xff", "\xc3"),
]

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(document=documents())
def test_a_dumped_document_loads_exactly_as_before(document: bytes) -> None:
    assert_loads_as_before(document)


@SETTINGS
@given(document=merge_documents())
def test_merge_keys_load_exactly_as_before(document: bytes) -> None:
    assert_loads_as_before(document)


@SETTINGS
@given(
    document=documents() | merge_documents(),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(DAMAGE), st.booleans()),
        min_size=1,
        max_size=3,
    ),
)
def test_a_damaged_document_loads_or_fails_exactly_as_before(
    document: bytes, edits: list[tuple[int, str, bool]]
) -> None:
    """Inserted or deleted bytes: the same value, or the same error at the same place."""
    for position, text, delete in edits:
        at = position % (len(document) + 1)
        if delete:
            document = document[:at] + document[at + 1 :]
        else:
            document = document[:at] + text.encode("latin-1") + document[at:]
    assert_loads_as_before(document)


@pytest.mark.parametrize("tricky", TRICKY)
@pytest.mark.parametrize("flow_style", [False, True])
def test_each_tricky_scalar_loads_as_before_as_key_item_and_value(
    tricky: str, flow_style: bool
) -> None:
    value = {tricky: tricky, "items": [tricky, {tricky: [tricky]}]}
    for dumper in (yaml.SafeDumper, PlainDumper):
        text = yaml.dump(value, Dumper=dumper, sort_keys=False, default_flow_style=flow_style)
        assert_loads_as_before(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing but a comment\n",
        "---\n...\n",
        "--- 1\n--- 2\n",
        "a: *nowhere\n",
        "[&a 1, &a 2]\n",
        "{[1]: 2}\n",
        "? {a: 1}\n: 2\n",
        "a: <<\n",
        "[=]\n",
        "{=: 1, <<: {=: 2, b: 3}}\n",
        "! yes\n",
        "! 'yes'\n",
        "!!str 123\n",
        "!custom x\n",
        "x: !!binary aGk=\n",
        "when: !!timestamp 2024-01-31\n",
        "&a {x: *a}\n",
        "- &k key\n- {*k: 1, *k : 2}\n",
        "- &n .nan\n- {*n: 1, .nan: 2}\n",
        "\ufeffa: 1\n",
        "a: 1\n  b: 2\n",
        "- [1, 2\n- 3\n",
    ],
)
def test_edge_cases_load_or_fail_exactly_as_before(text: str) -> None:
    assert_loads_as_before(text.encode())


def test_anchors_and_aliases_share_one_object() -> None:
    document = b"""\
base: &base {actor: programme-office, reason: minutes}
list: &list [1, two, 3.0]
scalar: &scalar 2021-03-01
entries:
  - *base
  - {items: *list, date: *scalar}
"""
    loaded = _load_yaml(document)
    assert loaded == reference(document)
    assert loaded["entries"][0] is loaded["base"]
    assert loaded["entries"][1]["items"] is loaded["list"]
    assert loaded["entries"][1]["date"] == "2021-03-01"


def test_merge_keys_put_merged_keys_first_and_own_keys_win() -> None:
    document = b"""\
- &m {a: 1, z: 0}
- {c: 4, <<: [*m, {a: 2, b: 3}], z: 9}
"""
    loaded = _load_yaml(document)
    assert outcome(_load_yaml, document) == outcome(reference, document)
    # The order of the keys has changed between PyYAML releases; which value wins has not.
    assert loaded[1] == {"a": 1, "b": 3, "z": 9, "c": 4}


def test_multi_line_strings() -> None:
    document = b"""\
literal: |
  first line
    indented: yes
  last
stripped: |-
  no final newline
kept: >+
  folded
  together

folded: >
  one
  two

  three
plain: a plain
  scalar over
  three lines
quoted: "double \\
  quoted"
single: 'single

  quoted'
"""
    loaded = _load_yaml(document)
    assert outcome(_load_yaml, document) == outcome(reference, document)
    assert loaded == {
        "literal": "first line\n  indented: yes\nlast\n",
        "stripped": "no final newline",
        "kept": "folded together\n\n",
        "folded": "one two\nthree\n",
        "plain": "a plain scalar over three lines",
        "quoted": "double quoted",
        "single": "single\nquoted",
    }


def test_dates_stay_text_and_yaml_1_1_scalars_resolve_as_before() -> None:
    document = b"""\
effective: 2023-02-30
at: 2024-01-31T12:00:00Z
flags: [yes, No, on, OFF, y, n]
nothing: [null, ~, NULL]
empty:
numbers: [1_000, 0x1F, 017, 0b101, 12:30, 1e3, 1.5e3, .inf, -.5]
"""
    loaded = _load_yaml(document)
    assert outcome(_load_yaml, document) == outcome(reference, document)
    assert loaded["effective"] == "2023-02-30"
    assert loaded["at"] == "2024-01-31T12:00:00Z"
    assert loaded["flags"] == [True, False, True, False, "y", "n"]
    assert loaded["nothing"] == [None, None, None]
    assert loaded["empty"] is None
    assert loaded["numbers"][:6] == [1000, 31, 15, 5, 750, "1e3"]


def test_a_recursive_alias_is_left_to_pyyaml() -> None:
    loaded = _load_yaml(b"&a [1, *a]\n")
    assert loaded[0] == 1
    assert loaded[1] is loaded
    loaded = _load_yaml(b"&a {x: {y: *a}}\n")
    assert loaded["x"]["y"] is loaded


def test_nesting_deeper_than_python_recursion_loads_as_before() -> None:
    depth = 900  # past what the fast path's recursion allows, within libyaml's limit
    document = b"[" * depth + b"x" + b"]" * depth
    loaded, expected = _load_yaml(document), reference(document)
    for _ in range(depth):  # walked in a loop: comparing them would recurse as deep
        assert type(loaded) is type(expected) is list
        assert len(loaded) == len(expected) == 1
        loaded, expected = loaded[0], expected[0]
    assert loaded == expected == "x"


def test_nesting_past_libyaml_s_limit_fails_or_loads_as_before() -> None:
    # libyaml refuses nesting deeper than 1,000 levels in some releases, not in others.
    assert_loads_as_before(b"[" * 3000 + b"x" + b"]" * 3000)


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    document = b"version: 1\nentries:\n  - cluster form: {name: Synergy\n  - x: y\n"
    path.write_bytes(document)
    with pytest.raises(yaml.YAMLError) as expected:
        reference(document)
    with pytest.raises(InvalidImportFile) as raised:
        read_document(path)
    assert raised.value.message == (
        f"import file {path} is not valid YAML at line 4: {expected.value}"
    )


def test_an_import_file_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "import.yaml"
    document = b"""\
version: 1
defaults: {actor: programme-office}
entries:
  - cluster form: {name: Synergy}
    effective: 2021-03-01
    reason: 'Shared Services Strategy: DWP, HO, MoJ and Defra'
    source: https://example.org/strategy
  - phase plan: {cluster: Synergy, number: 1, name: Tranche 1, start: '2022-03-01'}
  - department join: {code: DWP, cluster: Synergy}
    reason: null
"""
    path.write_bytes(document)
    raw, loaded = read_document(path)
    assert raw == document
    assert outcome(lambda _: loaded, document) == outcome(reference, document)
