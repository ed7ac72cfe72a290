"""Bringing the read models up to date from the stored events (:class:`CatchUp`)."""

from opmodel.catchup.engine import BATCH_SIZE, BatchPlan, CatchUp, ReadModelTables

__all__ = ["BATCH_SIZE", "BatchPlan", "CatchUp", "ReadModelTables"]
