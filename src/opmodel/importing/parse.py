"""Import files read and parsed (YAML or JSON), not yet validated (:mod:`.validate` does that)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opmodel.errors import InvalidImportFile


@dataclass(frozen=True)
class Document:
    """An import file's content as parsed, and the sha256 of its bytes."""

    sha256: str
    content: Any


def load(path: Path) -> Document:
    """Read and parse an import file (raising :class:`InvalidImportFile` if it cannot)."""
    raw, content = read_document(path)
    return Document(hashlib.sha256(raw).hexdigest(), content)


def read_document(path: Path) -> tuple[bytes, Any]:
    """The file's bytes and its parsed content (YAML, or JSON, which YAML also reads)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidImportFile(f"cannot read import file {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".json":
        try:
            return raw, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidImportFile(
                f"import file {path} is not valid JSON: {exc.msg} at line {exc.lineno}"
            ) from exc
    import yaml

    try:
        return raw, _load_yaml(raw)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidImportFile(f"import file {path} is not valid YAML{at}: {exc}") from exc


def _load_yaml(raw: bytes) -> Any:
    """The document exactly as ``yaml.load(raw, Loader=_loader())`` gives it, only faster.

    Most documents take the fast path (:func:`_fast_yaml`). What it leaves
    (explicit tags, ``<<`` merge keys, recursive aliases, collections as keys,
    nesting deeper than Python's recursion limit, and whatever PyYAML's composer or
    constructor would reject, including a constructor's ``ValueError`` for a
    plain ``0x_``) is loaded again by PyYAML's own loader, so such documents
    get PyYAML's value or PyYAML's error, unchanged. A libyaml syntax error
    propagates from the fast path as it is: it is the one PyYAML raises.
    """
    import yaml

    fast = _fast_yaml()
    if fast is not None:
        try:
            return fast(raw)
        except (_NotFastYaml, ValueError, RecursionError):
            pass
    return yaml.load(raw, Loader=_loader())


class _NotFastYaml(Exception):
    """The fast YAML path met something it leaves to PyYAML's loader."""


