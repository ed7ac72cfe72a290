"""opmodel.catchup.processes: batches, the helper process, the baton two processes pass;
opmodel.store.sqlite.Checkpoints: the WAL checkpointed by a thread."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opmodel.catchup import processes
from opmodel.store.sqlite import Checkpoints

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def test_batches_are_short_at_both_ends_and_even_between() -> None:
    spans = processes.spans(100, 26_309, 5000)
    lengths = [high - low for low, high in spans]
    assert lengths[0] == lengths[-1] == 2500  # the first and the last are half as long
    assert max(lengths[1:-1]) - min(lengths[1:-1]) <= 1
    assert all(length <= 5000 for length in lengths)
    assert spans[0][0] == 100
    assert spans[-1][1] == 26_309
    assert all(a[1] == b[0] for a, b in pairwise(spans))  # no gap, no overlap


@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(1, 3000))
def test_batches_of_any_range_chain_from_start_to_end(start: int, length: int, size: int) -> None:
    spans = processes.spans(start, start + length, size)
    if length == 0:
        assert spans == []
        return
    assert spans[0][0] == start
    assert spans[-1][1] == start + length
    assert all(low < high <= low + size for low, high in spans)
    assert all(a[1] == b[0] for a, b in pairwise(spans))


def _reaped(pid: int) -> bool:
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True


def test_the_helper_gives_its_result() -> None:
    helper = processes.Helper(lambda: 15)
    assert helper.wait() == 15
    assert helper.error is None
    assert _reaped(helper.pid)


def test_a_helper_that_raises_reports_the_error_and_no_result() -> None:
    def work() -> int:
        raise ValueError("the read model broke\non two lines")

    helper = processes.Helper(work)
    assert helper.wait() is None
    assert helper.error == "ValueError: the read model broke on two lines"
    assert _reaped(helper.pid)


def test_a_helper_that_dies_gives_no_result() -> None:
    def work() -> int:
        os._exit(3)

    helper = processes.Helper(work)
    assert helper.wait() is None
    assert helper.error is None


def test_a_failing_parent_stops_its_helper() -> None:
    def work() -> int:
        time.sleep(60)
        return 1

    started = time.monotonic()
    with pytest.raises(RuntimeError), processes.Helper(work) as helper:
        raise RuntimeError("the parent's own work failed")
    assert time.monotonic() - started < 30
    assert helper.wait() is None
    assert _reaped(helper.pid)


def test_a_helper_used_as_a_context_is_waited_for() -> None:
    with processes.Helper(lambda: 7) as helper:
        pass
    assert helper.wait() == 7
    assert _reaped(helper.pid)


def _take_turns(batches: int) -> tuple[list[str], list[int]]:
    """Two processes "writing" batches in turn through a baton; the log they wrote."""
    import tempfile

    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    baton = processes.Baton()

    def write(number: int) -> None:
        os.write(log.fileno(), f"{number}\n".encode())

    def turns(first: int, heard: Callable[[int], None] | None = None) -> int:
        for number in range(first, batches, 2):
            if number > 0 and not baton.wait_for(number - 1, heard):
                return -1
            time.sleep(0.01 if first else 0)  # the helper is slower: order must still hold
            write(number)
            baton.pass_on(number, 10 * number)
        return first

    def in_helper() -> int:
        baton.hold(child=True)
        return turns(1)

    heard: list[int] = []
    with processes.Helper(in_helper):
        baton.hold(child=False)
        turns(0, heard.append)
        if batches % 2 == 0:
            assert baton.wait_for(batches - 1, heard.append)
        baton.close()
    log.seek(0)
    order = log.read().decode().split()
    log.close()
    return order, heard


def test_batches_written_in_turn_by_two_processes_keep_their_order() -> None:
    order, heard = _take_turns(7)
    assert order == [str(n) for n in range(7)]
    assert heard == [10, 30, 50]  # the helper's batches, as it reported them


def test_the_last_batch_can_be_the_helpers() -> None:
    order, heard = _take_turns(4)
    assert order == ["0", "1", "2", "3"]
    assert heard == [10, 30]


def test_a_baton_from_a_process_that_ended_never_comes() -> None:
    baton = processes.Baton()

    def in_helper() -> int:
        baton.hold(child=True)
        os._exit(1)  # dies before passing anything on

    helper = processes.Helper(in_helper)
    baton.hold(child=False)
    assert baton.wait_for(1) is False
    baton.close()
    assert helper.wait() is None


def test_a_closed_baton_stops_a_helper_waiting_for_it() -> None:
    baton = processes.Baton()

    def in_helper() -> int:
        baton.hold(child=True)
        return 1 if baton.wait_for(0) else 2

    helper = processes.Helper(in_helper)
    baton.hold(child=False)
    baton.close()
    assert helper.wait() == 2


def test_no_fork_beside_another_thread() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not processes.can_fork()
    finally:
        stop.set()
        thread.join()


def _write_batches(path: str, *, checkpoints: bool) -> int:
    """The WAL's size after 20 commits of 100 KB by a writer that never checkpoints."""
    import os
    import sqlite3

    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # the writer leaves the WAL alone
    writer.execute("CREATE TABLE t (x TEXT)")
    thread = Checkpoints(path) if checkpoints else None
    if thread is not None:
        thread.__enter__()
    try:
        for _ in range(20):
            writer.execute("BEGIN")
            writer.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
            writer.execute("COMMIT")
            time.sleep(2 * Checkpoints.INTERVAL)
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


def test_a_helper_left_to_end_is_reaped_once_it_has_ended() -> None:
    def work() -> int:
        time.sleep(0.2)
        return 1

    helper = processes.Helper(work)
    helper.leave()  # not waited for
    assert helper.pid in processes._LEFT
    deadline = time.monotonic() + 30
    while helper.pid in processes._LEFT and time.monotonic() < deadline:
        time.sleep(0.05)
        processes.reap_left()
    assert helper.pid not in processes._LEFT
    assert _reaped(helper.pid)
    assert helper.wait() is None  # its result was not wanted
