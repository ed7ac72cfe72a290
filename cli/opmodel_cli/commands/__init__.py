"""The CLI's commands, one module per noun group (``cluster``, ``contract``, …).

Each module holds a click group (or the reading commands) and nothing heavy at
its top: the store, SQLAlchemy, pydantic and rich are imported inside the
commands, so ``opmodel --help`` loads click and these modules only.
"""
