"""Import files validated: each entry a command with its metadata, the file as a whole.

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
from pathlib import Path
from typing import Any

from opmodel.commands import COMMANDS, Command, build
from opmodel.domain.values import (
    Meta,
    check_meta_text,
    kind_of,
    parse_effective,
    shown,
)
from opmodel.errors import InvalidImportFile, InvalidInput, OpmodelError
from opmodel.importing.parse import Document, display

META_KEYS = ("effective", "actor", "reason", "source")


@dataclass(frozen=True)
class ImportPlan:
    """A validated import file: its identity and its commands with their metadata."""

    filename: str
    sha256: str
    items: list[tuple[Command, Meta]]


def validate(
    path: Path, document: Document, make_meta: Callable[..., Meta], *, command_id: str
) -> ImportPlan:
    """The whole file's plan, or the first error: the file's shape, then the first
    entry in error (a domain rule is checked only when the plan is applied)."""
    content = document.content
    shown_path = display(path)
    if not isinstance(content, dict):
        raise InvalidImportFile(
            f"import file {shown_path} must be a mapping with 'version: 1' and 'entries:'"
        )
    unknown = set(content) - {"version", "defaults", "entries"}
    if unknown:
        raise InvalidImportFile(
            f"import file {shown_path}: unknown top-level key(s) "
            f"{', '.join(sorted(_key(key) for key in unknown))}; "
            "use version, defaults and entries"
        )
    version = content.get("version")
    if type(version) is not int or version != 1:  # not 1.0, not true: the integer 1
        raise InvalidImportFile(
            f"import file {shown_path}: version must be 1, the whole number "
            f"(got {shown(version) if isinstance(version, str | int) else kind_of(version)})"
        )
    defaults = content.get("defaults")
    defaults = _defaults_mapping(shown_path, {} if defaults is None else defaults)
    entries = content.get("entries")
    if not isinstance(entries, list) or not entries:
        raise InvalidImportFile(f"import file {shown_path}: 'entries' must be a non-empty list")
    base = _meta_fields(defaults, "defaults")
    items = []
    for number, entry in enumerate(entries, start=1):
        command, fields = _entry(number, entry)
        items.append((command, make_meta(command_id=command_id, **{**base, **fields})))
    return ImportPlan(path.name, document.sha256, items)


def _key(key: Any) -> str:
    """A key as an error message names it: short text as it is, anything else shown."""
    return key if isinstance(key, str) and len(key) <= 60 and key.isprintable() else shown(key)


def _defaults_mapping(shown_path: str, defaults: Any) -> Mapping[str, Any]:
    """The file's ``defaults``, if they are a mapping of metadata fields."""
    if not isinstance(defaults, Mapping) or set(defaults) - set(META_KEYS):
        raise InvalidImportFile(
            f"import file {shown_path}: defaults may only set {', '.join(META_KEYS)}, as a mapping"
        )
    return defaults


def _meta_fields(mapping: Mapping[str, Any], where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in META_KEYS:
        if key not in mapping or mapping[key] is None:
            continue
        value = mapping[key]
        try:
            if key == "effective":
                fields[key] = parse_effective(value, what="effective")
            else:
                check_meta_text(**{key: value})
                fields[key] = value
        except InvalidInput as exc:
            message = exc.message.removeprefix(f"{key} ")
            raise InvalidImportFile(f"{where}: {key}: {message}") from None
    return fields


def _entry(number: int, entry: Any) -> tuple[Command, dict[str, Any]]:
    where = f"entry {number}"
    if not isinstance(entry, Mapping):
        raise InvalidImportFile(f"{where}: must be a mapping naming one command")
    names = [k for k in entry if k not in META_KEYS]
    if len(names) != 1:
        raise InvalidImportFile(
            f"{where}: must name exactly one command "
            f"(found {', '.join(shown(n) for n in names) or 'none'})"
        )
    name = names[0].strip() if isinstance(names[0], str) else names[0]
    if not isinstance(name, str) or name not in COMMANDS:
        raise InvalidImportFile(
            f"{where}: unknown command {shown(name)}; commands are named as on the command "
            f"line, like 'cluster form' or 'department join'"
        )
    arguments = entry[names[0]]
    arguments = {} if arguments is None else arguments
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
