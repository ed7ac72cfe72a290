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

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from opmodel.commands import COMMANDS, Command, build
from opmodel.domain.values import Meta, parse_date
from opmodel.errors import InvalidImportFile, InvalidInput, OpmodelError

META_KEYS = ("effective", "actor", "reason", "source")


@dataclass(frozen=True)
class ImportPlan:
    """A validated import file: its identity and its commands with their metadata."""

    filename: str
    sha256: str
    items: list[tuple[Command, Meta]]


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
        return raw, yaml.load(raw, Loader=_loader())
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidImportFile(f"import file {path} is not valid YAML{at}: {exc}") from exc


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


def plan_import(
    path: Path,
    make_meta: Callable[..., Meta],
    *,
    command_id: str,
) -> ImportPlan:
    """Read and validate every entry of an import file; nothing is written."""
    raw, document = read_document(path)
    if not isinstance(document, Mapping):
        raise InvalidImportFile(
            f"import file {path} must be a mapping with 'version: 1' and 'entries:'"
        )
    unknown = set(document) - {"version", "defaults", "entries"}
    if unknown:
        raise InvalidImportFile(
            f"import file {path}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))};"
            " use version, defaults and entries"
        )
    if document.get("version") != 1:
        raise InvalidImportFile(
            f"import file {path}: version must be 1 (got {document.get('version')!r})"
        )
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - set(META_KEYS):
        raise InvalidImportFile(f"import file {path}: defaults may only set {', '.join(META_KEYS)}")
    entries = document.get("entries")
    if not isinstance(entries, list) or not entries:
        raise InvalidImportFile(f"import file {path}: 'entries' must be a non-empty list")

    base = _meta_fields(defaults, "defaults")
    items: list[tuple[Command, Meta]] = []
    for number, entry in enumerate(entries, start=1):
        command, fields = _entry(number, entry)
        merged = {**base, **fields}
        meta = make_meta(command_id=command_id, **merged)
        items.append((command, meta))
    return ImportPlan(path.name, hashlib.sha256(raw).hexdigest(), items)


def _meta_fields(mapping: Mapping[str, Any], where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key in META_KEYS:
        if key not in mapping or mapping[key] is None:
            continue
        value = mapping[key]
        if key == "effective":
            try:
                fields[key] = parse_date(
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
