"""The ``opmodel`` command line: parse, call the public API, render. Nothing else.

Groups are nouns, commands are verbs. Heavy imports (the store, SQLAlchemy,
pydantic, rich) happen inside commands, so ``opmodel --help`` stays fast.
Every error opmodel raises on purpose becomes ``Error: …`` on stderr with the
SPEC's exit code; anything else is a bug (exit 1).
"""

from __future__ import annotations

import functools
import gc
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from opmodel.service import Outcome, Service

F = TypeVar("F", bound=Callable[..., Any])


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
        except Exception as exc:
            _fail(exc)


def _fail(exc: BaseException) -> None:
    from opmodel.errors import OpmodelError

    if isinstance(exc, OpmodelError):
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    if os.environ.get("OPMODEL_DEBUG"):
        traceback.print_exc()
    click.echo(
        f"Error: internal error ({type(exc).__name__}: {exc}); this is a bug in opmodel. "
        "Set OPMODEL_DEBUG=1 to see the traceback.",
        err=True,
    )
    sys.exit(1)


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


def _open(ctx: click.Context, *, write: bool) -> Service:
    from opmodel.service import Service

    service = Service.open(ctx.find_root().obj["store"], write=write)
    _Collector.started()
    return service


def _emit_json(document: Any) -> None:
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
    with _open(ctx, write=True) as service:
        outcome = service.execute([(command, meta)])
    _report(name, outcome, as_json=options.get("as_json", False))


def _report(name: str, outcome: Outcome, *, as_json: bool) -> None:
    result = next((r for r in outcome.results if r), None)
    if as_json:
        _emit_json(
            {
                "command": name,
                "command_id": outcome.command_id,
                "positions": list(outcome.positions),
                "result": result,
            }
        )
        return
    where = (
        f"positions {outcome.positions[0]}-{outcome.positions[-1]}"
        if len(outcome.positions) > 1
        else f"position {outcome.positions[0]}"
        if outcome.positions
        else "nothing new"
    )
    prefix = f"{result}: " if result else ""
    click.echo(f"{prefix}recorded {name} at {where} (command {outcome.command_id[:12]})")


def writer(name: str) -> Callable[[F], F]:
    """Make a click callback record command ``name`` from its parameters."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        @click.pass_context
        def callback(ctx: click.Context, /, **params: Any) -> None:
            meta_keys = ("actor", "reason", "effective", "source", "as_json")
            options = {k: params.pop(k) for k in meta_keys}
            _record(ctx, name, func(**params), options)

        return callback  # type: ignore[return-value]

    return decorate


# --- init ----------------------------------------------------------------------------


@main.command()
@json_option
@click.pass_context
def init(ctx: click.Context, as_json: bool) -> None:
    """Create the store's tables and append-only guards (safe to run again)."""
    with _open(ctx, write=True) as service:
        head = service.head()
        location = str(service.location)
    if as_json:
        _emit_json({"store": location, "initialised": True, "position": head})
    else:
        click.echo(f"store {location} is ready (position {head})")


# --- clusters ----------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
def cluster() -> None:
    """Clusters: form one, designate its lead."""


@cluster.command("form")
@click.argument("name")
@click.option("--phases", type=int, default=5, show_default=True, help="Number of delivery phases.")
@click.option("--description")
@write_options
@writer("cluster form")
def cluster_form(name: str, phases: int, description: str | None) -> dict[str, Any]:
    """Form cluster NAME."""
    return {"name": name, "phases": phases, "description": description}


@cluster.command("lead")
@click.argument("name")
@click.argument("dept")
@write_options
@writer("cluster lead")
def cluster_lead(name: str, dept: str) -> dict[str, Any]:
    """Designate member DEPT as the lead of cluster NAME."""
    return {"name": name, "dept": dept}


# --- departments -------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
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


# --- phases --------------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
def phase() -> None:
    """Delivery phases: plan, start, complete, onboard departments."""


@phase.command("plan")
@click.argument("cluster")
@click.argument("number", type=int)
@click.option("--name", required=True)
@click.option("--start", metavar="DATE", help="Planned start (YYYY-MM-DD).")
@click.option("--end", metavar="DATE", help="Planned end (YYYY-MM-DD).")
@write_options
@writer("phase plan")
def phase_plan(
    cluster: str, number: int, name: str, start: str | None, end: str | None
) -> dict[str, Any]:
    """Plan (or re-plan) phase NUMBER of CLUSTER."""
    return {"cluster": cluster, "number": number, "name": name, "start": start, "end": end}


