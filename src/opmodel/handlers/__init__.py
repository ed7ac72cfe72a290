"""The write side's command handlers, one module per part of the model.

Each handler takes the frozen command (:mod:`opmodel.commands`), loads the
aggregates it concerns (:class:`~opmodel.handlers.finding.Finding`), lets them
check their rules and raise their events, and stages them in the unit of work.
:class:`~opmodel.application.OperatingModel` has them all.
"""

from opmodel.handlers.contracts import ContractHandlers
from opmodel.handlers.decisions import DecisionHandlers
from opmodel.handlers.structure import StructureHandlers

__all__ = ["ContractHandlers", "DecisionHandlers", "StructureHandlers"]
