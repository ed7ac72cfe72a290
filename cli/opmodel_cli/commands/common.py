"""What every command shares: the store, the write options, recording a command, JSON."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from opmodel.service import Outcome, Service

F = TypeVar("F", bound=Callable[..., Any])

#: The parameters :func:`write_options` adds to a write command (its metadata and ``--json``).
WRITE_PARAMETERS = ("actor", "reason", "effective", "source", "as_json")


def open_service(ctx: click.Context, *, write: bool) -> Service:
    """The store named by ``--store`` (or the default), opened to read or to write."""
    from opmodel.service import Service
    from opmodel_cli import collector

    service = Service.open(ctx.find_root().obj["store"], write=write, read_only=not write)
    collector.started()
    return service


def emit_json(document: Any) -> None:
    """Print ``document`` as the command's one JSON document on stdout."""
    click.echo(dumps_json(document))


def dumps_json(document: Any) -> str:
    """``document`` as indented JSON: two spaces, keys in the document's order, UTF-8 as is.

    orjson writes what ``json.dumps(indent=2, ensure_ascii=False)`` writes, byte for
    byte, for opmodel's documents (strings, integers, booleans, nulls, lists,
    string-keyed mappings, and durations rounded to milliseconds), some twenty
    times faster: the standard library's C encoder is not used once ``indent`` is
    given. (The two differ only on floats below 0.0001, ``1e-5`` against ``1e-05``,
    and on NaN, which opmodel never writes.) Anything orjson refuses (a key that is
    not a string, an integer beyond 64 bits, a string that is not valid UTF-8)
    goes through the standard library as before.
    """
    import orjson

    try:
        return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8")
    except TypeError:
        return json.dumps(document, indent=2, ensure_ascii=False)


class Text(click.ParamType[Any, Any]):
    """Text as typed: refused (exit 2) when it holds bytes that are not UTF-8 (surrogates)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.fail(f"{value!r} is not valid text (it holds bytes that are not UTF-8)")
        return value


#: The type of every free-text option and argument of the read commands.
TEXT = Text()

#: Positions, limits and counts: at most what SQLite's and PostgreSQL's integers hold.
MAX_INT = 2**63 - 1

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def write_options(func: F) -> F:
    """``--actor --reason --effective --source --json`` for every write command."""
    options = [
        click.option(
            "--actor", help="Who is making the change (default $OPMODEL_ACTOR, else login)."
        ),
        click.option("--reason", help="Why the change is made."),
        click.option(
            "--effective", metavar="DATE", help="Date it took effect (YYYY-MM-DD; default today)."
        ),
        click.option("--source", help="Evidence: a URL or document reference."),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def writer(name: str) -> Callable[[F], F]:
    """Make a click callback record command ``name`` from the arguments it returns.

    The callback returns the command's arguments by the names of
    :mod:`opmodel.commands`' model for ``name`` (tests/cli checks the options
    against the model); validation, the write and the report happen here.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        @click.pass_context
        def callback(ctx: click.Context, /, **params: Any) -> None:
            options = {k: params.pop(k) for k in WRITE_PARAMETERS}
            _record(ctx, name, func(**params), options)

        return callback  # type: ignore[return-value]

    return decorate


def _record(
    ctx: click.Context, name: str, arguments: dict[str, Any], options: dict[str, Any]
) -> None:
    """Validate, run one write command, and report what was written."""
    from opmodel import parse_effective
    from opmodel.commands import build
    from opmodel.service import make_meta

    given = {k: v for k, v in arguments.items() if v is not None and v != ()}
    command = build(name, given)
    effective = options.get("effective")
    meta = make_meta(
        effective=parse_effective(effective) if effective is not None else None,
        actor=options.get("actor"),
        reason=options.get("reason"),
        source=options.get("source"),
    )
    from opmodel.errors import ReadModelsBehind

    as_json = options.get("as_json", False)
    with open_service(ctx, write=True) as service:
        try:
            outcome = service.execute([(command, meta)])
        except ReadModelsBehind as behind:
            # Recorded all the same (exit 8): say what was written, then the error.
            _report(name, behind.outcome, as_json=as_json, read_models_behind=True)
            raise
    _report(name, outcome, as_json=as_json)


def _report(
    name: str, outcome: Outcome, *, as_json: bool, read_models_behind: bool = False
) -> None:
    result = next((r for r in outcome.results if r), None)
    if as_json:
        document: dict[str, Any] = {
            "command": name,
            "command_id": outcome.command_id,
            "positions": list(outcome.positions),
            "result": result,
        }
        if read_models_behind:
            document["read_models_behind"] = True
        emit_json(document)
        return
    from opmodel_cli.render import messages

    messages.recorded(name, outcome.positions, outcome.command_id, result)
