"""The write side on an in-memory store, driven command by command (unit tests' harness)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from opmodel.application import OperatingModel
from opmodel.errors import OpmodelError
from opmodel.service import make_meta
from tests.handlers import command as handled

DAY = date(2023, 2, 1)


class AppModel:
    """The operating model on an in-memory store, driven command by command."""

    def __init__(self) -> None:
        self.app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def when(self, command: str, *args: Any, on: date = DAY) -> list[Any]:
        """Run the command ``app.<command>`` takes, its fields ``args``; the events it wrote."""
        given = handled(command, *args)
        meta = make_meta(effective=on, actor="tester")
        _, saved = self.app.execute(lambda uow: given.run(self.app, uow, meta))
        written = self.app.recorder.select_notifications(start=1, limit=1000)
        return [self.app.mapper.to_domain_event(n) for n in written if n.id in saved.positions]

    def names(self, command: str, *args: Any, on: date = DAY) -> list[str]:
        """The class names of the events a command wrote."""
        return [type(e).__qualname__ for e in self.when(command, *args, on=on)]

    def rejects(self, error: type[OpmodelError], command: str, *args: Any, on: date = DAY) -> Any:
        """Run a command that must fail with ``error`` and write nothing; the error."""
        before = self.head()
        with pytest.raises(error) as raised:
            self.when(command, *args, on=on)
        assert self.head() == before, "a rejected command wrote events"
        return raised.value
