"""What every read model shares: tracking positions, batched application, catch-up.

A read model turns each event into zero or more *operations* (a Core
statement and its parameters). A batch of events becomes one transaction:
consecutive operations that use the same statement go to the database as one
``executemany``, and the read model's tracking row moves from the position
it had to the batch's last position *in the same transaction*, guarded by
``WHERE position = :old``. So every event is applied exactly once: a crash
rolls the batch back and the next catch-up resumes from the tracked
position; a second process applying the same batch finds the position moved
and its transaction is rolled back instead of applying the batch twice.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple, Protocol
from uuid import UUID

import orjson
from sqlalchemy import (
    ClauseElement,
    Column,
    Connection,
    Executable,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from opmodel.domain.values import Meta, format_money
from opmodel.errors import ConcurrentChange

tracking_metadata = MetaData()

projection_tracking = Table(
    "projection_tracking",
    tracking_metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
)

#: Events of these aggregates are bookkeeping (code index, numbering): they change no model.
INTERNAL_AGGREGATES = frozenset({"DepartmentCode", "DecisionNumbering"})

BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "meta", "originator_topic"}
)


class Envelope(NamedTuple):
    """One stored event as read models see it: its position and the domain event.

    A named tuple, because a rebuild makes one per stored event.
    """

    position: int
    event: Any
    stored: Any = None  # the notification as stored: originator_id, version, topic, state

    @property
    def aggregate(self) -> str:
        """The aggregate class name (``Cluster``)."""
        return event_names(type(self.event))[0]

    @property
    def name(self) -> str:
        """The event class name (``LeadDesignated``)."""
        return event_names(type(self.event))[1]

    @property
    def meta(self) -> Meta:
        meta: Meta = self.event.meta
        return meta

    @property
    def recorded_at(self) -> datetime:
        recorded: datetime = self.event.timestamp
        return recorded

    @property
    def originator_id(self) -> UUID:
        originator: UUID = self.event.originator_id
        return originator

    @property
    def ident(self) -> str:
        """The originator id as 32 hex digits, as the read models store it."""
        return self.event.originator_id.hex  # type: ignore[no-any-return]

    def fields(self) -> dict[str, Any]:
        """The event's own fields (not the envelope's: id, version, time, meta), as held."""
        event = self.event
        return {name: getattr(event, name) for name in event_names(type(event))[2]}


class StoredRow(NamedTuple):
    """A stored event as the store holds it (the fields of eventsourcing's notification)."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


_CLASS_NAMES: dict[type, tuple[str, str, tuple[str, ...]]] = {}


def event_names(event_class: type) -> tuple[str, str, tuple[str, ...]]:
    """An event class's aggregate name, own name and data field names (worked out once)."""
    names = _CLASS_NAMES.get(event_class)
    if names is None:
        own = tuple(f.name for f in fields(event_class) if f.name not in BASE_FIELDS)
        names = (event_class.__qualname__.split(".")[0], event_class.__name__, own)
        _CLASS_NAMES[event_class] = names
    return names


def plain(value: Any) -> Any:
    """A value as JSON shows it: dates ISO, money two-decimal strings, ids as hex."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return _plain_leaf(value)


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return value.hex
    return value


def _json_default(value: Any) -> Any:
    converted = _plain_leaf(value)
    if converted is value:
        raise TypeError(f"{type(value).__name__} is not a JSON value")
    return converted


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON of a value, with :func:`plain`'s conversions.

    Written by orjson (ids turned to hex first: orjson would write them with
    dashes; money and dates through the ``default`` hook, as below), which is
    several times faster than :mod:`json` for a history row's data. A value with
    a float, a key that is not text, or anything else orjson would write otherwise
    or refuses is written by :mod:`json`, whose C encoder calls the same hook.
    Both write the same text (tested).
    """
    try:
        return orjson.dumps(
            _with_hex_ids(value), default=_json_default, option=orjson.OPT_SORT_KEYS
        ).decode("utf-8")
    except (TypeError, _NotForOrjson):
        return json.dumps(
            value, default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )


def dumps_fields(obj: Any, names: Iterable[str]) -> str:
    """``dumps({name: getattr(obj, name) for name in names})``, the same text, made once."""
    try:
        data = {}
        for name in names:
            item = getattr(obj, name)
            data[name] = _with_hex_ids(item) if type(item) in _CONVERTED else item
        return orjson.dumps(data, default=_json_default, option=orjson.OPT_SORT_KEYS).decode(
            "utf-8"
        )
    except (TypeError, _NotForOrjson):
        return dumps({name: getattr(obj, name) for name in names})


class _NotForOrjson(Exception):
    """A value :func:`dumps` leaves to :mod:`json`."""


def _with_hex_ids(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {
            key: _with_hex_ids(item) if type(item) in _CONVERTED else item
            for key, item in value.items()
        }
    if kind is list or kind is tuple:
        return [_with_hex_ids(item) if type(item) in _CONVERTED else item for item in value]
    if kind is UUID:
        return value.hex
    if kind is float:  # orjson and json may print it differently
        raise _NotForOrjson
    return value


#: What :func:`_with_hex_ids` looks into or converts. Everything else orjson writes as
#: json does (text, integers, booleans, null, dates, times) or hands to ``default``.
_CONVERTED = frozenset({dict, list, tuple, UUID, float})


def pence(amount: Decimal | None) -> int | None:
    """Money in whole pence, exact, for SQL arithmetic."""
    return None if amount is None else int(amount * 100)


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


class Planned(NamedTuple):
    """A batch's operations for one read model, worked out from its events alone.

    ``ready`` needs nothing of the read model's tables. ``finish``, when there is
    something it cannot know from the events (the hash chain's last link, the name a
    thing went by before the batch), gives the rest from a connection that sees the
    tables as the batches before this one left them: it is called before any of this
    batch's operations run. So a batch can be planned while another process is still
    writing the batches before it (ADR 0009), and only ``finish`` waits for them.
    """

    ready: list[AnyOperation]
    finish: Callable[[Connection], Iterable[AnyOperation]] | None = None

    def operations(self, conn: Connection) -> list[AnyOperation]:
        """Every operation, in order (``finish``'s worked out first, before any has run)."""
        if self.finish is None:
            return self.ready
        rest = list(self.finish(conn))
        return [*self.ready, *rest]


class Projection(Protocol):
    """A read model: its tables and how each batch of events changes them."""

    name: ClassVar[str]
    metadata: ClassVar[MetaData]
    #: Whether it needs the events as stored (``Envelope.stored``), which exist only
    #: once they are saved; the others can be worked out from the events raised.
    reads_stored: ClassVar[bool]

    def plan(self, batch: Sequence[Envelope]) -> Planned:
        """The operations that apply ``batch``, as far as its events say (see :class:`Planned`)."""
        ...

    def operations(self, conn: Connection, batch: Sequence[Envelope]) -> Iterable[AnyOperation]:
        """The statements that apply ``batch``, in order: ``plan(batch).operations(conn)``."""
        ...


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
    plan: _Plan | None  # compiled for SQLite's cursor (None: through SQLAlchemy)
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
        plan = _plan(conn, current, pending[0]) if direct else None
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
    plan = _plan(conn, statement, dict.fromkeys(columns)) if direct else None
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
        plan = _compile(conn, statement, ()) if plain else None
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


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for SQLite: its SQL and how to turn parameters into a row."""

    sql: str
    names: tuple[str, ...]  # the bind names in the order of the SQL's ``?``
    constants: dict[str, Any]  # binds with a value of their own (``SET status = 'active'``)
    processors: dict[str, Callable[[Any], Any]]  # bind processors (dates as ISO text)

    def rows(self, pending: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The positional rows of ``pending`` parameter sets."""
        names, constants, processors = self.names, self.constants, self.processors
        if constants:
            pending = [{**constants, **params} for params in pending]
        if not names:
            return [() for _ in pending]
        if len(names) == 1:
            name = names[0]
            if processors:
                process = processors[name]
                return [(process(params[name]),) for params in pending]
            return [(params[name],) for params in pending]
        get = itemgetter(*names)
        rows: list[tuple[Any, ...]] = [get(params) for params in pending]
        if processors:
            at = [(names.index(n), p) for n, p in processors.items() if names.count(n) == 1]
            if len(at) != len(processors):  # a processed bind used twice: do it by name
                return [
                    tuple(processors[n](params[n]) if n in processors else params[n] for n in names)
                    for params in pending
                ]
            for i, row in enumerate(rows):
                values = list(row)
                for index, process in at:
                    values[index] = process(values[index])
                rows[i] = tuple(values)
        return rows


_PLANS: dict[tuple[int, str, tuple[str, ...]], tuple[Executable, _Plan | None]] = {}


def _plan(conn: Connection, statement: Executable, params: dict[str, Any]) -> _Plan | None:
    """The compiled plan of ``statement`` with these parameter names (None: not direct)."""
    keys = tuple(params)
    cache_key = (id(statement), conn.dialect.name, keys)
    cached = _PLANS.get(cache_key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    plan = _compile(conn, statement, keys)
    _PLANS[cache_key] = (statement, plan)  # keeps the statement alive, so its id is stable
    return plan


def _compile(conn: Connection, statement: Executable, keys: tuple[str, ...]) -> _Plan | None:
    dialect = conn.dialect
    if not isinstance(statement, ClauseElement):
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys))
    if (
        not compiled.positional
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or any(bind.expanding or bind.callable for bind in compiled.binds.values())
    ):
        return None
    names = tuple(compiled.positiontup)
    constants: dict[str, Any] = {}
    processors: dict[str, Callable[[Any], Any]] = {}
    for name in names:
        bind = compiled.binds[name]
        if name not in keys:
            if bind.required:
                return None  # SQLAlchemy would refuse it: let it say so
            constants[name] = bind.value
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    return _Plan(compiled.string, names, constants, processors)


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


def tracked_position(conn: Connection, name: str, *, lock: bool = False) -> int:
    """The last position ``name`` applied (0 when it has applied none).

    With ``lock``, the tracking row stays locked until the transaction ends, so a
    second process applying the same read model waits, then sees the new position
    (PostgreSQL; SQLite's writers are already serialised by ``BEGIN IMMEDIATE``).
    """
    statement = select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    if lock:
        statement = statement.with_for_update()
    row = conn.execute(statement).first()
    return int(row[0]) if row else 0


_advance = (
    update(projection_tracking)
    .where(projection_tracking.c.name == bindparam("b_name"))
    .where(projection_tracking.c.position == bindparam("b_old"))
    .values(position=bindparam("b_new"))
)


def advance(conn: Connection, name: str, old: int, new: int) -> None:
    """Move ``name``'s tracking row from ``old`` to ``new``, or refuse (already applied)."""
    if (
        old == 0
        and conn.execute(
            select(projection_tracking.c.name).where(projection_tracking.c.name == name)
        ).first()
        is None
    ):
        conn.execute(insert(projection_tracking).values(name=name, position=new))
        return
    result = conn.execute(_advance, {"b_name": name, "b_old": old, "b_new": new})
    if result.rowcount != 1:
        raise moved(name, old, new)


def moved(name: str, old: int, new: int) -> ConcurrentChange:
    """The error of a batch up to ``new`` planned from ``old``, where ``name`` is no longer."""
    return ConcurrentChange(
        f"read model {name} moved past position {old} while a batch up to {new} was "
        "being applied; the batch was rolled back (not applied twice)"
    )


def batches(
    read: Callable[[int, int], Sequence[Envelope]], start_after: int, size: int
) -> Iterator[Sequence[Envelope]]:
    """Batches of envelopes after ``start_after``, in position order, until none is left."""
    position = start_after
    while True:
        batch = read(position, size)
        if not batch:
            return
        yield batch
        position = batch[-1].position
