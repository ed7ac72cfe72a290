"""opmodel: an event-sourced, auditable record of a shared-services programme's operating model.

The public API::

    from opmodel import Service, commands, make_meta

    with Service.open("sqlite:///programme.db", write=True) as store:
        store.execute([(commands.build("cluster form", {"name": "Synergy"}), make_meta())])
        print(store.show())

Names are imported on first use, so a command that only reads (``show``) does
not pay for the write side's validation models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opmodel import commands
    from opmodel.domain.values import parse_code, parse_date, parse_effective, parse_money
    from opmodel.errors import OpmodelError
    from opmodel.service import Outcome, Service, make_meta

__all__ = [
    "OpmodelError",
    "Outcome",
    "Service",
    "commands",
    "make_meta",
    "parse_code",
    "parse_date",
    "parse_effective",
    "parse_money",
]
__version__ = "0.1.0"

_WHERE = {
    "OpmodelError": "opmodel.errors",
    "Outcome": "opmodel.service",
    "Service": "opmodel.service",
    "make_meta": "opmodel.service",
    "parse_code": "opmodel.domain.values",
    "parse_date": "opmodel.domain.values",
    "parse_effective": "opmodel.domain.values",
    "parse_money": "opmodel.domain.values",
}


def __getattr__(name: str) -> Any:
    if name == "commands":
        return importlib.import_module("opmodel.commands")
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'opmodel' has no attribute {name!r}")
