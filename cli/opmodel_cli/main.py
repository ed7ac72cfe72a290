"""The ``opmodel`` command line: the root group, error translation, and the entry point.

Groups are nouns, commands are verbs; each noun group lives in a module of its
own under :mod:`opmodel_cli.commands`, and what they print for people is drawn
by :mod:`opmodel_cli.render`. Heavy imports (the store, SQLAlchemy, pydantic,
rich) happen inside commands, so ``opmodel --help`` stays fast. Every error
opmodel raises on purpose becomes ``Error: …`` on stderr with the SPEC's exit
code; anything else is a bug (exit 1).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from opmodel_cli import collector
from opmodel_cli.commands.audit import audit
from opmodel_cli.commands.cluster import cluster
from opmodel_cli.commands.contract import contract
from opmodel_cli.commands.decision import decision
from opmodel_cli.commands.department import department
from opmodel_cli.commands.governance import assurance, benefit, business_case, funding
from opmodel_cli.commands.imports import import_
from opmodel_cli.commands.init import init
from opmodel_cli.commands.phase import phase
from opmodel_cli.commands.projections import projections
from opmodel_cli.commands.reading import diff, history, replay, show


class OpmodelGroup(click.Group):
    """A group that turns opmodel's errors into ``Error: …`` and exit codes."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run; usage errors print ``Error: …`` first (SPEC §6), then where to get help."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            if exc.ctx is not None:
                click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # Here, at the program's edge, not in run(): click's main() would catch it
            # first and exit 1.
            _reader_gone()
        except Exception as exc:
            _fail(exc)


def _fail(exc: BaseException) -> NoReturn:
    from opmodel.errors import OpmodelError
    from opmodel_cli.render.plain import plain

    if isinstance(exc, OpmodelError):
        click.echo(f"Error: {plain(exc.message)}", err=True)
        sys.exit(exc.exit_code)
    if os.environ.get("OPMODEL_DEBUG"):
        traceback.print_exc()
    click.echo(
        f"Error: internal error ({type(exc).__name__}: {plain(exc)}); this is a bug in opmodel. "
        "Set OPMODEL_DEBUG=1 to see the traceback.",
        err=True,
    )
    sys.exit(1)


def _reader_gone() -> NoReturn:
    """stdout's reader closed the pipe (``opmodel show | head``): end quietly, exit 0.

    The Python documentation's way (the ``signal`` module's note on SIGPIPE):
    point stdout at devnull, so the interpreter's last flush of what is still
    buffered has nowhere to fail and prints no "Exception ignored", then exit.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(0)


@click.group(cls=OpmodelGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    metavar="URL",
    default=None,
    help="Store: a SQLite path or sqlite:///file.db, or postgresql://user@host:5432/db. "
    "Default: $OPMODEL_STORE, else ./opmodel.db.",
)
@click.version_option(package_name="opmodel", prog_name="opmodel")
@click.pass_context
def main(ctx: click.Context, store: str | None) -> None:
    """Record and audit the operating model of a shared-services programme.

    Every change is an event in an append-only store; `show` and `history`
    read projections rebuilt from those events.
    """
    ctx.obj = {"store": store}


for _command in (
    init, cluster, department, phase, contract, decision, business_case, funding, benefit,
    assurance, import_, show, history, audit, diff, replay, projections,
):  # fmt: skip
    main.add_command(_command)


def run() -> None:
    """The ``opmodel`` program (also ``python -m opmodel_cli.main``), with the cycle
    collector held while it starts (:mod:`opmodel_cli.collector`)."""
    collector.hold()
    try:
        main()
    finally:
        collector.at_exit()


if __name__ == "__main__":  # pragma: no cover
    run()
