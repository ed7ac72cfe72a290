"""Progress bars on stderr for long commands (import, rebuild, verify, export).

rich itself is imported only when a bar is shown: a command that prints JSON
(``audit verify --json``) asks for a bar it does not show, and should not pay
for importing rich.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opmodel_cli.render.plain import plain

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class _Bar:
    """A rich progress bar that appears once its total is known (so errors found
    while validating are not preceded by an empty bar) and shows the rate."""

    def __init__(self, progress: Progress | None, label: str) -> None:
        self._progress = progress
        self._label = label
        self._task: TaskID | None = None
        self._started = time.perf_counter()
        self._drawn = 0.0
        self._done = 0

    def start(self, total: int) -> None:
        """Show the bar, now that the total is known.

        The rate counts from when the bar was made, not from now: an import has
        applied most of its entries by the time it knows how many there are.
        """
        if self._progress is None or self._task is not None:
            return
        self._progress.start()
        self._task = self._progress.add_task(self._label, total=total or None, rate="-")

    def __call__(self, n: int) -> None:
        self.advance(n)

    def advance(self, n: int) -> None:
        """Count ``n`` more done."""
        if self._progress is None or self._task is None:
            return
        self._done += n
        now = time.perf_counter()
        elapsed = max(now - self._started, 1e-9)
        self._progress.update(self._task, advance=n, rate=f"{self._done / elapsed:,.0f}")
        if now - self._drawn >= 0.1:
            self._progress.refresh()
            self._drawn = now

    def stop(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.stop()


def _rich_progress(unit: str) -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}", markup=False),  # a file's name is not markup
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        # Drawn by ``_Bar.advance``, not by a thread of rich's: a process with a
        # second thread cannot fork a helper for the read models (opmodel.catchup.processes).
        auto_refresh=False,
    )


@contextmanager
def progress_bar(
    label: str, total: int | None, *, enabled: bool, unit: str = "events"
) -> Iterator[_Bar]:
    """A progress bar on stderr; ``total=None`` waits for ``bar.start(total)``."""
    progress = _rich_progress(unit) if enabled else None
    bar = _Bar(progress, plain(label))
    if total is not None:
        bar.start(total)
    try:
        yield bar
    finally:
        bar.stop()
