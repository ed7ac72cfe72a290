"""``opmodel cluster``: form a cluster, designate its lead."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group()
def cluster() -> None:
    """Clusters: form one, designate its lead."""


@cluster.command("form")
@click.argument("name")
@click.option("--phases", type=int, default=5, show_default=True, help="Number of delivery phases.")
@click.option("--description")
@write_options
@writer("cluster form")
def cluster_form(name: str, phases: int, description: str | None) -> dict[str, Any]:
    """Form cluster NAME."""
    return {"name": name, "phases": phases, "description": description}


@cluster.command("lead")
@click.argument("name")
@click.argument("dept")
@write_options
@writer("cluster lead")
def cluster_lead(name: str, dept: str) -> dict[str, Any]:
    """Designate member DEPT as the lead of cluster NAME."""
    return {"name": name, "dept": dept}
