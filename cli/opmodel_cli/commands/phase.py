"""``opmodel phase``: plan, start, complete a delivery phase; onboard a department in it."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group()
def phase() -> None:
    """Delivery phases: plan, start, complete, onboard departments."""


@phase.command("plan")
@click.argument("cluster")
@click.argument("number", type=int)
@click.option("--name", required=True)
@click.option("--start", metavar="DATE", help="Planned start (YYYY-MM-DD).")
@click.option("--end", metavar="DATE", help="Planned end (YYYY-MM-DD).")
@write_options
@writer("phase plan")
def phase_plan(
    cluster: str, number: int, name: str, start: str | None, end: str | None
) -> dict[str, Any]:
    """Plan (or re-plan) phase NUMBER of CLUSTER."""
    return {"cluster": cluster, "number": number, "name": name, "start": start, "end": end}


@phase.command("start")
@click.argument("cluster")
@click.argument("number", type=int)
@write_options
@writer("phase start")
def phase_start(cluster: str, number: int) -> dict[str, Any]:
    """Start phase NUMBER of CLUSTER (on --effective)."""
    return {"cluster": cluster, "number": number}


@phase.command("complete")
@click.argument("cluster")
@click.argument("number", type=int)
@write_options
@writer("phase complete")
def phase_complete(cluster: str, number: int) -> dict[str, Any]:
    """Complete phase NUMBER of CLUSTER (on --effective)."""
    return {"cluster": cluster, "number": number}


@phase.command("onboard")
@click.argument("cluster")
@click.argument("number", type=int)
@click.argument("dept")
@write_options
@writer("phase onboard")
def phase_onboard(cluster: str, number: int, dept: str) -> dict[str, Any]:
    """Department DEPT goes live in phase NUMBER of CLUSTER."""
    return {"cluster": cluster, "number": number, "dept": dept}
