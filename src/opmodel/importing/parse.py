"""Import files read and parsed (YAML or JSON), not yet validated (:mod:`.validate` does that)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from opmodel.domain.values import MAX_NAME_LENGTH, check_text
from opmodel.errors import InvalidImportFile, InvalidInput

#: The largest import file opmodel reads; a larger one is refused before it is read.
MAX_FILE_BYTES: Final = 64 * 1024 * 1024
#: The most aliases (``*name``) a YAML import file may use.
MAX_ALIASES: Final = 10_000
#: How much aliases may add to a YAML document, in characters: each use counts the
#: text of what it names, aliases within included (a "billion laughs" adds gigabytes).
MAX_ALIAS_EXPANSION: Final = 4_000_000
#: The most digits a whole number in a JSON import file may have.
MAX_JSON_DIGITS: Final = 30


@dataclass(frozen=True)
class Document:
    """An import file's content as parsed, and the sha256 of its bytes."""

    sha256: str
    content: Any


def load(path: Path) -> Document:
    """Read and parse an import file (raising :class:`InvalidImportFile` if it cannot).

    Its name is recorded with the import, so it must be text a store can hold.
    """
    try:
        check_text(path.name, what="name", limit=MAX_NAME_LENGTH, one_line=True)
    except InvalidInput as exc:
        raise InvalidImportFile(
            f"import file {display(path)}: its {exc.message}; rename the file"
        ) from None
    raw, content = read_document(path)
    return Document(hashlib.sha256(raw).hexdigest(), content)


def display(path: Path) -> str:
    """A path as an error message shows it: undecodable bytes and controls escaped."""
    try:
        text = os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeError:  # a lone surrogate that no file system byte gives
        text = str(path).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if text.isprintable() else repr(text)[1:-1]


