"""The helper process of opmodel.parallel: how work is shared out, reported and ended."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from opmodel import parallel

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@dataclass(frozen=True)
class Item:
    name: str
    cost: int


def names(items: list[Item]) -> list[str]:
    return [i.name for i in items]


def test_the_costliest_goes_to_the_helper_and_the_rest_balance() -> None:
    items = [Item("om", 2), Item("history", 5), Item("ledger", 2), Item("timeline", 1)]
    mine, helpers = parallel.split(items)
    assert names(helpers) == ["history"]
    assert names(mine) == ["om", "ledger", "timeline"]  # in the order given


def test_a_split_keeps_every_item_once_and_gives_both_sides_work() -> None:
    items = [Item(str(n), cost) for n, cost in enumerate([3, 3, 2, 2, 1, 1])]
    mine, helpers = parallel.split(items)
    assert sorted(names(mine) + names(helpers)) == sorted(names(items))
    assert mine
    assert helpers
    assert abs(sum(i.cost for i in mine) - sum(i.cost for i in helpers)) <= 1


def test_two_items_one_each() -> None:
    mine, helpers = parallel.split([Item("a", 1), Item("b", 1)])
    assert (names(mine), names(helpers)) == (["b"], ["a"])


def _reaped(pid: int) -> bool:
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True


def test_the_helper_reports_progress_and_its_result() -> None:
    def work(report: Callable[[int], None]) -> int:
        for _ in range(3):
            report(5)
        return 15

    helper = parallel.Helper(work)
    assert helper.wait() == 15
    assert helper.done() == 15
    assert helper.error is None
    assert _reaped(helper.pid)


def test_a_helper_that_raises_reports_the_error_and_no_result() -> None:
    def work(report: Callable[[int], None]) -> int:
        report(1)
        raise ValueError("the read model broke\non two lines")

    helper = parallel.Helper(work)
    assert helper.wait() is None
    assert helper.error == "ValueError: the read model broke on two lines"
    assert helper.done() == 1
    assert _reaped(helper.pid)


def test_a_helper_that_dies_gives_no_result() -> None:
    def work(report: Callable[[int], None]) -> int:
        os._exit(3)

    helper = parallel.Helper(work)
    assert helper.wait() is None
    assert helper.error is None


def test_a_failing_parent_stops_its_helper() -> None:
    def work(report: Callable[[int], None]) -> int:
        time.sleep(60)
        return 1

    started = time.monotonic()
    with pytest.raises(RuntimeError), parallel.Helper(work) as helper:
        raise RuntimeError("the parent's own work failed")
    assert time.monotonic() - started < 30
    assert helper.wait() is None
    assert _reaped(helper.pid)


def test_no_fork_beside_another_thread() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not parallel.can_fork()
    finally:
        stop.set()
        thread.join()


def test_a_forked_value_comes_back() -> None:
    forked = parallel.Forked(lambda: {"entries": [{"n": n} for n in range(3)], "x": (1, "a")})
    assert forked.result() == {"entries": [{"n": 0}, {"n": 1}, {"n": 2}], "x": (1, "a")}
    assert forked.result() is None  # read once
    assert _reaped(forked.pid)


def test_a_forked_computation_that_fails_gives_none() -> None:
    def broken() -> int:
        raise ValueError("no")

    forked = parallel.Forked(broken)
    assert forked.result() is None
    assert _reaped(forked.pid)


def test_a_discarded_fork_is_ended_and_reaped() -> None:
    forked = parallel.Forked(lambda: time.sleep(60))
    started = time.monotonic()
    forked.discard()
    assert time.monotonic() - started < 30
    assert forked.result() is None
    assert _reaped(forked.pid)


def _write_batches(path: str, *, checkpoints: bool) -> int:
    """The WAL's size after 20 commits of 100 KB by a writer that never checkpoints."""
    import os
    import sqlite3

    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the writer leaves the WAL alone
    writer.execute("CREATE TABLE t (x TEXT)")
    thread = parallel.Checkpoints(path) if checkpoints else None
    if thread is not None:
        thread.__enter__()
    try:
        for _ in range(20):
            writer.execute("BEGIN")
            writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
            writer.execute("COMMIT")
            time.sleep(2 * parallel.Checkpoints.INTERVAL)
    finally:
        if thread is not None:
            thread.__exit__()
    size = os.path.getsize(path + "-wal")
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (4000,)
    writer.close()
    return size


def test_a_checkpoints_thread_keeps_the_wal_from_growing(tmp_path: Any) -> None:
    alone = _write_batches(str(tmp_path / "alone.db"), checkpoints=False)
    checkpointed = _write_batches(str(tmp_path / "checkpointed.db"), checkpoints=True)
    assert alone > 2_000_000  # every page of the 2 MB written is still in the WAL
    assert checkpointed < alone / 4  # moved into the database as it went, the WAL reused
