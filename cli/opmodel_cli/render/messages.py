"""The one-line reports of commands that change or check the store, and the change logs.

Each line goes through :func:`~opmodel_cli.render.plain.plain` whole: what is
stored in it (a name in a summary, an actor) is shown, never obeyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from opmodel_cli.render.plain import plain


def _say(line: str) -> None:
    click.echo(plain(line))


def recorded(name: str, positions: Sequence[int], command_id: str, result: str | None) -> None:
    """A write command's report: what it created (if anything) and where it was written."""
    where = (
        f"positions {positions[0]}-{positions[-1]}"
        if len(positions) > 1
        else f"position {positions[0]}"
        if positions
        else "nothing new"
    )
    prefix = f"{result}: " if result else ""
    _say(f"{prefix}recorded {name} at {where} (command {command_id[:12]})")


def initialised(location: str, head: int) -> None:
    _say(f"store {location} is ready (position {head})")


def imported(summary: dict[str, Any]) -> None:
    _say(
        f"imported {summary['file']}: {summary['entries']} entries, {summary['events']} "
        f"events at positions {summary['first_position']}-{summary['last_position']} "
        f"(command {summary['command_id'][:12]})"
    )


def digest(position: int, head: str) -> None:
    _say(f"{position}:{head}")


def verified(events: int, head: tuple[int, str], matched: str | None, pending: int = 0) -> None:
    """``audit verify`` passed; ``matched`` is the digest it was checked against, if any;
    ``pending`` events are stored after the ledger's last position."""
    checked = f"; matches digest {matched}" if matched else ""
    behind = (
        f"; {pending} later event{'s' if pending != 1 else ''} not yet in the ledger "
        "(chained, not a failure: run opmodel projections update)"
        if pending
        else ""
    )
    _say(f"OK: {events} events verified, chain head {head[0]}:{head[1]}{checked}{behind}")


def exported(summary: dict[str, Any]) -> None:
    _say(
        f"wrote {summary['events']} events to {summary['out']} "
        f"(digest {summary['position']}:{summary['hash']}); check it with "
        f"python3 {Path(summary['out']) / 'verify.py'} {summary['out']}"
    )


def diff(start: str, end: str, result: dict[str, Any]) -> None:
    """What changed between two points, one change a line."""
    _say(
        f"From {start} (position {result['from']['position']}) "
        f"to {end} (position {result['to']['position']}):"
    )
    if not result["changes"]:
        _say("  nothing changed.")
    for change in result["changes"]:
        _say(f"  {change['summary']}")


def replay(steps: list[dict[str, Any]]) -> None:
    """Each event, then what it changed in the model, indented."""
    for step in steps:
        _say(f"#{step['position']} {step['effective']} {step['actor']}: {step['summary']}")
        for change in step["changes"]:
            _say(f"    {change['summary']}")


def caught_up(applied: int, head: int) -> None:
    _say(f"applied {applied} events; read models at position {head}")


def applied(count: int, head: int) -> None:
    """``projections follow``: one batch applied."""
    _say(f"applied {count} events (head {head})")


def stopped(total: int, head: int) -> None:
    _say(f"stopped; applied {total} events in all (head {head})")


def rebuilt(summary: dict[str, Any]) -> None:
    _say(
        f"rebuilt {', '.join(summary['rebuilt'])} from {summary['events']} events "
        f"in {summary['seconds']:.2f}s ({summary['events_per_second']:,.0f} events/s)"
    )
