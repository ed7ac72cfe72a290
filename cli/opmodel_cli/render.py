"""Rendering for people: tables and progress bars (rich), imported only when needed.

rich itself is imported only when something is drawn: a command that prints
JSON (``audit verify --json``) asks for a progress bar it does not show, and
should not pay for importing rich.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _cell(value: Any) -> str:
    return "—" if value is None or value == [] else str(value)


def _gbp(amount: str | None) -> str:
    """A two-decimal JSON amount as people read it: £1,400,000.00."""
    return "—" if amount is None else f"£{Decimal(amount):,.2f}"


def render_model(model: dict[str, Any]) -> None:
    """The operating model as tables: clusters, then departments, then decisions."""
    from rich.table import Table

    console = _console()
    when = []
    if model.get("as_of"):
        when.append(f"as of {model['as_of']}")
    if model.get("as_recorded"):
        when.append(f"as recorded {model['as_recorded']}")
    console.print(f"[bold]Operating model[/] at position {model['position']} {' '.join(when)}")
    if not model["clusters"] and not model["departments"]:
        console.print("Nothing recorded yet.")
        return
    for cluster in model["clusters"]:
        table = Table(title=f"Cluster {cluster['name']}", title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        table.add_row("lead", _cell(cluster["lead"]))
        table.add_row("members", ", ".join(cluster["members"]) or "—")
        table.add_row("funding", _gbp(cluster["funding_gbp"]))
        benefits = cluster["benefits_realised_gbp"]
        table.add_row(
            "benefits realised",
            f"{_gbp(benefits['cashable'])} cashable, {_gbp(benefits['non-cashable'])} non-cashable",
        )
        table.add_row("rating", _cell(cluster["rating"]))
        for case in cluster["business_cases"]:
            table.add_row(
                f"business case {case['stage']}",
                f"{case['status']} (cost {_gbp(case['cost_gbp'])}, "
                f"benefits {_gbp(case['benefits_gbp'])})",
            )
        console.print(table)
        if cluster["phases"]:
            phases = Table(title=f"{cluster['name']}: phases (of {cluster['phase_count']})")
            for column in ("#", "name", "status", "planned", "started", "completed", "onboarded"):
                phases.add_column(column)
            for p in cluster["phases"]:
                planned = f"{_cell(p['planned_start'])} → {_cell(p['planned_end'])}"
                phases.add_row(
                    str(p["number"]), p["name"], p["status"], planned, _cell(p["started"]),
                    _cell(p["completed"]), ", ".join(p["onboarded"]) or "—",
                )  # fmt: skip
            console.print(phases)
        if cluster["contracts"]:
            contracts = Table(title=f"{cluster['name']}: contracts")
            for column in (
                "ref",
                "kind",
                "supplier",
                "value",
                "start",
                "end",
                "max end",
                "status",
                "bundled with",
            ):
                contracts.add_column(column)
            for c in cluster["contracts"]:
                contracts.add_row(
                    c["ref"], c["kind"], _cell(c["supplier"]), _gbp(c["value_gbp"]),
                    _cell(c["start"]), _cell(c["end"]), _cell(c["max_end"]), c["status"],
                    _cell(c["bundled_with"]),
                )  # fmt: skip
            console.print(contracts)
    if model["departments"]:
        table = Table(title="Departments", title_justify="left")
        for column in ("code", "name", "kind", "parent", "cluster", "headcount"):
            table.add_column(column)
        for d in model["departments"]:
            table.add_row(
                d["code"], d["name"], d["kind"], _cell(d["parent"]), _cell(d["cluster"]),
                _cell(d["headcount"]),
            )  # fmt: skip
        console.print(table)
    if model["decisions"]:
        table = Table(title="Decisions", title_justify="left")
        for column in ("id", "title", "status", "concerns", "superseded by"):
            table.add_column(column)
        for d in model["decisions"]:
            table.add_row(
                d["id"], d["title"], d["status"], ", ".join(d["concerns"]) or "—",
                _cell(d["superseded_by"]),
            )  # fmt: skip
        console.print(table)


def render_history(rows: list[dict[str, Any]]) -> None:
    """The history as a table, oldest first."""
    from rich.table import Table

    console = _console()
    if not rows:
        console.print("No events match.")
        return
    table = Table(title="History", title_justify="left")
    for column in ("#", "effective", "recorded", "actor", "summary", "reason", "source"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["position"]), r["effective"], r["recorded_at"][:19].replace("T", " "),
            r["actor"], r["summary"], _cell(r["reason"]), _cell(r["source"]),
        )  # fmt: skip
    console.print(table)


def render_status(rows: list[dict[str, Any]]) -> None:
    """Read models against the head."""
    from rich.table import Table

    table = Table(title="Read models", title_justify="left")
    for column in ("read model", "position", "head", "behind"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["name"], str(r["position"]), str(r["head"]), str(r["behind"]))
    _console().print(table)


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
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} " + unit + "/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        # Drawn by ``_Bar.advance``, not by a thread of rich's: a process with a
        # second thread cannot fork a helper for the read models (opmodel.parallel).
        auto_refresh=False,
    )


@contextmanager
def progress_bar(
    label: str, total: int | None, *, enabled: bool, unit: str = "events"
) -> Iterator[_Bar]:
    """A progress bar on stderr; ``total=None`` waits for ``bar.start(total)``."""
    progress = _rich_progress(unit) if enabled else None
    bar = _Bar(progress, label)
    if total is not None:
        bar.start(total)
    try:
        yield bar
    finally:
        bar.stop()
