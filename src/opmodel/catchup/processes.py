"""The processes of a catch-up on two cores: a forked helper, its baton and its turns.

:class:`Helper` forks the process; the parent and the child take alternate
batches (:func:`spans`), each reading and planning its next batch while the
other writes one, and write them in position order, passing a :class:`Baton`
on after each; :class:`Turns` decides who holds SQLite's write lock. Nothing
about exactly-once changes: each batch of each read model is still one
transaction guarded by its tracking position, whichever process runs it
(:mod:`opmodel.catchup.two_cores`).

The helper only ever speeds things up. If it fails, or dies, its end of the
baton closes, and the parent applies what is left itself, resuming from the
tracked positions. It never writes to the parent's stdout or stderr, never uses
a connection the parent opened (it makes its own), and leaves with ``os._exit``
so that nothing the parent owns is flushed or closed twice.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import signal
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO

#: Below this many events to apply, a fork costs more than it saves.
MIN_EVENTS = 10_000


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a helper process may be forked here and now.

    Only on a platform with ``fork``, with a second CPU, and in a process with one
    thread: a fork copies only the calling thread, and a lock another thread held
    (a connection pool's, a console's) would stay held in the child for ever.
    """
    return hasattr(os, "fork") and threading.active_count() == 1 and cores() >= 2


def spans(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Batches of the positions after ``start`` up to ``end``, as ``(after, last)`` pairs,
    for two processes that take turns writing them (:class:`Baton`).

    The first and the last are half of ``size``, the others as even as can be and no
    longer than ``size``. A short first batch is written by the time the other process
    has read and planned the second, so neither waits at the start (planning a batch
    takes longer than writing it); a short last batch keeps short the time one
    process has nothing left to do while the other finishes.
    """
    if start >= end:
        return []
    half = max(size // 2, 1)
    middle = end - start - 2 * half
    if middle <= 0:  # room for two short ones at most
        bounds = [start, min(start + half, end), end]
    else:
        count = -(-middle // size)
        bounds = [start, start + half]
        bounds += [start + half + middle * n // count for n in range(1, count + 1)]
        bounds.append(end)
    return [(low, high) for low, high in itertools.pairwise(bounds) if high > low]


class Baton:
    """Two processes writing batches in turn: each waits for the other's before its next.

    Made before the fork (a pipe each way); after it, each process calls :meth:`hold`
    and keeps its own ends. :meth:`pass_on` says "I have written batch N (of so many
    events)"; :meth:`wait_for` waits until the other process has said so of a batch.
    If the other process ends (done, failed or killed) or gives up, its ends close and
    :meth:`wait_for` says it will not come.
    """

    _MESSAGE = struct.Struct("<qq")  # batch number, events

    def __init__(self) -> None:
        self._to_child = os.pipe()
        self._to_parent = os.pipe()
        self._open = {*self._to_child, *self._to_parent}
        self._in: int | None = None
        self._out: int | None = None

    def hold(self, *, child: bool) -> None:
        """Keep this process's ends (reading what the other sends, sending to it)."""
        mine = (self._to_child[0], self._to_parent[1])
        theirs = (self._to_parent[0], self._to_child[1])
        if not child:
            mine, theirs = theirs, mine
        for fd in theirs:
            self._close(fd)
        self._in, self._out = mine

    def pass_on(self, batch: int, events: int) -> None:
        """Tell the other process that ``batch`` (``events`` events) is written."""
        assert self._out is not None
        with contextlib.suppress(BrokenPipeError):  # it is gone: nobody waits for this
            _write_all(self._out, self._MESSAGE.pack(batch, events))

    def wait_for(self, batch: int, heard: Callable[[int], None] | None = None) -> bool:
        """Wait until the other process has written ``batch``; False if it never will.

        ``heard(events)`` is told of every batch it reports written meanwhile.
        """
        assert self._in is not None
        size = self._MESSAGE.size
        while True:
            data = b""
            while len(data) < size:
                chunk = os.read(self._in, size - len(data))
                if not chunk:  # the other process has ended or given up
                    return False
                data += chunk
            number, events = self._MESSAGE.unpack(data)
            if heard is not None:
                heard(events)
            if number >= batch:
                return True

    def close(self) -> None:
        """Close this process's ends (the other one's :meth:`wait_for` then returns False)."""
        for fd in list(self._open):
            self._close(fd)
        self._in = self._out = None

    def _close(self, fd: int) -> None:
        if fd in self._open:
            self._open.discard(fd)
            os.close(fd)


