"""The operating model's aggregates, their events and rules, and its values.

Nothing here knows about storage, projections or the command line.

Names are imported on first use: eventsourcing builds every event class when
its module is imported, so a command that touches departments only does not
pay for clusters, contracts and decisions, and one that reads no event (``show``,
``audit verify``) pays for none of them. Stored events name their class by
topic (``opmodel.domain.department:Department.Registered``), which imports the
module it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opmodel.domain.base import Entity, natural_id
    from opmodel.domain.cluster import Cluster
    from opmodel.domain.contract import Contract
    from opmodel.domain.decision import Decision, DecisionNumbering, decision_id
    from opmodel.domain.department import Department, DepartmentCode
    from opmodel.domain.imports import ImportBatch
    from opmodel.domain.phases import Phase
    from opmodel.domain.terms import ContractTerms
    from opmodel.domain.values import Meta

__all__ = [
    "Cluster",
    "Contract",
    "ContractTerms",
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

_WHERE = {
    "Entity": "base",
    "natural_id": "base",
    "Cluster": "cluster",
    "Phase": "phases",
    "Contract": "contract",
    "ContractTerms": "terms",
    "Decision": "decision",
    "DecisionNumbering": "decision",
    "decision_id": "decision",
    "Department": "department",
    "DepartmentCode": "department",
    "ImportBatch": "imports",
    "Meta": "values",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'opmodel.domain' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"opmodel.domain.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
