"""The operating model read model: everything ``show`` reports, as SQL tables.

Money is held in whole pence (``BIGINT``), exact and summable in SQL; dates as
SQL dates. Derived contract dates (``end``, ``max_end``) and the ``expired``
status depend on the day asked about, so :func:`query_model` computes them.

One concern per module: :mod:`.tables` (the tables and their metadata),
:mod:`.statements` (the prepared statements, numbered in :data:`STATEMENTS`),
:mod:`.handlers` (each event as operations), :mod:`.projection` (a batch as
grouped operations) and :mod:`.query` (the tables as ``show --json``).
"""

from opmodel.projections.operating_model.projection import (
    OperatingModelProjection,
    changes_the_model,
)
from opmodel.projections.operating_model.query import department_ids, query_model
from opmodel.projections.operating_model.statements import STATEMENTS
from opmodel.projections.operating_model.tables import (
    clusters,
    departments,
    facts,
    metadata,
    phases,
)

__all__ = [
    "STATEMENTS",
    "OperatingModelProjection",
    "changes_the_model",
    "clusters",
    "department_ids",
    "departments",
    "facts",
    "metadata",
    "phases",
    "query_model",
]
