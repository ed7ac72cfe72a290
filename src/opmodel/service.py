"""The public face of opmodel: open a store, run commands, read the model and its history.

A :class:`Service` is a thin facade over the parts of an opened store, each of
which can be used on its own:

- :attr:`database` (:class:`~opmodel.store.database.Database`): connections,
  transactions, the stored events;
- :attr:`read_models` (:class:`~opmodel.catchup.CatchUp`): the read models
  brought up to date, rebuilt, followed;
- :attr:`writer` (:class:`~opmodel.writing.Writer`): commands run as one atomic
  unit, then the read models caught up;
- :attr:`queries` (:class:`~opmodel.queries.Queries`): the model now or at a
  point in time, what changed, the history.

Write commands bring every read model up to date before they return.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opmodel.catchup import CatchUp
from opmodel.queries import Queries
from opmodel.store.database import Database
from opmodel.store.location import StoreLocation, locate
from opmodel.writing import Outcome, Writer, make_meta

if TYPE_CHECKING:
    from opmodel.application import OperatingModel, Saved
    from opmodel.commands import Command
    from opmodel.domain.values import Meta
    from opmodel.importing.parse import Document
    from opmodel.importing.run import Progress
    from opmodel.projections.results import Diff, HistoryEntry, Model, ReplayStep

__all__ = ["Outcome", "Service", "make_meta"]


class Service:
    """An opened store: the write side, the read models, and the queries."""

    def __init__(self, location: StoreLocation, *, write: bool, read_only: bool = False) -> None:
        self.location = location
        self.write = write
        # read_only (the CLI's read commands): an SQLite file is opened mode=ro, so a
        # read-only file or filesystem can be read; nothing can be caught up then.
        self.database = Database(location, read_only=read_only and not write)
        self.read_models = CatchUp(self.database)
        self.writer = Writer(self.database, self.read_models)
        self.queries = Queries(self.database)
        try:
            if write:
                self.database.prepare(
                    lambda: self.writer.open(create_tables=True), self.read_models.tables
                )
            else:
                self.database.require_exists()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(
        cls, url: str | None = None, *, write: bool = False, read_only: bool = False
    ) -> Service:
        """Open the store at ``url`` (or ``OPMODEL_STORE``, or ``./opmodel.db``);
        ``read_only``: only to read (an SQLite file opened read-only)."""
        return cls(locate(url), write=write, read_only=read_only)

    @property
    def app(self) -> OperatingModel:
        """The write side (eventsourcing's application on the store)."""
        return self.writer.app

    def close(self) -> None:
        """Release connections."""
        self.writer.close()
        self.database.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------

    def execute(self, items: Sequence[tuple[Command, Meta]]) -> Outcome:
        """Run commands as one atomic unit, then bring the read models up to date."""
        if not self.write:  # pragma: no cover - a programming error
            raise RuntimeError("this store was opened read-only")
        return self.writer.execute(items)

    def import_file(
        self,
        path: Path,
        *,
        actor: str | None = None,
        reason: str | None = None,
        source: str | None = None,
        progress: Progress | None = None,
        parsed: Callable[[], Document] | None = None,
    ) -> dict[str, Any]:
        """Validate a whole import file, then apply it as one atomic change (once only).

        ``parsed``: gives the file's document if it is parsed elsewhere
        (:class:`~opmodel.importing.prefetch.Prefetched`).
        """
        from opmodel.importing.run import import_file

        return import_file(
            self.writer,
            path,
            actor=actor,
            reason=reason,
            source=source,
            progress=progress,
            parsed=parsed,
        )

    # --- the stored events and the read models -------------------------------------------

    def head(self) -> int:
        """The position of the last stored event (0 when empty)."""
        return self.database.head()

    def catch_up(
        self,
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
        *,
        just_saved: Saved | None = None,
    ) -> int:
        """Apply every stored event a read model has not applied yet; returns how many."""
        return self.read_models.run(names, progress, just_saved=just_saved)

    def follow(
        self,
        *,
        interval: float = 1.0,
        stop: threading.Event | None = None,
        on_applied: Callable[[int, int], None] | None = None,
    ) -> int:
        """Keep every read model up to date until ``stop`` is set; returns events applied."""
        channel = None
        if self.location.kind == "postgresql":
            channel = getattr(self.app.recorder, "channel_name")  # noqa: B009
        return self.read_models.follow(
            channel=channel, interval=interval, stop=stop, on_applied=on_applied
        )

    def projection_names(self, name: str | None) -> list[str]:
        """All read models' names, or ``[name]`` if it is one of them."""
        return self.read_models.names(name)

    def rebuild(
        self, names: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Drop the named read models and apply every event again from position 1."""
        return self.read_models.rebuild(names, progress)

    def status(self) -> list[dict[str, Any]]:
        """Each read model's position against the store's head."""
        return self.read_models.status()

    # --- queries -------------------------------------------------------------------------

    def show(
        self,
        *,
        cluster: str | None = None,
        as_of: str | date | None = None,
        as_recorded: str | None = None,
        at_phase: str | None = None,
    ) -> Model:
        """The operating model (``show --json``): now, or at a point in time."""
        return self.queries.show(
            cluster=cluster, as_of=as_of, as_recorded=as_recorded, at_phase=at_phase
        )

    def diff(self, start: str, end: str) -> Diff:
        """What changed between two points (each a date, ``@POS`` or ``phase:C:N``)."""
        return self.queries.diff(start, end)

    def replay(self, until: str | None = None) -> Iterator[ReplayStep]:
        """Event by event, in position order, what each changed in the model."""
        return self.queries.replay(until)

    def history(self, **filters: Any) -> list[HistoryEntry]:
        """The audit history, oldest first (``history --json``)."""
        return self.queries.history(**filters)
