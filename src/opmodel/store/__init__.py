"""The store: where the events live, and the database under them (the bottom layer).

- :mod:`~opmodel.store.location`: store URLs and the settings they give;
- :mod:`~opmodel.store.database`: :class:`~opmodel.store.database.Database`,
  which every layer above takes (connections, transactions, reading events);
- :mod:`~opmodel.store.codec`: how events are written and read back;
- :mod:`~opmodel.store.events`: a stored event as the rest of opmodel sees it;
- :mod:`~opmodel.store.execution`: running many read-model statements fast;
- :mod:`~opmodel.store.sqlite`, :mod:`~opmodel.store.postgres`: what each backend
  does its own way.

Nothing here imports anything of opmodel's but the domain's values and the errors.
This package's own import is light (the URL parsing only), so that a command
can find its store before SQLAlchemy is loaded.
"""

from opmodel.store.location import DEFAULT_STORE, StoreLocation, default_actor, locate

__all__ = ["DEFAULT_STORE", "StoreLocation", "default_actor", "locate"]
