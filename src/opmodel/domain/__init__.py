"""The operating model's aggregates, their events and rules, and its values.

Nothing here knows about storage, projections or the command line.
"""

from opmodel.domain.base import Entity, natural_id
from opmodel.domain.cluster import Cluster, Phase
from opmodel.domain.contract import Contract
from opmodel.domain.decision import Decision, DecisionNumbering, decision_id
from opmodel.domain.department import Department, DepartmentCode
from opmodel.domain.imports import ImportBatch
from opmodel.domain.values import Meta

__all__ = [
    "Cluster",
    "Contract",
    "Decision",
    "DecisionNumbering",
    "Department",
    "DepartmentCode",
    "Entity",
    "ImportBatch",
    "Meta",
    "Phase",
    "decision_id",
    "natural_id",
]
