"""run_operations sends rows straight to SQLite's cursor: the tables must end up as
SQLAlchemy's own ``Connection.execute`` leaves them, statement by statement."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    case,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)

from opmodel.store.execution import (
    Operation,
    Rows,
    fetch_rows,
    prepare,
    run_operations,
    run_prepared,
)

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(8), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("on", Date),
    Column("count", Integer, nullable=False),
    Column("tags", Text),
)
stamped = Table(
    "stamped",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(10), nullable=False, default="plain"),  # a Python-side default
)

INSERT = insert(things)
START = update(things).where(things.c.id == bindparam("b_id")).values(status="started")
ON = update(things).where(things.c.id == bindparam("b_id")).values(on=bindparam("b_on"))
COUNT = (
    update(things)
    .where(things.c.id == bindparam("b_id"))
    .values(count=things.c.count + bindparam("b_n"))
)
_tag = bindparam("b_tag", type_=Text)
TAG = (
    update(things)
    .where(things.c.id == bindparam("b_id"))
    .values(tags=case((things.c.tags.is_(None), _tag), else_=things.c.tags + "," + _tag))
)
DROP = delete(things).where(things.c.id == bindparam("b_id"))
STAMP = insert(stamped)


def _thing(ident: str, on: date | None = None) -> dict[str, Any]:
    return {"id": ident, "status": "new", "on": on, "count": 0, "tags": None}


OPERATIONS: list[Operation] = [
    (INSERT, _thing("a", date(2021, 3, 1))),
    (INSERT, _thing("b")),
    (INSERT, _thing("c", date(1999, 12, 31))),
    (START, {"b_id": "a"}),
    (ON, {"b_id": "b", "b_on": date(2024, 2, 29)}),
    (ON, {"b_id": "a", "b_on": None}),
    (COUNT, {"b_id": "a", "b_n": 2}),
    (COUNT, {"b_id": "a", "b_n": 3}),
    (COUNT, {"b_id": "b", "b_n": 7}),
    (TAG, {"b_id": "a", "b_tag": "x"}),
    (TAG, {"b_id": "a", "b_tag": "y"}),
    (DROP, {"b_id": "c"}),
    (INSERT, _thing("c", date(2030, 1, 1))),
    (START, {"b_id": "c"}),
    (STAMP, {"id": 1}),
    (STAMP, {"id": 2, "kind": "special"}),
]


def _tables(conn: Connection) -> list[list[tuple[Any, ...]]]:
    return [
        [tuple(row) for row in conn.execute(select(t).order_by(t.c.id))] for t in (things, stamped)
    ]


@pytest.fixture
def connection(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    with engine.connect() as conn:
        metadata.create_all(conn)
        conn.commit()
        yield conn
    engine.dispose()


def test_direct_rows_leave_the_tables_as_sqlalchemy_does(connection: Connection) -> None:
    with connection.begin() as transaction:
        run_operations(connection, OPERATIONS)
        direct = _tables(connection)
        transaction.rollback()

    with connection.begin():
        for statement, params in OPERATIONS:
            connection.execute(statement, params)
        expected = _tables(connection)

    assert direct == expected
    assert expected[0][0] == ("a", "started", None, 5, "x,y")
    assert expected[1] == [(1, "plain"), (2, "special")]


def test_dates_are_stored_as_sqlalchemy_stores_them(connection: Connection) -> None:
    with connection.begin():
        run_operations(connection, OPERATIONS[:3])
    raw = connection.exec_driver_sql('SELECT id, "on" FROM things ORDER BY id').all()
    assert [tuple(r) for r in raw] == [("a", "2021-03-01"), ("b", None), ("c", "1999-12-31")]


def test_a_failing_statement_raises_and_the_transaction_can_roll_back(
    connection: Connection,
) -> None:
    connection.execute(INSERT, _thing("a"))
    connection.commit()
    with pytest.raises(Exception, match="UNIQUE"), connection.begin():
        run_operations(connection, [(INSERT, _thing("b")), (INSERT, _thing("a"))])
    assert [r.id for r in connection.execute(select(things.c.id))] == ["a"]


def test_outside_a_transaction_sqlalchemy_runs_the_statements(connection: Connection) -> None:
    run_operations(connection, OPERATIONS[:2])  # SQLAlchemy begins one: rollback undoes it
    connection.rollback()
    assert _tables(connection) == [[], []]


def test_fetched_rows_are_the_rows_sqlalchemy_returns(connection: Connection) -> None:
    with connection.begin():
        run_operations(connection, OPERATIONS)
    queries = [
        # Plain columns, literal binds (a date among them), a window function.
        select(things.c.id, things.c.count, things.c.tags)
        .where(things.c.on <= literal(date(2025, 1, 1), Date), things.c.count >= 0)
        .order_by(things.c.id),
        select(func.row_number().over(order_by=things.c.id.desc()).label("seq"), things.c.id),
        # A Date column needs SQLAlchemy's conversion: it goes through SQLAlchemy.
        select(things.c.id, things.c.on).order_by(things.c.id),
    ]
    with connection.begin():
        for query in queries:
            fetched = fetch_rows(connection, query)
            assert fetched == [tuple(row) for row in connection.execute(query)]
            assert all(type(row) is tuple for row in fetched)
        assert fetch_rows(connection, queries[0]) == [("b", 7, None)]
        assert sorted(fetch_rows(connection, queries[1])) == [(1, "c"), (2, "b"), (3, "a")]
        assert fetch_rows(connection, queries[2]) == [
            ("a", None), ("b", date(2024, 2, 29)), ("c", date(2030, 1, 1))
        ]  # fmt: skip


# Rows as tuples, in an order of their own (not the table's), a date among them.
ROWS = Rows(
    ("count", "id", "on", "status", "tags"),
    [
        (0, "a", date(2021, 3, 1), "new", None),
        (4, "b", None, "new", "t"),
        (1, "c", date(1, 1, 1), "x", ""),
    ],
)


def _as_mappings() -> list[Operation]:
    return [(INSERT, params) for params in ROWS.mappings()]


def test_rows_as_tuples_leave_the_tables_as_mappings_do(connection: Connection) -> None:
    with connection.begin() as transaction:
        run_operations(connection, [(INSERT, ROWS), (START, {"b_id": "b"})])
        as_rows = _tables(connection)
        transaction.rollback()
    with connection.begin():
        for statement, params in [*_as_mappings(), (START, {"b_id": "b"})]:
            connection.execute(statement, params)
        expected = _tables(connection)
    assert as_rows == expected
    assert expected[0][1] == ("b", "started", None, 4, "t")
    raw = connection.exec_driver_sql('SELECT id, "on" FROM things ORDER BY id').all()
    assert [tuple(r) for r in raw] == [("a", "2021-03-01"), ("b", None), ("c", "0001-01-01")]


def test_rows_outside_a_transaction_go_through_sqlalchemy(connection: Connection) -> None:
    prepared = prepare(connection, [(INSERT, ROWS)])
    assert prepared[0].mappings() == ROWS.mappings()
    run_prepared(connection, prepared)  # not in a transaction SQLAlchemy began: its execute
    connection.commit()
    assert [r.id for r in connection.execute(select(things.c.id).order_by(things.c.id))] == [
        "a",
        "b",
        "c",
    ]


def test_rows_for_a_statement_the_shortcut_cannot_run_go_through_sqlalchemy(
    connection: Connection,
) -> None:
    with connection.begin():
        run_operations(connection, [(STAMP, Rows(("id",), [(1,), (2,)]))])  # Python default
    assert _tables(connection)[1] == [(1, "plain"), (2, "plain")]


def test_no_rows_run_nothing(connection: Connection) -> None:
    with connection.begin():
        assert prepare(connection, [(INSERT, Rows(ROWS.columns, []))]) == []
        run_operations(connection, [(INSERT, Rows(ROWS.columns, [])), (STAMP, {"id": 1})])
    assert _tables(connection) == [[], [(1, "plain")]]
