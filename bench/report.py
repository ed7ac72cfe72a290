"""The table for people (rich): ``python -m bench.report RESULT.json`` renders a saved run."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

#: The size each figure runs at, by the key of the issue's size.
SIZE_OF = {
    "as_of": "timetravel_events",
    "rebuild_memory": "memory_events",
}

SHORT = {
    "entries": "entries",
    "entries_imported": "entries",
    "events": "events",
    "aggregates": "aggregates",
    "average_event_bytes": "B/event",
    "smaller_point_events": "events (small point)",
}


def _value(value: float, unit: str) -> str:
    return f"{value:.0f} MB" if unit == "MB" else f"{value:.3f} s"


def _sizes(sizes: dict[str, Any]) -> str:
    """The sizes a figure ran at, compactly (the issue's size is in the JSON and notes)."""
    return ", ".join(f"{v:,} {SHORT[k]}" for k, v in sizes.items() if k in SHORT)


def render(document: dict[str, Any]) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    m = document["machine"]
    sizes = document["sizes"]
    v = m["versions"]
    console.print(
        f"[bold]opmodel benchmarks[/bold] ({sizes['mode']} sizes) — {m['date']}, "
        f"{m['cpus']} CPUs, {m['memory']}, Python {m['python']}, SQLite {m['sqlite']}, "
        f"eventsourcing {v.get('eventsourcing')}, SQLAlchemy {v.get('SQLAlchemy')}; "
        f"load {m['load_average_at_start']} → {m.get('load_average_at_end')}",
        highlight=False,
    )
    figures = document["figures"]
    issue = document["issue_sizes"]
    ran = {SIZE_OF.get(f["name"], "import_entries") for f in figures}
    smaller = [
        f"{key} {sizes[key]:,} (issue: {value:,})"
        for key, value in issue.items()
        if key in ran and sizes[key] < value
    ]
    if smaller:
        console.print(
            "[yellow]Smaller than the issue's sizes:[/yellow] "
            + "; ".join(smaller)
            + " — run with --full for the issue's sizes.",
            highlight=False,
        )
    table = Table()
    for column in ("figure", "subject", "baseline", "ratio", "target", "result", "reps"):
        table.add_column(column, no_wrap=True)
    table.add_column("sizes", overflow="fold")
    for f in figures:
        ratio = f["ratio"]
        result = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "—"}[f["passed"]]
        table.add_row(
            f["name"],
            _value(f["subject_median"], f["unit"]),
            _value(f["baseline_median"], f["unit"]),
            "—" if ratio is None else f"{ratio:.2f}\N{MULTIPLICATION SIGN}",
            f["target"] or "—",
            result,
            str(f["repetitions"]),
            _sizes(f["sizes"]),
        )
    console.print(table)
    for f in figures:
        console.print(f"[bold]{f['name']}[/bold]: {f['title']}", highlight=False)
        console.print(f"  subject:  {f['subject']}", highlight=False)
        console.print(f"  baseline: {f['baseline']}", highlight=False)
        for note in f["notes"]:
            console.print(f"  {note}", highlight=False)
    for s in document["skipped"]:
        console.print(f"[yellow]skipped[/yellow] {s['name']}: {s['reason']}", highlight=False)
    for e in document["errors"]:
        console.print(f"[red]error[/red] {e['name']}: {e['error']}", highlight=False)
    summary = document["summary"]
    console.print(
        f"{summary['met']} met, {summary['missed']} missed, {summary['without_target']} "
        f"without a target, in {document['seconds']:.0f}s",
        highlight=False,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bench.report RESULT.json", file=sys.stderr)
        return 2
    render(json.loads(Path(args[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
