"""The write side: the only way to change the operating model.

Every change runs in a :class:`UnitOfWork`: a command (or a whole import)
loads the aggregates it needs, applies its rules, and the events it raised
are saved together in one transaction, in the order they were raised. A
rule that fails raises before anything is saved, so a failed command writes
nothing. When another writer changed one of the same aggregates first, the
whole unit is recomputed from the new state (a few times) before giving up
with :class:`~opmodel.errors.ConcurrentChange`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Transcoder
from eventsourcing.utils import Environment, EnvType

from opmodel.domain.values import Meta
from opmodel.errors import ConcurrentChange
from opmodel.handlers import ContractHandlers, DecisionHandlers, StructureHandlers
from opmodel.store.codec import EventMapper, make_transcoder, register_transcodings
from opmodel.unit_of_work import Saved, UnitOfWork

if TYPE_CHECKING:
    from opmodel.commands import Command

__all__ = ["OperatingModel", "Saved", "UnitOfWork"]

T = TypeVar("T")

#: How many times a unit of work is recomputed after losing a race.
RETRIES = 5


class OperatingModel(StructureHandlers, ContractHandlers, DecisionHandlers, Application[UUID]):
    """The programme's operating model, as an event-sourced application.

    Its command handlers are in :mod:`opmodel.handlers`; :meth:`handle` runs one.
    """

    name = "opmodel"
    mapper: EventMapper

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the settings opmodel gives (never ``OPMODEL_*`` from ``os.environ``)."""
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=EventMapper)

    def construct_transcoder(self) -> Transcoder:
        return make_transcoder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_transcodings(transcoder)

    # --- running units of work ----------------------------------------------

    def execute(
        self,
        work: Callable[[UnitOfWork], T],
        retries: int = RETRIES,
        *,
        bulk: bool = False,
        before_put: Callable[[list[Any]], None] | None = None,
    ) -> tuple[T, Saved]:
        """Run ``work`` in a unit of work and save what it raised, atomically.

        On losing a race with another writer, recompute from the new state. ``bulk``
        (an import: many loads) first asks whether the store is empty, and if it is,
        loads nothing from it. ``before_put`` is given the events raised just before
        they are saved (again if the unit runs again).
        """
        for _attempt in range(retries + 1):
            empty = bulk and not self.recorder.max_notification_id()
            uow = UnitOfWork(self, store_empty=empty)
            result = work(uow)
            if not uow.events:
                return result, Saved(())
            if before_put is not None:
                before_put(uow.events)
            try:
                # The event store's put is what Application.save comes down to here (no
                # snapshots, no repository cache), without save's runtime Protocol check
                # of every event, which costs ~10 µs an event on Python 3.11.
                recordings = self.events.put(uow.events)
            except IntegrityError:
                continue
            positions = tuple(
                r.notification.id for r in recordings if r.notification.id is not None
            )
            return result, Saved(positions, tuple(recordings))
        raise ConcurrentChange(
            "another writer kept changing the same records; nothing was written, "
            "run the command again"
        )

    def handle(self, uow: UnitOfWork, command: Command, meta: Meta) -> str | None:
        """Carry ``command`` out in ``uow`` with its handler; may return an id it created."""
        result: str | None = getattr(self, command.handler)(uow, command, meta)
        return result
