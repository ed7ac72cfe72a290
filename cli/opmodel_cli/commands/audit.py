"""``opmodel audit``: digest, verify and export the hash chain of the stored events."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from opmodel_cli.commands.common import emit_json, json_option, open_service


@click.group()
def audit() -> None:
    """Prove the history is the history that was recorded: digest, verify, export."""


@audit.command("digest")
@json_option
@click.pass_context
def audit_digest(ctx: click.Context, as_json: bool) -> None:
    """Print the hash chain's head as N:HEX; keep it outside the store."""
    from opmodel.audit.integrity import take_digest

    with open_service(ctx, write=False) as service:
        position, head = take_digest(service.database)
    if as_json:
        emit_json({"position": position, "hash": head})
        return
    from opmodel_cli.render import messages

    messages.digest(position, head)


@audit.command("verify")
@click.argument("digest_file", required=False, metavar="[FILE]")
@click.option(
    "--digest", metavar="N:HEX|FILE", help="A digest taken earlier (or a file holding it)."
)
@json_option
@click.pass_context
def audit_verify(
    ctx: click.Context, digest_file: str | None, digest: str | None, as_json: bool
) -> None:
    """Recompute the hash chain from the stored events; exit 7 at the first mismatch."""
    from opmodel.audit.integrity import read_digest, require_intact, verify
    from opmodel_cli.render.progress import progress_bar

    given = digest or digest_file
    expected = read_digest(given) if given else None
    with open_service(ctx, write=False) as service:
        # --json shows no bar, so it need not open the event store to learn the head.
        total = 0 if as_json else service.head()
        with progress_bar("verifying", total, enabled=total > 50_000) as bar:
            report = verify(service.database, expected, progress=bar)
    if as_json:
        emit_json(report.as_json())
        if not report.ok:
            sys.exit(7)
        return
    require_intact(report)
    from opmodel_cli.render import messages

    messages.verified(report.events, report.head, given if expected else None, report.pending)


@audit.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@json_option
@click.pass_context
def audit_export(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Write an evidence pack: events with hashes, the digest, a README and verify.py."""
    from opmodel.audit.integrity import export
    from opmodel_cli.render.progress import progress_bar

    with open_service(ctx, write=False) as service:
        total = service.head()
        with progress_bar("exporting", total, enabled=not as_json and total > 50_000) as bar:
            summary = export(service.database, out, progress=bar)
    if as_json:
        emit_json(summary)
        return
    from opmodel_cli.render import messages

    messages.exported(summary)