def read_document(path: Path) -> tuple[bytes, Any]:
    """The file's bytes and its parsed content (YAML, or JSON, which YAML also reads)."""
    shown = display(path)
    raw = _read(path, shown)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidImportFile(
            f"import file {shown} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start:,}): save it as UTF-8"
        ) from None
    if path.suffix.lower() == ".json":
        return raw, _load_json(text, shown)
    import yaml

    try:
        return raw, _load_yaml(raw)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidImportFile(f"import file {shown} is not valid YAML{at}: {exc}") from None
    except _Refused as exc:
        raise InvalidImportFile(f"import file {shown} is refused: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number; nesting past Python's
        problem = str(exc).split(";")[0] or type(exc).__name__
        raise InvalidImportFile(
            f"import file {shown} is not valid YAML: a value cannot be read ({problem})"
        ) from None


def _read(path: Path, shown: str) -> bytes:
    """A regular file's bytes, at most :data:`MAX_FILE_BYTES` of them.

    Opened without blocking, so a FIFO with no writer is refused rather than waited
    for; devices (``/dev/zero``) and directories are refused before any read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise InvalidImportFile(f"cannot read import file {shown}: {reason}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidImportFile(
                f"import file {shown} is not a regular file (it is {_file_kind(info.st_mode)}): "
                "give the path of a YAML or JSON file"
            )
        if info.st_size > MAX_FILE_BYTES:
            raise _too_large(shown)
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:  # it grew while read
            raise _too_large(shown)
        return b"".join(chunks)
    except OSError as exc:
        raise InvalidImportFile(f"cannot read import file {shown}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _too_large(shown: str) -> InvalidImportFile:
    return InvalidImportFile(
        f"import file {shown} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most "
        "opmodel reads: split it into several files"
    )


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a plain file"


def _index(mark: Any) -> int:
    """Where a YAML event's mark is in the document's text."""
    return int(mark.index)


def _span(event: Any) -> int:
    """How much of the document's text an event covers."""
    return _index(event.end_mark) - _index(event.start_mark)


class _Refused(Exception):
    """A document opmodel will not load, whatever its syntax (the message says why)."""


def _load_json(text: str, shown: str) -> Any:
    """A JSON document, refusing duplicate keys, long integers and NaN or Infinity."""

    def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _Refused(f"the key {key!r} appears twice in one mapping: give it once")
            result[key] = value
        return result

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_JSON_DIGITS:
            raise _Refused(f"a number has more than {MAX_JSON_DIGITS} digits")
        return int(digits)

    def constant(name: str) -> Any:
        raise _Refused(f"{name} is not a number JSON allows")

    try:
        return json.loads(
            text.removeprefix("\ufeff"),
            object_pairs_hook=mapping,
            parse_int=integer,
            parse_constant=constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidImportFile(
            f"import file {shown} is not valid JSON: {exc.msg} at line {exc.lineno}"
        ) from None
    except _Refused as exc:
        raise InvalidImportFile(f"import file {shown} is refused: {exc}") from None
    except RecursionError:
        raise InvalidImportFile(
            f"import file {shown} is refused: its lists or mappings are nested too deeply"
        ) from None


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
    _check_aliases(raw)
    return yaml.load(raw, Loader=_loader())


class _AliasBudget:
    """How far a document's aliases expand it, refused past :data:`MAX_ALIASES` uses or
    :data:`MAX_ALIAS_EXPANSION` characters.

    PyYAML shares one object between an anchor and its aliases, so a "billion
    laughs" document loads small, but whatever walks it afterwards walks every
    use. Each anchored node weighs its own text plus what the aliases inside it
    add; each alias adds the weight of the node it names.
    """

    __slots__ = ("added", "uses", "weights")

    def __init__(self) -> None:
        self.weights: dict[str, int] = {}
        self.uses = 0
        self.added = 0

    def alias(self, event: Any) -> None:
        """Count one use of an alias; refuse the document past the bounds."""
        self.uses += 1
        self.added += self.weights.get(event.anchor, 0)
        if self.uses > MAX_ALIASES or self.added > MAX_ALIAS_EXPANSION:
            raise _Refused(
                f"its aliases (*{event.anchor} at line {event.start_mark.line + 1} and before) "
                f"would expand it past {MAX_ALIASES:,} uses or {MAX_ALIAS_EXPANSION:,} "
                "characters: write the values out or use fewer aliases"
            )


def _check_aliases(raw: bytes) -> None:
    """Refuse a document whose aliases expand too far, before PyYAML's loader takes it.

    Only the first document's events are read; a syntax error is left for the
    loader to report as it always has.
    """
    import yaml
    from yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        DocumentEndEvent,
        ScalarEvent,
    )

    budget = _AliasBudget()
    open_collections: list[tuple[str | None, int, int]] = []
    try:
        for event in yaml.parse(raw, Loader=_loader()):
            if isinstance(event, AliasEvent):
                budget.alias(event)
            elif isinstance(event, ScalarEvent):
                if event.anchor is not None:
                    budget.weights[event.anchor] = _span(event)
            elif isinstance(event, CollectionStartEvent):
                open_collections.append((event.anchor, _index(event.start_mark), budget.added))
            elif isinstance(event, CollectionEndEvent):
                anchor, start, added = open_collections.pop()
                if anchor is not None:
                    weight = _index(event.end_mark) - start + budget.added - added
                    budget.weights[anchor] = weight
            elif isinstance(event, DocumentEndEvent):
                return
    except yaml.YAMLError:
        return


class _NotFastYaml(Exception):
    """The fast YAML path met something it leaves to PyYAML's loader."""


class _Anchors:
    """One document's anchored values, and which anchored collections are still being filled.

    An alias to an unfinished collection makes a recursive structure, which
    the fast path leaves to PyYAML.
    """

    __slots__ = ("budget", "unfinished", "values")

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.unfinished: set[str] = set()
        self.budget = _AliasBudget()


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
            anchors.budget.alias(event)
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
                anchors.budget.weights[anchor] = _span(event)
            return value
        if kind is not MappingStartEvent and kind is not SequenceStartEvent:
            raise _NotFastYaml
        container: Any = {} if kind is MappingStartEvent else []
        added = anchors.budget.added
        if anchor is not None:
            anchors.values[anchor] = container
            anchors.unfinished.add(anchor)
        if kind is MappingStartEvent:
            end = fill_mapping(get, container, anchors)
        else:
            end = fill_sequence(get, container, anchors)
        if anchor is not None:
            anchors.unfinished.discard(anchor)
            weight = end - event.start_mark.index + anchors.budget.added - added
            anchors.budget.weights[anchor] = weight
        return container

    def fill_mapping(get: Callable[[], Any], mapping: dict[Any, Any], anchors: _Anchors) -> int:
        """Keys and values up to the mapping's end (returned: where it ends in the text)."""
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
                return _index(event.end_mark)
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
            if key in mapping:
                raise _NotFastYaml  # a duplicate key: PyYAML's loader reports it
            mapping[key] = value

    def fill_sequence(get: Callable[[], Any], sequence: list[Any], anchors: _Anchors) -> int:
        """Items up to the sequence's end (returned: where it ends in the text)."""
        append = sequence.append
        while True:
            event = get()
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                value = event.value
                if event.implicit[0] and value[:1] in resolvers:
                    value = construct(resolve(value), value)
                append(value)
            elif event.__class__ is SequenceEndEvent:
                return _index(event.end_mark)
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
    """libyaml's safe loader (pure Python if absent) that leaves dates as text and
    refuses a key given twice in one mapping.

    Dates are then parsed by opmodel's own strict rules, so ``2023-02-30`` is
    reported against its entry and field rather than by the YAML parser.
    """
    import yaml
    from yaml.constructor import ConstructorError

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    merge = "tag:yaml.org,2002:merge"

    class Loader(base):  # type: ignore[misc,valid-type]
        yaml_implicit_resolvers = {
            first: [
                (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"
            ]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            """The mapping, once no key is written twice (``<<`` merges aside)."""
            if isinstance(node, yaml.MappingNode):
                own = [key for key, _ in node.value if key.tag != merge]
                self.flatten_mapping(node)
                seen: dict[Any, Any] = {}
                for key_node in own:
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        twice = key in seen
                    except TypeError:  # unhashable: the constructor says so below
                        continue
                    if twice:
                        raise ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found the key {key!r} twice: give each key once",
                            key_node.start_mark,
                        )
                    seen[key] = key_node
            return super().construct_mapping(node, deep=deep)

    return Loader
