"""Reading the model and its history: ``show``, ``history``, ``diff``, ``replay``."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import MAX_INT, TEXT, emit_json, json_option, open_service


@click.command()
@click.option("--cluster", type=TEXT, help="Only this cluster, its members and decisions.")
@click.option("--as-of", type=TEXT, metavar="DATE", help="What is now believed was true on DATE.")
@click.option(
    "--as-recorded",
    type=TEXT,
    metavar="T|@POS",
    help="What the store said at moment T (or at position POS).",
)
@click.option(
    "--at-phase",
    type=TEXT,
    metavar="C:N[:start]",
    help="As of the completion (or start) of a phase.",
)
@json_option
@click.pass_context
def show(
    ctx: click.Context,
    cluster: str | None,
    as_of: str | None,
    as_recorded: str | None,
    at_phase: str | None,
    as_json: bool,
) -> None:
    """The operating model: now, or at a point in time."""
    with open_service(ctx, write=False) as service:
        model = service.show(
            cluster=cluster, as_of=as_of, as_recorded=as_recorded, at_phase=at_phase
        ).to_json()
    if as_json:
        emit_json(model)
        return
    from opmodel_cli.render.tables import render_model

    render_model(model)


@click.command()
@click.option("--cluster", type=TEXT)
@click.option("--department", type=TEXT, metavar="CODE")
@click.option("--contract", type=TEXT, metavar="REF")
@click.option("--actor", type=TEXT)
@click.option("--since", type=TEXT, metavar="DATE", help="Effective on or after DATE.")
@click.option("--until", type=TEXT, metavar="DATE", help="Effective on or before DATE.")
@click.option("--limit", type=click.IntRange(min=1, max=MAX_INT))
@json_option
@click.pass_context
def history(ctx: click.Context, /, as_json: bool, **filters: Any) -> None:
    """Who changed what, when, why, on what evidence (oldest first)."""
    from opmodel import parse_code, parse_date

    for key in ("since", "until"):
        if filters[key] is not None:
            filters[key] = parse_date(filters[key], what=f"--{key}")
    if filters["department"] is not None:
        filters["department"] = parse_code(filters["department"])
    with open_service(ctx, write=False) as service:
        rows = [entry.to_json() for entry in service.history(**filters)]
    if as_json:
        emit_json(rows)
        return
    from opmodel_cli.render.tables import render_history

    render_history(rows)


@click.command()
@click.argument("start", type=TEXT, metavar="FROM")
@click.argument("end", type=TEXT, metavar="TO")
@json_option
@click.pass_context
def diff(ctx: click.Context, start: str, end: str, as_json: bool) -> None:
    """What changed between FROM and TO (each a date, @POS or phase:CLUSTER:N)."""
    with open_service(ctx, write=False) as service:
        result = service.diff(start, end).to_json()
    if as_json:
        emit_json(result)
        return
    from opmodel_cli.render import messages

    messages.diff(start, end, result)


@click.command()
@click.option("--until", type=TEXT, metavar="T|@POS", help="Stop at moment T or position POS.")
@json_option
@click.pass_context
def replay(ctx: click.Context, until: str | None, as_json: bool) -> None:
    """Step through the history event by event: what each changed in the model."""
    with open_service(ctx, write=False) as service:
        steps = [step.to_json() for step in service.replay(until)]
    if as_json:
        emit_json(steps)
        return
    from opmodel_cli.render import messages

    messages.replay(steps)
