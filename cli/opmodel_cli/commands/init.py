"""``opmodel init``: create the store."""

from __future__ import annotations

import click

from opmodel_cli.commands.common import emit_json, json_option, open_service


@click.command()
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the store's tables and append-only guards (safe to run again)."""
    with open_service(ctx, write=True) as service:
        head = service.head()
        location = str(service.location)
    if as_json:
        emit_json({"store": location, "initialised": True, "position": head})
        return
    from opmodel_cli.render import messages

    messages.initialised(location, head)
