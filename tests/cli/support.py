"""What the CLI tests share: rejected commands write nothing; stores recorded once per module."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cli

ACTOR = "test-architect"

Seen = tuple[list[dict[str, Any]], dict[str, Any]]


def everything_visible(cli: Cli) -> Seen:
    """The full history and the whole model, as a reader sees them."""
    return cli.history(), cli.json("show")


def assert_nothing_written(cli: Cli, before: Seen) -> None:
    """History and model are exactly as they were before the rejected command."""
    assert everything_visible(cli) == before


def assert_rejected(cli: Cli, *args: str, exit_code: int, naming: tuple[str, ...]) -> Result:
    """The command fails with ``exit_code``, says why on stderr, and writes nothing."""
    before = everything_visible(cli)
    result = cli(*args)
    assert result.exit_code == exit_code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("Error: "), result.stderr
    for thing in naming:
        assert thing in result.stderr, (thing, result.stderr)
    assert "Traceback" not in result.output
    assert_nothing_written(cli, before)
    return result


def recorded_store(factory: pytest.TempPathFactory, build: Callable[[Cli], object]) -> Path:
    """Run ``build`` once on a new store and keep the store's files as a template."""
    folder = factory.mktemp(build.__name__) / "store"
    build(Cli(f"sqlite:///{folder / 'opmodel.db'}", CliRunner(env={"OPMODEL_ACTOR": ACTOR})))
    return folder


def restored(cli: Cli, template: Path) -> Cli:
    """``cli`` on a copy of ``template``: the same history, recorded once per module."""
    assert cli.store.startswith("sqlite:///"), cli.store
    shutil.copytree(template, Path(cli.store.removeprefix("sqlite:///")).parent)
    return cli
