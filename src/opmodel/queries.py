"""The read side's questions: the model now or at a point in time, what changed, the history.

Every answer comes from the read models (the present) or from the events
themselves applied by time travel (:mod:`opmodel.timetravel`, a past). Nothing
here writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from opmodel import timetravel
from opmodel.diffing import diff_models
from opmodel.projections.history import query_history
from opmodel.projections.operating_model import query_model
from opmodel.projections.results import Diff, HistoryEntry, Model, ReplayStep
from opmodel.projections.tracking import tracked_position
from opmodel.store.database import Database


class Queries:
    """What ``show``, ``diff``, ``replay`` and ``history`` answer, for one store."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def show(
        self,
        *,
        cluster: str | None = None,
        as_of: str | date | None = None,
        as_recorded: str | None = None,
        at_phase: str | None = None,
    ) -> Model:
        """The operating model (``show --json``): now, or at a point in time."""
        if as_of is not None or as_recorded is not None or at_phase is not None:
            point = timetravel.point_in_time(
                self.database, as_of=as_of, as_recorded=as_recorded, at_phase=at_phase
            )
            return Model.from_json(timetravel.model_at(self.database, point, cluster=cluster))
        with self.database.connect() as conn:
            position = tracked_position(conn, "operating_model")
            model = query_model(conn, cluster=cluster, on=date.today())
        return Model.from_json({"position": position, "as_of": None, "as_recorded": None, **model})

    def diff(self, start: str, end: str) -> Diff:
        """What changed between two points (each a date, ``@POS`` or ``phase:C:N``)."""
        points = [timetravel.point_from_reference(self.database, ref) for ref in (start, end)]
        before, after = (timetravel.model_at(self.database, p, with_ids=True) for p in points)
        return Diff.from_json(
            {
                "from": {"point": start, "position": before["position"], "as_of": before["as_of"]},
                "to": {"point": end, "position": after["position"], "as_of": after["as_of"]},
                "changes": diff_models(before, after),
            }
        )

    def replay(self, until: str | None = None) -> Iterator[ReplayStep]:
        """Event by event, in position order, what each changed in the model."""
        database = self.database
        position = (
            timetravel.position_recorded_by(database, until, what="--until") if until else None
        )
        point = timetravel.PointInTime(position=position)
        with database.connect() as conn:
            rows = {r["position"]: r for r in query_history(conn, up_to=point.position)}
        builder = timetravel.ModelBuilder()
        try:
            today = date.today()
            previous = builder.model(cluster=None, on=today, with_ids=True)
            for envelope in timetravel.select_events(database, point, every_event=True):
                builder.apply([envelope])
                current = builder.model(cluster=None, on=today, with_ids=True)
                row = rows.get(envelope.position, {})
                yield ReplayStep.from_json(
                    {
                        "position": envelope.position,
                        "recorded_at": row.get("recorded_at"),
                        "effective": envelope.meta.effective,
                        "actor": envelope.meta.actor,
                        "event": envelope.name,
                        "subject": row.get("subject"),
                        "summary": row.get("summary"),
                        "changes": diff_models(previous, current),
                    }
                )
                previous = current
        finally:
            builder.close()

    def history(self, **filters: Any) -> list[HistoryEntry]:
        """The audit history, oldest first (``history --json``)."""
        with self.database.connect() as conn:
            rows = query_history(conn, **filters)
        return [HistoryEntry.from_json(row) for row in rows]