@phase.command("start")
@click.argument("cluster")
@click.argument("number", type=int)
@write_options
@writer("phase start")
def phase_start(cluster: str, number: int) -> dict[str, Any]:
    """Start phase NUMBER of CLUSTER (on --effective)."""
    return {"cluster": cluster, "number": number}


@phase.command("complete")
@click.argument("cluster")
@click.argument("number", type=int)
@write_options
@writer("phase complete")
def phase_complete(cluster: str, number: int) -> dict[str, Any]:
    """Complete phase NUMBER of CLUSTER (on --effective)."""
    return {"cluster": cluster, "number": number}


@phase.command("onboard")
@click.argument("cluster")
@click.argument("number", type=int)
@click.argument("dept")
@write_options
@writer("phase onboard")
def phase_onboard(cluster: str, number: int, dept: str) -> dict[str, Any]:
    """Department DEPT goes live in phase NUMBER of CLUSTER."""
    return {"cluster": cluster, "number": number, "dept": dept}


# --- contracts -----------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
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


# --- decisions -----------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
def decision() -> None:
    """Decisions: propose, accept, reject, supersede."""


@decision.command("propose")
@click.argument("title")
@click.option("--context", required=True)
@click.option("--decision", required=True)
@click.option("--consequences")
@click.option(
    "--concerns",
    multiple=True,
    metavar="REF",
    help="cluster:NAME, department:CODE, phase:CLUSTER:N or contract:REF "
    "(repeat, or comma-separate).",
)
@write_options
@writer("decision propose")
def decision_propose(
    title: str, context: str, decision: str, consequences: str | None, concerns: tuple[str, ...]
) -> dict[str, Any]:
    """Propose a decision titled TITLE; prints its id (DEC-0001, …)."""
    refs = tuple(r.strip() for given in concerns for r in given.split(",") if r.strip())
    return {
        "title": title,
        "context": context,
        "decision": decision,
        "consequences": consequences,
        "concerns": refs,
    }


@decision.command("accept")
@click.argument("id")
@write_options
@writer("decision accept")
def decision_accept(id: str) -> dict[str, Any]:
    """Accept proposed decision ID."""
    return {"id": id}


@decision.command("reject")
@click.argument("id")
@write_options
@writer("decision reject")
def decision_reject(id: str) -> dict[str, Any]:
    """Reject proposed decision ID."""
    return {"id": id}


@decision.command("supersede")
@click.argument("id")
@click.option("--by", required=True, metavar="ID")
@write_options
@writer("decision supersede")
def decision_supersede(id: str, by: str) -> dict[str, Any]:
    """Accepted decision ID is superseded by accepted decision --by ID."""
    return {"id": id, "by": by}


# --- governance ----------------------------------------------------------------------


@main.group("business-case", cls=OpmodelGroup)
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


@main.group(cls=OpmodelGroup)
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


@main.group(cls=OpmodelGroup)
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


@main.group(cls=OpmodelGroup)
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


# --- import --------------------------------------------------------------------------


@main.command("import")
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
    from opmodel_cli.render import progress_bar

    with _open(ctx, write=True) as service:
        bar = progress_bar(f"importing {file.name}", None, enabled=not as_json, unit="entries")
        with bar as advance:
            summary = service.import_file(
                file, actor=actor, reason=reason, source=source, progress=advance
            )
    if as_json:
        _emit_json(summary)
    else:
        click.echo(
            f"imported {summary['file']}: {summary['entries']} entries, {summary['events']} "
            f"events at positions {summary['first_position']}-{summary['last_position']} "
            f"(command {summary['command_id'][:12]})"
        )


# --- reading -------------------------------------------------------------------------


@main.command()
@click.option("--cluster", help="Only this cluster, its members and decisions.")
@click.option("--as-of", metavar="DATE", help="What is now believed was true on DATE.")
@click.option(
    "--as-recorded",
    metavar="T|@POS",
    help="What the store said at moment T (or at position POS).",
)
@click.option(
    "--at-phase", metavar="C:N[:start]", help="As of the completion (or start) of a phase."
)
@json_option
@click.pass_context
def show(
    ctx: click.Context,
    cluster: str | None,
    as_of: str | None,
    as_recorded: str | None,
    at_phase: str | None,
    as_json: bool,
) -> None:
    """The operating model: now, or at a point in time."""
    with _open(ctx, write=False) as service:
        model = service.show(
            cluster=cluster, as_of=as_of, as_recorded=as_recorded, at_phase=at_phase
        )
    if as_json:
        _emit_json(model)
        return
    from opmodel_cli.render import render_model

    render_model(model)


