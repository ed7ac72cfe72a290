"""Governance: ``business-case``, ``funding``, ``benefit`` and ``assurance``."""

from __future__ import annotations

from typing import Any

import click

from opmodel_cli.commands.common import write_options, writer


@click.group("business-case")
def business_case() -> None:
    """Business cases (SOC, OBC, FBC)."""


@business_case.command("record")
@click.argument("cluster")
@click.option("--stage", required=True, help="SOC, OBC or FBC.")
@click.option("--status", required=True, help="submitted, approved or rejected.")
@click.option("--cost", metavar="MONEY", help="Whole-life cost.")
@click.option("--benefits", metavar="MONEY")
@click.option("--period-years", type=int, help="Appraisal period.")
@write_options
@writer("business-case record")
def business_case_record(**params: Any) -> dict[str, Any]:
    """Record a business case of CLUSTER."""
    return params


@click.group()
def funding() -> None:
    """Funding envelopes."""


@funding.command("grant")
@click.argument("cluster")
@click.option("--amount", required=True, metavar="MONEY")
@write_options
@writer("funding grant")
def funding_grant(**params: Any) -> dict[str, Any]:
    """Record funding granted to CLUSTER."""
    return params


@click.group()
def benefit() -> None:
    """Benefits realised."""


@benefit.command("realise")
@click.argument("cluster")
@click.option("--amount", required=True, metavar="MONEY")
@click.option("--kind", required=True, help="cashable or non-cashable.")
@click.option("--period", help="The period, like 2023-24.")
@write_options
@writer("benefit realise")
def benefit_realise(**params: Any) -> dict[str, Any]:
    """Record benefits realised by CLUSTER."""
    return params


@click.group()
def assurance() -> None:
    """Assurance (delivery confidence) ratings."""


@assurance.command("rate")
@click.argument("cluster")
@click.option("--rating", required=True, help="green, amber-green, amber, amber-red or red.")
@click.option("--assessor")
@write_options
@writer("assurance rate")
def assurance_rate(**params: Any) -> dict[str, Any]:
    """Record a delivery confidence rating of CLUSTER."""
    return params
