"""An import file parsed by a forked helper while the program starts (ADR 0013).

``opmodel import`` spends ~0.25 s starting (importing the engine, opening the
store) before it can read its file, and parsing a large file takes ~0.4-0.5 s
more. :class:`Prefetched` forks a helper as soon as the command knows its file;
the helper parses it (:func:`~opmodel.importing.parse.load`) and hands the
document back through a pipe (marshalled) while the command starts. If the helper
cannot be forked, fails, or dies, the file is parsed in the command, so the
document — or the error — is the one parsing it here gives.

This module needs nothing but the standard library and :mod:`.parse`, so that
the command can start the helper before anything heavy is imported.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import threading
from pathlib import Path

from opmodel.importing.parse import Document, load

#: Files smaller than this parse in a moment: a helper would cost more than it saves.
MIN_BYTES = 1 << 20


class Prefetched:
    """An import file, being parsed by a helper (or to be parsed here)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pid: int | None = None
        self._pipe: int | None = None
        try:
            large = path.stat().st_size >= MIN_BYTES
        except (OSError, ValueError):
            large = False  # parsing it here says what is wrong
        if large and _can_fork():
            with contextlib.suppress(OSError):  # no process to be had: parsed here
                self._fork()

    def _fork(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            os.close(read_end)
            code = 1
            try:
                document = load(self.path)
                # marshal: plain data only (a parsed file is dicts, lists, text, numbers),
                # and quicker to read back than pickle; anything else fails the helper.
                data = marshal.dumps((document.sha256, document.content))
                view = memoryview(data)
                while view:
                    view = view[os.write(write_end, view) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        self._pid, self._pipe = pid, read_end

    def document(self) -> Document:
        """The parsed file: the helper's, or parsed here if it has none to give."""
        if self._pipe is None:
            return load(self.path)
        chunks = []
        with os.fdopen(self._pipe, "rb") as reader:
            self._pipe = None
            while chunk := reader.read(1 << 20):
                chunks.append(chunk)
        if self._reap() != 0 or not chunks:
            return load(self.path)  # its error, or its document, as parsing here gives
        sha256, content = marshal.loads(b"".join(chunks))
        return Document(sha256, content)

    def discard(self) -> None:
        """End the helper if its document is not wanted (the command failed first)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, 9)
            self._reap()

    def _reap(self) -> int:
        pid, self._pid = self._pid, None
        if pid is None:
            return 1
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)


def _can_fork() -> bool:
    """A platform with fork, and no other thread whose locks the child would inherit."""
    return hasattr(os, "fork") and threading.active_count() == 1