@main.command()
@click.option("--cluster")
@click.option("--department", metavar="CODE")
@click.option("--contract", metavar="REF")
@click.option("--actor")
@click.option("--since", metavar="DATE", help="Effective on or after DATE.")
@click.option("--until", metavar="DATE", help="Effective on or before DATE.")
@click.option("--limit", type=click.IntRange(min=1))
@json_option
@click.pass_context
def history(ctx: click.Context, /, as_json: bool, **filters: Any) -> None:
    """Who changed what, when, why, on what evidence (oldest first)."""
    from opmodel import parse_code, parse_date

    for key in ("since", "until"):
        if filters[key] is not None:
            filters[key] = parse_date(filters[key], what=f"--{key}")
    if filters["department"] is not None:
        filters["department"] = parse_code(filters["department"])
    with _open(ctx, write=False) as service:
        rows = service.history(**filters)
    if as_json:
        _emit_json(rows)
        return
    from opmodel_cli.render import render_history

    render_history(rows)


# --- audit ---------------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
def audit() -> None:
    """Prove the history is the history that was recorded: digest, verify, export."""


@audit.command("digest")
@json_option
@click.pass_context
def audit_digest(ctx: click.Context, as_json: bool) -> None:
    """Print the hash chain's head as N:HEX; keep it outside the store."""
    from opmodel.audit.integrity import take_digest

    with _open(ctx, write=False) as service:
        position, head = take_digest(service.database)
    if as_json:
        _emit_json({"position": position, "hash": head})
    else:
        click.echo(f"{position}:{head}")


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
    from opmodel_cli.render import progress_bar

    given = digest or digest_file
    expected = read_digest(given) if given else None
    with _open(ctx, write=False) as service:
        # --json shows no bar, so it need not open the event store to learn the head.
        total = 0 if as_json else service.head()
        with progress_bar("verifying", total, enabled=total > 50_000) as bar:
            report = verify(service.database, expected, progress=bar)
    if as_json:
        _emit_json(report.as_json())
        if not report.ok:
            sys.exit(7)
        return
    require_intact(report)
    checked = f"; matches digest {given}" if expected else ""
    click.echo(
        f"OK: {report.events} events verified, chain head {report.head[0]}:{report.head[1]}"
        f"{checked}"
    )


@audit.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@json_option
@click.pass_context
def audit_export(ctx: click.Context, out: Path, as_json: bool) -> None:
    """Write an evidence pack: events with hashes, the digest, a README and verify.py."""
    from opmodel.audit.integrity import export
    from opmodel_cli.render import progress_bar

    with _open(ctx, write=False) as service:
        total = service.head()
        with progress_bar("exporting", total, enabled=not as_json and total > 50_000) as bar:
            summary = export(service.database, out, progress=bar)
    if as_json:
        _emit_json(summary)
    else:
        click.echo(
            f"wrote {summary['events']} events to {summary['out']} "
            f"(digest {summary['position']}:{summary['hash']}); check it with "
            f"python3 {Path(summary['out']) / 'verify.py'} {summary['out']}"
        )


@main.command()
@click.argument("start", metavar="FROM")
@click.argument("end", metavar="TO")
@json_option
@click.pass_context
def diff(ctx: click.Context, start: str, end: str, as_json: bool) -> None:
    """What changed between FROM and TO (each a date, @POS or phase:CLUSTER:N)."""
    with _open(ctx, write=False) as service:
        result = service.diff(start, end)
    if as_json:
        _emit_json(result)
        return
    click.echo(
        f"From {start} (position {result['from']['position']}) "
        f"to {end} (position {result['to']['position']}):"
    )
    if not result["changes"]:
        click.echo("  nothing changed.")
    for change in result["changes"]:
        click.echo(f"  {change['summary']}")


@main.command()
@click.option("--until", metavar="T|@POS", help="Stop at moment T or position POS.")
@json_option
@click.pass_context
def replay(ctx: click.Context, until: str | None, as_json: bool) -> None:
    """Step through the history event by event: what each changed in the model."""
    with _open(ctx, write=False) as service:
        steps = list(service.replay(until))
    if as_json:
        _emit_json(steps)
        return
    for step in steps:
        click.echo(f"#{step['position']} {step['effective']} {step['actor']}: {step['summary']}")
        for change in step["changes"]:
            click.echo(f"    {change['summary']}")


