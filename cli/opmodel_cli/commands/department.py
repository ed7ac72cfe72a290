"""``opmodel department``: register, rename, record headcount, join, leave, move."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group()
def department() -> None:
    """Departments and arm's-length bodies: register, rename, join, leave, move."""


@department.command("register")
@click.argument("code")
@click.option("--name", required=True, help="Full name.")
@click.option(
    "--kind", default="ministerial", show_default=True, help="ministerial, non-ministerial or alb."
)
@click.option("--parent", metavar="CODE", help="Parent department of an alb.")
@click.option("--headcount", type=int)
@write_options
@writer("department register")
def department_register(
    code: str, name: str, kind: str, parent: str | None, headcount: int | None
) -> dict[str, Any]:
    """Register department CODE (2-12 of A-Z 0-9 -)."""
    return {"code": code, "name": name, "kind": kind, "parent": parent, "headcount": headcount}


@department.command("rename")
@click.argument("code")
@click.option("--name", help="New name.")
@click.option("--code", "new_code", metavar="NEWCODE", help="New code (history follows).")
@write_options
@writer("department rename")
def department_rename(code: str, name: str | None, new_code: str | None) -> dict[str, Any]:
    """Rename or re-code department CODE (a machinery-of-government change)."""
    return {"code": code, "name": name, "new_code": new_code}


@department.command("headcount", context_settings={"ignore_unknown_options": True})
@click.argument("code")
@click.argument("headcount", type=int)
@write_options
@writer("department headcount")
def department_headcount(code: str, headcount: int) -> dict[str, Any]:
    """Record the HEADCOUNT of department CODE."""
    return {"code": code, "headcount": headcount}


@department.command("join")
@click.argument("code")
@click.argument("cluster")
@write_options
@writer("department join")
def department_join(code: str, cluster: str) -> dict[str, Any]:
    """Department CODE joins CLUSTER."""
    return {"code": code, "cluster": cluster}


@department.command("leave")
@click.argument("code")
@write_options
@writer("department leave")
def department_leave(code: str) -> dict[str, Any]:
    """Department CODE leaves its cluster."""
    return {"code": code}


@department.command("move")
@click.argument("code")
@click.argument("cluster")
@write_options
@writer("department move")
def department_move(code: str, cluster: str) -> dict[str, Any]:
    """Move department CODE to CLUSTER in one atomic change."""
    return {"code": code, "cluster": cluster}
