"""``opmodel import``: apply an import file as one atomic change."""

from __future__ import annotations

from pathlib import Path

import click

from opmodel_cli.commands.common import emit_json, json_option, open_service


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--actor", help="Actor for entries that name none (default $OPMODEL_ACTOR, else login)."
)
@click.option("--reason", help="Reason for entries that give none.")
@click.option("--source", help="Source for entries that give none.")
@json_option
@click.pass_context
def import_(
    ctx: click.Context,
    file: Path,
    actor: str | None,
    reason: str | None,
    source: str | None,
    as_json: bool,
) -> None:
    """Apply FILE (YAML or JSON) as one atomic change; a file is imported once."""
    from opmodel.importing.prefetch import Prefetched

    # A large file is parsed by a helper while the engine loads and the store opens.
    prefetched = Prefetched(file)
    try:
        from opmodel_cli.render import messages
        from opmodel_cli.render.progress import progress_bar

        with open_service(ctx, write=True) as service:
            bar = progress_bar(f"importing {file.name}", None, enabled=not as_json, unit="entries")
            with bar as advance:
                summary = service.import_file(
                    file,
                    actor=actor,
                    reason=reason,
                    source=source,
                    progress=advance,
                    parsed=prefetched.document,
                )
    finally:
        prefetched.discard()
    if as_json:
        emit_json(summary)
    else:
        messages.imported(summary)