class _Anchors:
    """One document's anchored values, and which anchored collections are still being filled.

    An alias to an unfinished collection makes a recursive structure, which
    the fast path leaves to PyYAML.
    """

    __slots__ = ("unfinished", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.unfinished: set[str] = set()


@cache
def _fast_yaml() -> Callable[[bytes], Any] | None:
    """A loader built directly on libyaml's event stream (None without libyaml).

    ``yaml.load`` with a C loader still composes a node tree in Python
    objects (two marks per node, all kept alive, so the garbage collector
    scans millions of them), resolves every scalar through a Python method,
    then walks the tree again to construct values: ~2.5 s for a 9 MB import
    file, against ~0.45 s here. Here the C parser's events become dicts,
    lists and scalars in one pass, and a plain scalar meets the resolver's
    regular expressions only when its first character can start one (most
    are text).

    The rules are read from :func:`_loader`'s resolvers and constructors, so
    the values are the same. Events are consumed in the order PyYAML's
    composer consumes them, and every case its composer or constructor would
    reject raises :class:`_NotFastYaml` (or the constructor's ``ValueError``)
    when it is met, so a libyaml error raised here is the one the old loader
    raises too.
    """
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None
    from yaml.constructor import SafeConstructor
    from yaml.events import (
        AliasEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )
    from yaml.nodes import ScalarNode

    loader = _loader()
    if loader.yaml_implicit_resolvers.get(None):
        return None  # resolvers for any first character: every scalar needs them
    resolvers: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
        first: tuple(pairs) for first, pairs in loader.yaml_implicit_resolvers.items()
    }
    constructors = loader.yaml_constructors
    constructor = SafeConstructor()
    text, merge, equals = (f"tag:yaml.org,2002:{name}" for name in ("str", "merge", "value"))

    def resolve(value: str) -> str:
        """The tag of a plain scalar, as ``Resolver.resolve`` finds it."""
        for tag, pattern in resolvers.get(value[:1], ()):
            if pattern.match(value):
                return tag
        return text

    def construct(tag: str, value: str) -> Any:
        """The Python value of a scalar, by the same constructor as before."""
        if tag == text:
            return value
        function = constructors.get(tag)
        if function is None:  # ``<<`` or ``=`` in a place that is not a key
            raise _NotFastYaml
        return function(constructor, ScalarNode(tag, value))

    def node(get: Callable[[], Any], event: Any, anchors: _Anchors) -> Any:
        """Any node: the general case, for collections, aliases, anchors and tags."""
        kind = event.__class__
        if kind is AliasEvent:
            if event.anchor not in anchors.values or event.anchor in anchors.unfinished:
                raise _NotFastYaml  # undefined alias, or a recursive structure
            return anchors.values[event.anchor]
        if event.tag is not None and event.tag != "!":
            raise _NotFastYaml  # explicit tags: rare, and PyYAML has many
        anchor = event.anchor
        if anchor is not None and anchor in anchors.values:
            raise _NotFastYaml  # duplicate anchor
        if kind is ScalarEvent:
            value = event.value
            if event.implicit[0]:
                value = construct(resolve(value), value)
            if anchor is not None:
                anchors.values[anchor] = value
            return value
        if kind is not MappingStartEvent and kind is not SequenceStartEvent:
            raise _NotFastYaml
        container: Any = {} if kind is MappingStartEvent else []
        if anchor is not None:
            anchors.values[anchor] = container
            anchors.unfinished.add(anchor)
        if kind is MappingStartEvent:
            fill_mapping(get, container, anchors)
        else:
            fill_sequence(get, container, anchors)
        if anchor is not None:
            anchors.unfinished.discard(anchor)
        return container

    def fill_mapping(get: Callable[[], Any], mapping: dict[Any, Any], anchors: _Anchors) -> None:
        """Keys and values up to the mapping's end."""
        while True:
            event = get()
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                key: Any = event.value
                if event.implicit[0] and key[:1] in resolvers:
                    tag = resolve(key)
                    if tag == merge:
                        # ``<<`` merges: how keys from several merged mappings combine
                        # (which wins, in what order) has changed between PyYAML
                        # releases; PyYAML's own loader gives what it gives.
                        raise _NotFastYaml
                    if tag != equals:  # ``=`` as a key is the text "="
                        key = construct(tag, key)
            elif event.__class__ is MappingEndEvent:
                break
            else:
                key = node(get, event, anchors)
                if key.__class__ is dict or key.__class__ is list:
                    raise _NotFastYaml  # unhashable key
            event = get()
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                value: Any = event.value
                if event.implicit[0] and value[:1] in resolvers:
                    value = construct(resolve(value), value)
            else:
                value = node(get, event, anchors)
            mapping[key] = value

    def fill_sequence(get: Callable[[], Any], sequence: list[Any], anchors: _Anchors) -> None:
        """Items up to the sequence's end."""
        append = sequence.append
        while True:
            event = get()
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                value = event.value
                if event.implicit[0] and value[:1] in resolvers:
                    value = construct(resolve(value), value)
                append(value)
            elif event.__class__ is SequenceEndEvent:
                return
            else:
                append(node(get, event, anchors))

    def load(raw: bytes) -> Any:
        """The single document in ``raw``, or None for an empty stream."""
        get = CParser(raw).get_event
        get()  # stream start
        if get().__class__ is StreamEndEvent:
            return None
        document = node(get, get(), _Anchors())
        get()  # document end
        if get().__class__ is not StreamEndEvent:
            raise _NotFastYaml  # a second document
        return document

    return load


@cache
def _loader() -> Any:
    """libyaml's safe loader (pure Python if absent) that leaves dates as text.

    Dates are then parsed by opmodel's own strict rules, so ``2023-02-30`` is
    reported against its entry and field rather than by the YAML parser.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc,valid-type]
        yaml_implicit_resolvers = {
            first: [
                (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"
            ]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }

    return Loader
