"""Read models: SQL tables rebuilt from events, each applying every event exactly once.

One read model per module; each module holds its tables, its event handlers
and its queries. :data:`PROJECTIONS` lists them by name.
"""

from opmodel.projections.base import Envelope, Projection
from opmodel.projections.history import HistoryProjection
from opmodel.projections.ledger import LedgerProjection
from opmodel.projections.operating_model import OperatingModelProjection
from opmodel.projections.timeline import TimelineProjection

PROJECTIONS: dict[str, Projection] = {
    p.name: p
    for p in (
        OperatingModelProjection(),
        HistoryProjection(),
        LedgerProjection(),
        TimelineProjection(),
    )
}

__all__ = [
    "PROJECTIONS",
    "Envelope",
    "HistoryProjection",
    "LedgerProjection",
    "OperatingModelProjection",
    "Projection",
    "TimelineProjection",
]
