"""CLI: each write command's options are its command model's fields, no more, no fewer.

A write command is declared once, in :mod:`opmodel.commands`; the click
options are written beside the command for their help and metavars, and this
test holds the two together: a field added to a model without its option (or
an option the model does not know, or one required on one side only) fails here.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from pydantic import create_model

from opmodel.commands import COMMANDS, Command
from opmodel_cli.commands.common import WRITE_PARAMETERS
from opmodel_cli.main import main


def leaves(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` with its words (``"cluster form"``)."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def is_write_command(command: click.Command) -> bool:
    """It takes the shared write options (``import`` takes some of them, not ``--effective``)."""
    return set(WRITE_PARAMETERS) <= {p.name for p in command.params}


WRITE_COMMANDS = {path: command for path, command in leaves(main) if is_write_command(command)}


def cli_parameters(command: click.Command) -> dict[str, bool]:
    """A command's own parameters by their CLI names, and whether each is required."""
    return {
        p.name.replace("_", "-"): p.required
        for p in command.params
        if p.name is not None and p.name not in WRITE_PARAMETERS
    }


def model_fields(model: type[Command]) -> dict[str, bool]:
    """A command model's fields by their CLI names (alias, else name), and whether required."""
    return {
        (field.alias or key).replace("_", "-"): field.is_required()
        for key, field in model.model_fields.items()
    }


def test_every_command_model_has_a_write_command_and_every_write_command_a_model() -> None:
    assert sorted(WRITE_COMMANDS) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_write_commands_options_are_its_models_fields_required_alike(name: str) -> None:
    assert cli_parameters(WRITE_COMMANDS[name]) == model_fields(COMMANDS[name])


def test_a_field_added_to_a_model_without_its_option_breaks_the_match() -> None:
    extend = COMMANDS["contract extend"]
    grown = create_model("GrownExtendContract", __base__=extend, note=(str | None, None))
    options = cli_parameters(WRITE_COMMANDS["contract extend"])
    assert options == model_fields(extend)
    assert options != model_fields(grown)
