"""Running read-model statements, many at a time, as fast as the database allows.

A read model turns each event into *operations* (a Core statement and its
parameters, or a statement and many :class:`Rows`). :func:`run_operations`
sends runs of the same statement as one ``executemany``; on SQLite it sends
them straight to the ``sqlite3`` cursor, compiled once per process
(:mod:`opmodel.store.sqlite`). :func:`fetch_rows` reads the same way.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import Connection, Executable, Select

from opmodel.store.sqlite import CursorPlan, compile_for_cursor, cursor_plan


class Rows(NamedTuple):
    """Many rows for one statement, as tuples of ``columns`` (a read model's bulk insert).

    Cheaper to make than a mapping per row; :func:`prepare` sends them to SQLite's
    cursor as they are (in the statement's column order, bind processors applied),
    or turns them into mappings for SQLAlchemy.
    """

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def mappings(self) -> list[dict[str, Any]]:
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self.rows]


#: A statement and one row's parameters.
Operation = tuple[Executable, dict[str, Any]]
#: What a read model may also give: a statement and many :class:`Rows`.
AnyOperation = Operation | tuple[Executable, Rows]


def run_operations(conn: Connection, operations: Iterable[AnyOperation]) -> None:
    """Execute operations in order, sending runs of the same statement as one executemany.

    On SQLite each statement is compiled once per process and its rows go straight
    to the DBAPI cursor (same SQL, same bind processing, same transaction), which
    skips SQLAlchemy's per-execution work: a rebuild is ~100,000 small statements,
    and that work was most of its time. Statements the shortcut cannot run exactly as
    SQLAlchemy would (Python-side defaults, expanding or renamed binds), and every
    statement on PostgreSQL, where SQLAlchemy batches inserts into multi-row
    ``VALUES``, go through ``Connection.execute``.
    """
    run_prepared(conn, prepare(conn, operations))


class Prepared(NamedTuple):
    """A run of operations with one statement, ready to execute (:func:`prepare`)."""

    statement: Executable
    params: list[dict[str, Any]] | Rows  # as given (Rows: turned into mappings if need be)
    plan: CursorPlan | None  # compiled for SQLite's cursor (None: through SQLAlchemy)
    rows: list[tuple[Any, ...]]  # the plan's positional rows

    def mappings(self) -> list[dict[str, Any]]:
        params = self.params
        return params.mappings() if isinstance(params, Rows) else params


def prepare(conn: Connection, operations: Iterable[AnyOperation]) -> list[Prepared]:
    """Operations grouped into runs of one statement, compiled and turned into rows.

    The work :func:`run_prepared` then has left is the database's, so it can be done
    before a write lock is taken (ADR 0008).
    """
    direct = conn.dialect.name == "sqlite"
    prepared: list[Prepared] = []
    pending: list[dict[str, Any]] = []
    current: Executable | None = None

    def close_run() -> None:
        assert current is not None
        plan = cursor_plan(conn, current, tuple(pending[0])) if direct else None
        prepared.append(Prepared(current, pending, plan, plan.rows(pending) if plan else []))

    for statement, params in operations:
        if isinstance(params, Rows):
            if pending:
                close_run()
                pending = []
            if params.rows:  # no rows, nothing to run
                prepared.append(_prepare_rows(conn, statement, params, direct=direct))
            continue
        # One executemany needs one statement and the same parameter names.
        if pending and (statement is not current or params.keys() != pending[0].keys()):
            close_run()
            pending = []
        current = statement
        pending.append(params)
    if pending:
        close_run()
    return prepared


def _prepare_rows(conn: Connection, statement: Executable, rows: Rows, *, direct: bool) -> Prepared:
    columns = rows.columns
    plan = cursor_plan(conn, statement, columns) if direct else None
    if plan is None or plan.constants or sorted(plan.names) != sorted(columns):
        mappings = rows.mappings()
        return Prepared(statement, mappings, plan, plan.rows(mappings) if plan else [])
    values = rows.rows
    if plan.names != columns:  # the statement's order, not the one given
        order = [columns.index(name) for name in plan.names]
        values = [tuple(row[i] for i in order) for row in values]
    if plan.processors:
        at = [(plan.names.index(name), process) for name, process in plan.processors.items()]
        processed = []
        for row in values:
            items = list(row)
            for index, process in at:
                items[index] = process(items[index])
            processed.append(tuple(items))
        values = processed
    return Prepared(statement, rows, plan, values)


def run_prepared(conn: Connection, prepared: Iterable[Prepared]) -> None:
    """Execute prepared runs in order (see :func:`run_operations`)."""
    # Straight to the cursor only inside a transaction SQLAlchemy began, so that the
    # rows commit or roll back with it.
    direct = conn.dialect.name == "sqlite" and conn.in_transaction()
    cursor: Any = None
    try:
        for run in prepared:
            if run.plan is None or not direct:
                conn.execute(run.statement, run.mappings())
                continue
            if cursor is None:
                cursor = conn.connection.cursor()
            if len(run.rows) == 1:
                cursor.execute(run.plan.sql, run.rows[0])
            else:
                cursor.executemany(run.plan.sql, run.rows)
    finally:
        if cursor is not None:
            cursor.close()


def fetch_rows(conn: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of a query, as plain tuples.

    On SQLite, inside a transaction SQLAlchemy began, a query whose columns need
    no conversion (integers, text, bytes) runs on the DBAPI cursor, as
    :func:`run_operations` does: SQLAlchemy's ``Row`` per row is most of the cost
    of a read of many rows. Anything else goes through ``Connection.execute``.
    """
    if conn.dialect.name == "sqlite" and conn.in_transaction():
        dialect = conn.dialect
        plain = all(
            c.type.dialect_impl(dialect).result_processor(dialect, None) is None
            for c in statement.selected_columns
        )
        plan = compile_for_cursor(conn, statement, ()) if plain else None
        if plan is not None:
            cursor = conn.connection.cursor()
            try:
                rows: list[tuple[Any, ...]] = cursor.execute(
                    plan.sql, plan.rows([{}])[0]
                ).fetchall()
            finally:
                cursor.close()
            return rows
    return [tuple(row) for row in conn.execute(statement)]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off Python's cycle collector during bulk work, then let it run again.

    An import, a batch of read-model rows or a past model allocates hundreds of
    thousands of objects that stay alive until the work ends; the collector,
    triggered by allocation counts, would walk them again and again (~20% of an
    import's time; reading 48,768 events for ``--as-of`` took ~1.7x as long) to
    find almost no cycles. Reference counting still frees everything else at
    once, and the collector runs as usual afterwards. Nested uses leave it off
    until the outermost ends.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
