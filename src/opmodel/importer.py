"""Import files: many commands, validated first, applied as one atomic change.

The format (SPEC §6)::

    version: 1
    defaults: {actor: programme-office}
    entries:
      - cluster form: {name: Synergy}
        effective: 2021-03-01
        reason: Shared Services Strategy assigns DWP, HO, MoJ and Defra to Synergy
        source: https://example.org/strategy
      - department join: {code: DWP, cluster: Synergy}

Each entry names one command with the CLI's words and gives its arguments
and options by their CLI names (kebab or snake case), plus any of
``effective``, ``actor``, ``reason``, ``source``; ``defaults`` apply to every
entry. Every entry is validated before anything is written; an error names
the entry (1-based) and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from opmodel.commands import COMMANDS, Command, build
from opmodel.documents import Part
from opmodel.domain.values import Meta, parse_effective
from opmodel.errors import InvalidImportFile, InvalidInput, OpmodelError

META_KEYS = ("effective", "actor", "reason", "source")


@dataclass(frozen=True)
class ImportPlan:
    """A validated import file: its identity and its commands with their metadata."""

    filename: str
    sha256: str
    items: list[tuple[Command, Meta]]


class Planner:
    """An import file validated part by part as it is read (:class:`~opmodel.documents.Parts`).

    :meth:`add` takes each part in the file's order and returns the entries it made
    ready: validated, with their metadata, numbered from 1. :meth:`plan` then checks
    the file as a whole and gives the plan, or raises the error that validating the
    whole file at once raises first (the file's shape, then the first entry in
    error), whatever order the parts came in.

    An entry's metadata depends on the file's ``defaults``, which may come after
    the entries: until they are known, entries are made ready with none. If the
    defaults turn out otherwise, :attr:`as_planned` is false and :meth:`plan`
    validates the entries again, so the entries made ready were not the plan's.
    """

    def __init__(self, path: Path, make_meta: Callable[..., Meta], *, command_id: str) -> None:
        self.path = path
        self._make_meta = make_meta
        self._command_id = command_id
        self._top: dict[Any, Any] = {}
        self._whole = False
        self._entries: list[Any] | None = None  # every entry as read (for plan())
        self._items: list[tuple[Command, Meta]] = []  # made ready so far
        self._base: dict[str, Any] | None = {}  # the defaults' fields (None: not valid)
        self._error: OpmodelError | None = None  # the first entry that failed
        self.as_planned = True

    def add(self, part: Part) -> list[tuple[int, Command, Meta]]:
        """Take the next part; the entries it made ready (none once one has failed)."""
        kind = part[0]
        if kind == "whole":
            self._whole = True
            self._top = {}
            return []
        if kind == "key":
            self._top[part[1]] = part[2]
            if part[1] == "defaults":
                self._defaults_changed()
            return []
        run = part[1]
        if self._entries is None:
            self._entries = []
            self._top["entries"] = self._entries
        first = len(self._entries) + 1
        self._entries.extend(run)
        return self._validate(run, first)

    def _validate(self, run: list[Any], first: int) -> list[tuple[int, Command, Meta]]:
        ready: list[tuple[int, Command, Meta]] = []
        if self._error is not None or self._base is None:
            return ready
        for number, entry in enumerate(run, start=first):
            try:
                command, fields = _entry(number, entry)
                meta = self._make_meta(command_id=self._command_id, **{**self._base, **fields})
            except OpmodelError as exc:
                self._error = exc
                break
            self._items.append((command, meta))
            ready.append((number, command, meta))
        return ready

    def _defaults_changed(self) -> None:
        """New defaults: the entries made ready before them no longer hold."""
        defaults = self._top["defaults"] or {}
        try:
            base = _defaults(self.path, defaults)
        except OpmodelError:
            base = None
        if base != self._base and (self._items or self._error is not None):
            self.as_planned = False
        self._base = base

    def plan(self, sha256: str) -> ImportPlan:
        """The whole file's plan, or the error validating it raises first."""
        path = self.path
        content = self._top
        if self._whole:
            raise InvalidImportFile(
                f"import file {path} must be a mapping with 'version: 1' and 'entries:'"
            )
        unknown = set(content) - {"version", "defaults", "entries"}
        if unknown:
            raise InvalidImportFile(
                f"import file {path}: unknown top-level key(s) "
                f"{', '.join(sorted(map(str, unknown)))}; use version, defaults and entries"
            )
        if content.get("version") != 1:
            raise InvalidImportFile(
                f"import file {path}: version must be 1 (got {content.get('version')!r})"
            )
        defaults = _defaults_mapping(path, content.get("defaults") or {})
        entries = content.get("entries")
        if not isinstance(entries, list) or not entries:
            raise InvalidImportFile(f"import file {path}: 'entries' must be a non-empty list")
        base = _meta_fields(defaults, "defaults")
        if not self.as_planned:  # validated against other defaults: again, with these
            self._items, self._error, self._base = [], None, base
            self._validate(entries, 1)
        if self._error is not None:
            raise self._error
        return ImportPlan(path.name, sha256, self._items)


def _defaults_mapping(path: Path, defaults: Any) -> Mapping[str, Any]:
    """The file's ``defaults``, if they are a mapping of metadata fields."""
    if not isinstance(defaults, Mapping) or set(defaults) - set(META_KEYS):
        raise InvalidImportFile(f"import file {path}: defaults may only set {', '.join(META_KEYS)}")
    return defaults


def _defaults(path: Path, defaults: Any) -> dict[str, Any]:
    """The fields the file's ``defaults`` give every entry."""
    return _meta_fields(_defaults_mapping(path, defaults), "defaults")


def _meta_fields(mapping: Mapping[str, Any], where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in META_KEYS:
        if key not in mapping or mapping[key] is None:
            continue
        value = mapping[key]
        if key == "effective":
            try:
                fields[key] = parse_effective(
                    value if isinstance(value, date) else str(value), what="effective"
                )
            except InvalidInput as exc:
                raise InvalidImportFile(f"{where}: effective: {exc.message}") from None
        else:
            fields[key] = str(value)
    return fields


def _entry(number: int, entry: Any) -> tuple[Command, dict[str, Any]]:
    where = f"entry {number}"
    if not isinstance(entry, Mapping):
        raise InvalidImportFile(f"{where}: must be a mapping naming one command")
    names = [k for k in entry if k not in META_KEYS]
    if len(names) != 1:
        raise InvalidImportFile(
            f"{where}: must name exactly one command (found {', '.join(map(str, names)) or 'none'})"
        )
    name = str(names[0]).strip()
    if name not in COMMANDS:
        raise InvalidImportFile(
            f"{where}: unknown command {name!r}; commands are named as on the command line, "
            f"like 'cluster form' or 'department join'"
        )
    arguments = entry[names[0]] or {}
    if not isinstance(arguments, Mapping):
        raise InvalidImportFile(f"{where} ({name}): arguments must be a mapping of option: value")
    try:
        command = build(name, arguments)
    except InvalidInput as exc:
        message = exc.message.removeprefix(f"{name}: ")
        raise InvalidImportFile(f"{where} ({name}): {message}") from None
    return command, _meta_fields(entry, f"{where} ({name})")


def name_entry(number: int, command: Command, error: OpmodelError) -> OpmodelError:
    """The same error, its message prefixed with the entry that raised it."""
    return type(error)(f"entry {number} ({command.name}): {error.message}", **error.ids)
