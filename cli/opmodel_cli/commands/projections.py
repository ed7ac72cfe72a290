"""``opmodel projections``: the read models' positions; catching up, following, rebuilding."""

from __future__ import annotations

import click

from opmodel_cli.commands.common import emit_json, json_option, open_service


@click.group()
def projections() -> None:
    """Read models: their positions, and rebuilding them from the events."""


@projections.command("status")
@json_option
@click.pass_context
def projections_status(ctx: click.Context, as_json: bool) -> None:
    """Each read model's position against the store's head."""
    with open_service(ctx, write=False) as service:
        rows = service.status()
    if as_json:
        emit_json(rows)
        return
    from opmodel_cli.render.tables import render_status

    render_status(rows)


@projections.command("update")
@json_option
@click.pass_context
def projections_update(ctx: click.Context, as_json: bool) -> None:
    """Apply to every read model the events it has not applied yet (after a crash, say)."""
    with open_service(ctx, write=True) as service:
        applied = service.catch_up()
        rows = service.status()
    if as_json:
        emit_json({"applied": applied, "read_models": rows})
        return
    from opmodel_cli.render import messages

    messages.caught_up(applied, rows[0]["head"])


@projections.command("follow")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls (SQLite), or the longest wait for a notification.",
)
@json_option
@click.pass_context
def projections_follow(ctx: click.Context, interval: float, as_json: bool) -> None:
    """Keep the read models up to date as events are committed, until stopped.

    On PostgreSQL it wakes on each commit (LISTEN/NOTIFY); on SQLite it polls.
    Stop it with Ctrl-C or SIGTERM.
    """
    import signal
    import threading

    from opmodel_cli.render import messages

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def report(applied: int, head: int) -> None:
        if not as_json:
            messages.applied(applied, head)

    with open_service(ctx, write=True) as service:
        total = service.follow(interval=interval, stop=stop, on_applied=report)
        head = service.head()
    if as_json:
        emit_json({"applied": total, "position": head})
    else:
        messages.stopped(total, head)


@projections.command("rebuild")
@click.argument("name", required=False)
@json_option
@click.pass_context
def projections_rebuild(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Drop read model NAME (default: all) and rebuild it from the events."""
    from opmodel_cli.render.progress import progress_bar

    with open_service(ctx, write=True) as service:
        names = service.projection_names(name)
        total = service.head()
        with progress_bar("rebuilding " + ", ".join(names), total, enabled=not as_json) as advance:
            summary = service.rebuild(names, progress=advance)
    if as_json:
        emit_json(summary)
        return
    from opmodel_cli.render import messages

    messages.rebuilt(summary)
