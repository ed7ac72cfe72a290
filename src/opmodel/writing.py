"""Recording changes: commands run as one atomic unit, then the read models caught up.

:class:`Writer` owns the write side (:class:`~opmodel.application.OperatingModel`,
eventsourcing's application on the store's recorder) and the catch-up that
follows every save, so that a write command returns with every read model up
to date.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from opmodel.application import OperatingModel, Saved, UnitOfWork
from opmodel.catchup import CatchUp
from opmodel.catchup.two_cores import AheadOfSave
from opmodel.domain.values import Meta, check_meta_text, parse_effective
from opmodel.errors import InvalidInput, OpmodelError, ReadModelsBehind, StoreUnavailable
from opmodel.store.database import Database, first_line, store_error
from opmodel.store.location import default_actor

if TYPE_CHECKING:
    from opmodel.commands import Command

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What a write did: its command id, the positions written, any id it created."""

    command_id: str
    positions: tuple[int, ...]
    results: tuple[str | None, ...]


def make_meta(
    *,
    effective: date | None = None,
    actor: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    command_id: str | None = None,
) -> Meta:
    """Event metadata with the defaults of SPEC §3 (today, ``OPMODEL_ACTOR`` or login).

    An effective date after today is refused (:func:`parse_effective`).
    """
    check_meta_text(actor=actor, reason=reason, source=source)
    return Meta(
        effective=date.today() if effective is None else parse_effective(effective),
        actor=(actor or "").strip() or _default_actor(),
        command_id=command_id or uuid.uuid4().hex,
        reason=(reason or "").strip() or None,
        source=(source or "").strip() or None,
    )


def _default_actor() -> str:
    """``OPMODEL_ACTOR`` or the login name, held to the same rule as a given actor."""
    actor = default_actor()
    try:
        check_meta_text(actor=actor)
    except InvalidInput as exc:
        raise InvalidInput(
            f"{exc.message} (the actor comes from OPMODEL_ACTOR or the login name: "
            "set OPMODEL_ACTOR, or give --actor)"
        ) from None
    return actor


class Writer:
    """The write side of an opened store."""

    def __init__(self, database: Database, catch_up: CatchUp) -> None:
        self.database = database
        self.catch_up = catch_up
        self._app: OperatingModel | None = None

    @property
    def app(self) -> OperatingModel:
        """eventsourcing's application on the store (made on first use)."""
        if self._app is None:
            self.open(create_tables=False)
        assert self._app is not None
        return self._app

    def open(self, *, create_tables: bool) -> OperatingModel:
        """Make the application; with ``create_tables``, its recorder creates the event tables."""
        env = self.database.location.eventsourcing_env(create_tables=create_tables)
        try:
            self._app = OperatingModel(env=env)
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot open the event store at {self.database.location}: {first_line(exc)}"
            ) from exc
        return self._app

    def close(self) -> None:
        if self._app is not None:
            with suppress(Exception):
                self._app.close()
            self._app = None

    def execute(self, items: Sequence[tuple[Command, Meta]]) -> Outcome:
        """Run commands as one atomic unit, then bring the read models up to date."""

        def work(uow: UnitOfWork) -> tuple[str | None, ...]:
            return tuple(command.run(self.app, uow, meta) for command, meta in items)

        command_id = items[0][1].command_id if items else ""
        try:
            results, saved = self.save(work)
        except ReadModelsBehind as behind:
            results, saved = behind.outcome
            behind.outcome = Outcome(command_id, saved.positions, results)
            raise
        return Outcome(command_id, saved.positions, results)

    def save(self, work: Callable[[UnitOfWork], T], *, bulk: bool = False) -> tuple[T, Saved]:
        """Run a unit of work atomically, then bring the read models up to date.

        ``bulk`` (an import): load nothing from an empty store.

        Either nothing is committed and an error says why (exit 2-6), or the events
        are committed; if the read models then cannot be brought up to date, that is
        :class:`~opmodel.errors.ReadModelsBehind` (exit 8), carrying ``(result, saved)``
        as its ``outcome``: the write stands, and ``opmodel projections update``
        finishes the job.
        """
        # An import's read models are worked out by a helper while its events are saved.
        ahead = AheadOfSave(self.catch_up, self.catch_up.projections) if bulk else None
        try:
            try:
                outcome = self.app.execute(
                    work, bulk=bulk, before_put=ahead.start if ahead is not None else None
                )
            except OpmodelError:
                raise
            except Exception as exc:
                raise store_error(self.database.location, exc) from exc
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise
        try:
            if ahead is not None:
                ahead.finish(outcome[1])
            self.catch_up.run(just_saved=outcome[1])
        except Exception as exc:
            positions = outcome[1].positions
            where = f"positions {positions[0]}-{positions[-1]}" if positions else "nothing new"
            raise ReadModelsBehind(
                f"recorded ({where}), but the read models could not be updated: "
                f"{reason(exc)}; run opmodel projections update once the store is writable again",
                outcome,
            ) from exc
        return outcome

    def check(self, work: Callable[[UnitOfWork], object]) -> None:
        """Run ``work`` in a unit of work that saves nothing (a check before the real one)."""
        self.app.execute(work)


def reason(exc: BaseException) -> str:
    """Why a catch-up failed, in one line (an opmodel error's own message, else the first line)."""
    return exc.message if isinstance(exc, OpmodelError) else first_line(exc)
