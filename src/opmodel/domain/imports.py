"""An import: one file of commands applied as one atomic change, and never twice."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.values import Meta


class ImportBatch(Entity):
    """The record that a file (by its SHA-256) was imported."""

    class Event(Entity.Event):
        """Every event of this aggregate (see :class:`~opmodel.domain.base.Entity`)."""

    class Imported(Event, Entity.Created):
        class_version = 1
        sha256: str
        filename: str
        entries: int

    @staticmethod
    def create_id(sha256: str) -> UUID:
        """One record per distinct file content."""
        return natural_id("import", sha256)

    @event(Imported)
    def __init__(self, sha256: str, filename: str, entries: int, meta: Meta) -> None:
        self.sha256 = sha256
        self.filename = filename
        self.entries = entries
