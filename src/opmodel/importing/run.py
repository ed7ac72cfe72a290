"""An import run: a validated file applied as one atomic change, once only.

The file is read and parsed (:mod:`.parse`), validated as a whole
(:mod:`.validate`), refused if it was imported before, then every entry is
applied in one unit of work, with the import's own record first, and saved
at once. Errors come in the file's order: its shape, an invalid entry, already
imported, then the first entry that breaks a domain rule (named by number).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from opmodel.application import UnitOfWork
from opmodel.domain import ImportBatch
from opmodel.domain.values import Meta
from opmodel.errors import AlreadyImported, OpmodelError
from opmodel.importing.parse import Document, load
from opmodel.importing.validate import name_entry, validate
from opmodel.projections.history import history as history_table
from opmodel.store.execution import gc_paused
from opmodel.writing import Writer, make_meta


class Progress(Protocol):
    """Something that shows progress: told the total, then advanced."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


def import_file(
    writer: Writer,
    path: Path,
    *,
    actor: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    parsed: Callable[[], Document] | None = None,
) -> dict[str, Any]:
    """Validate a whole import file, then apply it as one atomic change (once only).

    ``parsed``: gives the file's document when it is being parsed elsewhere
    (:class:`~opmodel.importing.prefetch.Prefetched`); else it is parsed here.
    """
    with gc_paused():  # hundreds of thousands of objects, alive until the save
        document = parsed() if parsed is not None else load(path)
        return _import_file(writer, path, document, actor, reason, source, progress)


def _import_file(
    writer: Writer,
    path: Path,
    document: Document,
    actor: str | None,
    reason: str | None,
    source: str | None,
    progress: Progress | None,
) -> dict[str, Any]:
    command_id = uuid.uuid4().hex

    def meta_for(**fields: Any) -> Meta:
        given = {"actor": actor, "reason": reason, "source": source}
        return make_meta(**{**given, **{k: v for k, v in fields.items() if v is not None}})

    plan = validate(path, document, meta_for, command_id=command_id)
    # Refuse a second import before showing progress; the unit of work checks
    # again, atomically, in case another writer imports the file meanwhile.
    writer.check(lambda uow: _refuse_if_imported(writer, uow, plan.sha256, plan.filename))
    if progress is not None:
        progress.start(len(plan.items))
    first = plan.items[0][1]
    batch_meta = make_meta(
        command_id=command_id,
        actor=first.actor,
        reason=reason or f"import of {plan.filename}",
        source=source or f"import file {plan.filename} (sha256 {plan.sha256})",
    )

    def work(uow: UnitOfWork) -> list[str | None]:
        _refuse_if_imported(writer, uow, plan.sha256, plan.filename)
        results: list[str | None] = []
        for number, (command, meta) in enumerate(plan.items, start=1):
            try:
                results.append(command.run(writer.app, uow, meta))
            except OpmodelError as exc:
                raise name_entry(number, command, exc) from exc
            if progress is not None:
                progress.advance(1)
        # The import's own record comes first; its entry count is known only now.
        batch = ImportBatch(
            sha256=plan.sha256, filename=plan.filename, entries=len(plan.items), meta=batch_meta
        )
        uow.stage(batch, first=True)
        return results

    results, saved = writer.save(work, bulk=True)
    return {
        "file": plan.filename,
        "sha256": plan.sha256,
        "command_id": command_id,
        "entries": len(plan.items),
        "events": len(saved.positions),
        "first_position": saved.positions[0] if saved.positions else None,
        "last_position": saved.head,
        "decisions": [r for r in results if r],
    }


def _refuse_if_imported(writer: Writer, uow: UnitOfWork, sha256: str, filename: str) -> None:
    existing = uow.get(ImportBatch, ImportBatch.create_id(sha256))
    if existing is not None:
        with writer.database.connect() as conn:
            row = conn.execute(
                select(history_table.c.position).where(
                    history_table.c.subject == f"import:{sha256[:12]}"
                )
            ).first()
        where = f" at position {row.position}" if row else ""
        raise AlreadyImported(
            f"import file {filename} (sha256 {sha256[:12]}…) was already "
            f"imported {existing.created_on:%Y-%m-%d %H:%M:%S} UTC{where}; nothing was written",
            sha256=sha256,
        )
