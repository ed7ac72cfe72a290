"""``opmodel contract``: tender, award, correct, extend, vary, terminate."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group()
def contract() -> None:
    """Contracts: tender, award, correct, extend, vary, terminate."""


@contract.command("award")
@click.argument("ref")
@click.option("--cluster", required=True)
@click.option(
    "--kind",
    required=True,
    help="software, systems-integration, business-process-services, consultancy, other.",
)
@click.option("--supplier", required=True)
@click.option("--value", required=True, metavar="MONEY", help="Like 933.65m, £1.4m, 1.18bn, 70k.")
@click.option("--start", required=True, metavar="DATE")
@click.option("--term-months", required=True, type=int)
@click.option("--extension-months", type=int, default=0, show_default=True)
@click.option("--bundled-with", metavar="REF")
@click.option("--framework")
@write_options
@writer("contract award")
def contract_award(**params: Any) -> dict[str, Any]:
    """Award contract REF."""
    return params


@contract.command("tender")
@click.argument("ref")
@click.option("--cluster", required=True)
@click.option("--kind", required=True)
@click.option("--estimated-value", required=True, metavar="MONEY")
@click.option("--term-months", type=int)
@click.option("--extension-months", type=int)
@write_options
@writer("contract tender")
def contract_tender(**params: Any) -> dict[str, Any]:
    """Record the contract notice for REF."""
    return params


@contract.command("correct")
@click.argument("ref")
@click.option("--term-months", type=int)
@click.option("--extension-months", type=int)
@click.option("--value", metavar="MONEY")
@click.option("--start", metavar="DATE")
@click.option("--supplier")
@write_options
@writer("contract correct")
def contract_correct(**params: Any) -> dict[str, Any]:
    """Correct facts of REF recorded wrongly (from --effective)."""
    return params


@contract.command("extend")
@click.argument("ref")
@click.option("--months", required=True, type=int)
@write_options
@writer("contract extend")
def contract_extend(**params: Any) -> dict[str, Any]:
    """Exercise MONTHS of REF's extension allowance."""
    return params


@contract.command("vary")
@click.argument("ref")
@click.option("--value", required=True, metavar="MONEY")
@write_options
@writer("contract vary")
def contract_vary(**params: Any) -> dict[str, Any]:
    """Vary the value of REF (give --reason)."""
    return params


@contract.command("terminate")
@click.argument("ref")
@write_options
@writer("contract terminate")
def contract_terminate(**params: Any) -> dict[str, Any]:
    """Terminate REF."""
    return params