# --- projections ---------------------------------------------------------------------


@main.group(cls=OpmodelGroup)
def projections() -> None:
    """Read models: their positions, and rebuilding them from the events."""


@projections.command("status")
@json_option
@click.pass_context
def projections_status(ctx: click.Context, as_json: bool) -> None:
    """Each read model's position against the store's head."""
    with _open(ctx, write=False) as service:
        rows = service.status()
    if as_json:
        _emit_json(rows)
        return
    from opmodel_cli.render import render_status

    render_status(rows)


@projections.command("update")
@json_option
@click.pass_context
def projections_update(ctx: click.Context, as_json: bool) -> None:
    """Apply to every read model the events it has not applied yet (after a crash, say)."""
    with _open(ctx, write=True) as service:
        applied = service.catch_up()
        rows = service.status()
    if as_json:
        _emit_json({"applied": applied, "read_models": rows})
    else:
        click.echo(f"applied {applied} events; read models at position {rows[0]['head']}")


@projections.command("follow")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls (SQLite), or the longest wait for a notification.",
)
@json_option
@click.pass_context
def projections_follow(ctx: click.Context, interval: float, as_json: bool) -> None:
    """Keep the read models up to date as events are committed, until stopped.

    On PostgreSQL it wakes on each commit (LISTEN/NOTIFY); on SQLite it polls.
    Stop it with Ctrl-C or SIGTERM.
    """
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def report(applied: int, head: int) -> None:
        if not as_json:
            click.echo(f"applied {applied} events (head {head})")

    with _open(ctx, write=True) as service:
        total = service.follow(interval=interval, stop=stop, on_applied=report)
        head = service.head()
    if as_json:
        _emit_json({"applied": total, "position": head})
    else:
        click.echo(f"stopped; applied {total} events in all (head {head})")


@projections.command("rebuild")
@click.argument("name", required=False)
@json_option
@click.pass_context
def projections_rebuild(ctx: click.Context, name: str | None, as_json: bool) -> None:
    """Drop read model NAME (default: all) and rebuild it from the events."""
    from opmodel_cli.render import progress_bar

    with _open(ctx, write=True) as service:
        names = service.projection_names(name)
        total = service.head()
        with progress_bar("rebuilding " + ", ".join(names), total, enabled=not as_json) as advance:
            summary = service.rebuild(names, progress=advance)
    if as_json:
        _emit_json(summary)
    else:
        click.echo(
            f"rebuilt {', '.join(summary['rebuilt'])} from {summary['events']} events "
            f"in {summary['seconds']:.2f}s ({summary['events_per_second']:,.0f} events/s)"
        )


class _Collector:
    """Python's cycle collector in a short-lived ``opmodel`` process.

    Start-up (the store, SQLAlchemy, pydantic, the domain's event classes) makes a
    few hundred thousand objects that live until the process ends. The collector,
    triggered by allocation counts, walks them again and again while they are
    made, and once more, in full, when the interpreter exits: together about a
    third of a write command's time. So the program holds the collector off while
    it starts; once the store is open it *freezes* what start-up made (moves it
    where the collector never looks) and collects as usual from there on, so long
    commands (``projections follow``) keep their memory in check; and at exit it
    freezes whatever is left, so the final collection has nothing to walk.
    Reference counting frees memory as always: only objects that were alive at
    the freeze and later became unreachable cycles wait for the process to end.

    Only :func:`run`, the program's entry point, does this: code that calls
    :data:`main` itself (tests, other programs) keeps its collector as it is.
    """

    holding = False

    @classmethod
    def hold(cls) -> None:
        if gc.isenabled():
            gc.disable()
            cls.holding = True

    @classmethod
    def started(cls) -> None:
        """Start-up is over (the store is open): collect again, but not what it made."""
        if cls.holding:
            cls.holding = False
            gc.freeze()
            gc.enable()


def run() -> None:
    """The ``opmodel`` program: :data:`main`, with the collector handled as above."""
    _Collector.hold()
    try:
        main()
    finally:
        gc.freeze()  # nothing left for the collection at exit to walk


if __name__ == "__main__":  # pragma: no cover
    run()
