"""What a database holds: its tables and their columns (to tell an outdated read model)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Table


def table_columns(conn: Connection) -> dict[str, set[str]]:
    """Each table of the connection's schema and its column names (one query)."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
            "WHERE m.type = 'table'"
        )
    else:
        rows = conn.exec_driver_sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return columns


def lacks_columns(tables: Iterable[Table], columns: dict[str, set[str]]) -> bool:
    """Whether any of ``tables`` is missing from ``columns``, or lacks one of its columns.

    A read model made by an earlier version: reads must not rely on it, and opening
    the store for writing makes it again.
    """
    return any(not {c.name for c in t.c} <= columns.get(t.name, set()) for t in tables)