class Turns:
    """Whose turn it is to write: the two processes take turns at SQLite's write lock.

    SQLite's own wait for a busy lock sleeps in steps (1, 2, 5, 10, 15 ms …), so a
    writer that finds the lock taken often slept 20-30 ms past its release; here
    the waiter sleeps in the kernel on an ``flock`` and wakes when it is released.
    The lock is on an unnamed temporary file that the helper opens again through
    ``/proc`` (an open file description of its own, so the two exclude each other).
    It is released when its holder ends, however it ends. Without ``/proc`` (not
    Linux) each turn is a no-op and SQLite's wait decides, as before.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] | None = tempfile.TemporaryFile()  # noqa: SIM115 - close()
        self._fd: int | None = self._file.fileno()

    def reopen(self) -> None:
        """In the helper: a lock of its own on the same file."""
        self._fd = self._own_fd()

    def another(self) -> Turns:
        """Turns for another taker in this process (a thread), excluding this one too."""
        other = Turns.__new__(Turns)
        other._file = None
        other._fd = self._own_fd()
        return other

    def _own_fd(self) -> int | None:
        assert self._fd is not None
        try:
            return os.open(f"/proc/self/fd/{self._fd}", os.O_RDWR)
        except OSError:  # pragma: no cover - no /proc
            return None

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn (wait for it if the other process has it)."""
        fd = self._fd
        if fd is None:  # pragma: no cover - no /proc
            yield
            return
        import fcntl  # only where there is fork (POSIX)

        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        elif self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: Helpers left to end on their own (:meth:`Helper.leave`), not yet reaped.
_LEFT: set[int] = set()


def reap_left() -> None:
    """Reap the helpers left to end on their own that have ended (without waiting)."""
    for pid in list(_LEFT):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped already (by a wait for any child)
            done = pid
        if done:
            _LEFT.discard(pid)


atexit.register(reap_left)


class Helper:
    """A forked child running ``work()``, which returns a count, and reporting through a pipe.

    :meth:`wait` gives the count, once the child has ended; ``None`` if it failed or
    died (:attr:`error` says what it raised). As a context manager, the child is
    ended at once if the block fails, and waited for if it does not.
    """

    def __init__(self, work: Callable[[], int]) -> None:
        reap_left()
        read_end, write_end = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which coverage does not follow
            os.close(read_end)
            _run_child(work, write_end, parent)
        os.close(write_end)
        self.pid = pid
        self._pipe = read_end
        self._finished = False
        self._result: int | None = None
        self._error: str | None = None

    def _reap(self) -> int:
        """Close the pipe and wait for the child: its exit code."""
        os.close(self._pipe)
        self._finished = True
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def wait(self) -> int | None:
        """Wait for the helper to end: its count, or None if it failed or died."""
        if not self._finished:
            lines = []
            while chunk := os.read(self._pipe, 65536):
                lines.append(chunk)
            for line in b"".join(lines).decode("utf-8", "replace").splitlines():
                kind, _, value = line.partition(" ")
                if kind == "result":
                    self._result = int(value)
                elif kind == "error":
                    self._error = value
            if self._reap() != 0:
                self._result = None
        return self._result

    @property
    def error(self) -> str | None:
        """What the helper said went wrong, if it failed with an error."""
        return self._error

    def stop(self) -> None:
        """End the helper now (the parent is failing): its open batch rolls back."""
        if not self._finished:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(self.pid, signal.SIGTERM)
            self._reap()
            self._result = None

    def leave(self) -> None:
        """The helper's work is done and known: let it end on its own, without waiting.

        Its exit (the kernel letting go of a copy of this process's memory) takes
        a few milliseconds that nobody needs to wait for. It is reaped when next
        a child is forked, or at this process's exit, or once this process has
        ended (by whoever adopts it then).
        """
        if not self._finished:
            os.close(self._pipe)
            self._finished = True
            _LEFT.add(self.pid)
            reap_left()

    def __enter__(self) -> Helper:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, _e: BaseException | None, _t: TracebackType | None
    ) -> None:
        if kind is not None:
            self.stop()
        else:
            self.wait()


def _run_child(
    work: Callable[[], int], write_end: int, parent: int
) -> None:  # pragma: no cover - runs in the child
    _die_with_parent(parent)

    def say(line: str) -> None:
        _write_all(write_end, (line.replace("\n", " ") + "\n").encode("utf-8"))

    code = 1
    try:
        say(f"result {work()}")
        code = 0
    except BaseException as exc:  # everything is reported, then the child ends
        with contextlib.suppress(BaseException):  # if it cannot be, the exit code tells
            say(f"error {type(exc).__name__}: {exc}")
    finally:
        os._exit(code)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    """Have the kernel end this helper if the parent dies (Linux), so that a killed
    command leaves no process writing behind it; elsewhere the helper notices at
    its next report."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
