"""``opmodel decision``: propose, accept, reject, supersede."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group()
def decision() -> None:
    """Decisions: propose, accept, reject, supersede."""


@decision.command("propose")
@click.argument("title")
@click.option("--context", required=True)
@click.option("--decision", required=True)
@click.option("--consequences")
@click.option(
    "--concerns",
    multiple=True,
    metavar="REF",
    help="cluster:NAME, department:CODE, phase:CLUSTER:N or contract:REF "
    "(repeat, or comma-separate).",
)
@write_options
@writer("decision propose")
def decision_propose(
    title: str, context: str, decision: str, consequences: str | None, concerns: tuple[str, ...]
) -> dict[str, Any]:
    """Propose a decision titled TITLE; prints its id (DEC-0001, …)."""
    refs = tuple(r.strip() for given in concerns for r in given.split(",") if r.strip())
    return {
        "title": title,
        "context": context,
        "decision": decision,
        "consequences": consequences,
        "concerns": refs,
    }


@decision.command("accept")
@click.argument("id")
@write_options
@writer("decision accept")
def decision_accept(id: str) -> dict[str, Any]:
    """Accept proposed decision ID."""
    return {"id": id}


@decision.command("reject")
@click.argument("id")
@write_options
@writer("decision reject")
def decision_reject(id: str) -> dict[str, Any]:
    """Reject proposed decision ID."""
    return {"id": id}


@decision.command("supersede")
@click.argument("id")
@click.option("--by", required=True, metavar="ID")
@write_options
@writer("decision supersede")
def decision_supersede(id: str, by: str) -> dict[str, Any]:
    """Accepted decision ID is superseded by accepted decision --by ID."""
    return {"id": id, "by": by}
