"""opmodel: an event-sourced, auditable record of a shared-services programme's operating model.

The public API::

    from opmodel import Service, commands, make_meta

    with Service.open("sqlite:///programme.db", write=True) as store:
        store.execute([(commands.build("cluster form", {"name": "Synergy"}), make_meta())])
        print(store.show())
"""

from opmodel import commands
from opmodel.domain.values import parse_code, parse_date, parse_money
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
    "parse_money",
]
__version__ = "0.1.0"
