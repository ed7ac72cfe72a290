"""The reading commands' views as rich tables: the model, the history, the read models.

Every cell and title is built with :func:`~opmodel_cli.render.plain.cell`, so no
stored string is read as markup or reaches the terminal with its control
characters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from opmodel_cli.render.plain import NONE, cell, joined

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text


def _console() -> Console:
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """The reader left (``opmodel show | head``): let the program's edge end it.

            rich's own handling exits 1; opmodel_cli.main ends such a run with 0.
            """
            self.quiet = True
            raise BrokenPipeError

    return _Console(highlight=False, soft_wrap=False)


def _gbp(amount: str | None) -> str:
    """A two-decimal JSON amount as people read it: £1,400,000.00."""
    return NONE if amount is None else f"£{Decimal(amount):,.2f}"


def _table(title: Text, columns: tuple[str, ...], **options: Any) -> Table:
    from rich.table import Table

    table = Table(title=title, **options)
    for column in columns:
        table.add_column(column)
    return table


def _title(*parts: Any) -> Text:
    """A title from fixed words and stored strings, each shown literally."""
    from rich.text import Text

    return Text.assemble(*(cell(part) for part in parts))


def render_model(model: dict[str, Any]) -> None:
    """The operating model as tables: clusters, then departments, then decisions."""
    from rich.text import Text

    console = _console()
    when = [f"as of {model['as_of']}"] if model.get("as_of") else []
    if model.get("as_recorded"):
        when.append(f"as recorded {model['as_recorded']}")
    heading = Text("Operating model", style="bold")
    heading.append_text(cell(f" at position {model['position']} {' '.join(when)}"))
    console.print(heading)
    if not model["clusters"] and not model["departments"]:
        console.print(cell("Nothing recorded yet."))
        return
    for cluster in model["clusters"]:
        _print_cluster(console, cluster)
    if model["departments"]:
        keys = ("code", "name", "kind", "parent", "cluster", "headcount")
        table = _table(_title("Departments"), keys, title_justify="left")
        for d in model["departments"]:
            table.add_row(*(cell(d[key]) for key in keys))
        console.print(table)
    if model["decisions"]:
        columns = ("id", "title", "status", "concerns", "superseded by")
        table = _table(_title("Decisions"), columns, title_justify="left")
        for d in model["decisions"]:
            table.add_row(
                cell(d["id"]), cell(d["title"]), cell(d["status"]), joined(d["concerns"]),
                cell(d["superseded_by"]),
            )  # fmt: skip
        console.print(table)


def _print_cluster(console: Console, cluster: dict[str, Any]) -> None:
    """One cluster: its facts, then its phases and its contracts."""
    name = cluster["name"]
    facts = _table(
        _title("Cluster ", name), ("field", "value"), title_justify="left", show_header=False
    )
    facts.columns[0].style = "bold"
    facts.add_row("lead", cell(cluster["lead"]))
    facts.add_row("members", joined(cluster["members"]))
    facts.add_row("funding", _gbp(cluster["funding_gbp"]))
    benefits = cluster["benefits_realised_gbp"]
    facts.add_row(
        "benefits realised",
        f"{_gbp(benefits['cashable'])} cashable, {_gbp(benefits['non-cashable'])} non-cashable",
    )
    facts.add_row("rating", cell(cluster["rating"]))
    for case in cluster["business_cases"]:
        facts.add_row(
            cell(f"business case {case['stage']}"),
            cell(
                f"{case['status']} (cost {_gbp(case['cost_gbp'])}, "
                f"benefits {_gbp(case['benefits_gbp'])})"
            ),
        )
    console.print(facts)
    if cluster["phases"]:
        title = _title(name, f": phases (of {cluster['phase_count']})")
        phases = _table(
            title, ("#", "name", "status", "planned", "started", "completed", "onboarded")
        )
        for p in cluster["phases"]:
            planned = f"{cell(p['planned_start']).plain} → {cell(p['planned_end']).plain}"
            phases.add_row(
                cell(p["number"]), cell(p["name"]), cell(p["status"]), cell(planned),
                cell(p["started"]), cell(p["completed"]), joined(p["onboarded"]),
            )  # fmt: skip
        console.print(phases)
    if cluster["contracts"]:
        columns = ("ref", "kind", "supplier", "value", "start", "end", "max end", "status",
                   "bundled with")  # fmt: skip
        contracts = _table(_title(name, ": contracts"), columns)
        for c in cluster["contracts"]:
            contracts.add_row(
                cell(c["ref"]), cell(c["kind"]), cell(c["supplier"]), _gbp(c["value_gbp"]),
                cell(c["start"]), cell(c["end"]), cell(c["max_end"]), cell(c["status"]),
                cell(c["bundled_with"]),
            )  # fmt: skip
        console.print(contracts)


def render_history(rows: list[dict[str, Any]]) -> None:
    """The history as a table, oldest first."""
    console = _console()
    if not rows:
        console.print(cell("No events match."))
        return
    table = _table(_title("History"), (), title_justify="left")
    for column in ("#", "effective", "recorded", "actor", "summary", "reason", "source"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            cell(r["position"]), cell(r["effective"]),
            cell(r["recorded_at"][:19].replace("T", " ")), cell(r["actor"]), cell(r["summary"]),
            cell(r["reason"]), cell(r["source"]),
        )  # fmt: skip
    console.print(table)


def render_status(rows: list[dict[str, Any]]) -> None:
    """Read models against the head."""
    columns = ("read model", "position", "head", "behind")
    table = _table(_title("Read models"), columns, title_justify="left")
    for r in rows:
        table.add_row(cell(r["name"]), cell(r["position"]), cell(r["head"]), cell(r["behind"]))
    _console().print(table)
