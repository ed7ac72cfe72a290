"""opmodel's benchmark suite: ``python -m bench [--quick|--full] [--only NAME,…] [--json]``.

Every figure is a ratio of medians against a baseline measured in the same run,
the two interleaved (baseline, subject, baseline, subject, …), so that other
work on the machine slows both alike. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import BenchError, Figure
from bench.suite import FIGURES, GROUPS, ISSUE_SIZES, SIZES, Suite


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform
    from importlib.metadata import version

    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("opmodel", "eventsourcing", "SQLAlchemy", "pydantic", "click", "psycopg"):
        try:
            versions[package] = version(package)
        except Exception:
            versions[package] = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "versions": versions,
        "load_average_at_start": load,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="opmodel's benchmarks: ratios against baselines measured in the same run.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes (CI smoke, < ~2 min)")
    size.add_argument(
        "--full", action="store_true", help="the issue's sizes everywhere (1,000,000-event rebuild)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--only", metavar="NAME[,NAME]", help=f"only these figures: {', '.join(FIGURES)}"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("OPMODEL_TEST_POSTGRES_URL"),
        help="PostgreSQL server (default $OPMODEL_TEST_POSTGRES_URL); figures skipped if "
        "unreachable",
    )
    parser.add_argument(
        "--workdir", metavar="DIR", type=Path, help="where the temporary directory is made"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument(
        "--strict", action="store_true", help="exit 3 when a figure misses its target"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def select(only: str | None) -> list[str]:
    if not only:
        return list(FIGURES)
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in FIGURES]
    if unknown:
        raise SystemExit(
            f"unknown figure(s) {', '.join(unknown)}: choose from {', '.join(FIGURES)}"
        )
    return wanted


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = select(args.only)
    sizes = SIZES["quick" if args.quick else "full" if args.full else "default"]
    from rich.console import Console

    err = Console(stderr=True)

    def progress(message: str) -> None:
        if not args.quiet:
            err.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)

    workdir = Path(tempfile.mkdtemp(prefix="opmodel-bench-", dir=args.workdir))
    started = time.perf_counter()
    figures: list[Figure] = []
    skipped: list[dict[str, str]] = []
    errors: list[dict[str, str]] = []
    suite = Suite(sizes, workdir, args.postgres, progress)
    info = machine()
    try:
        for group, (names, run, needs_postgres) in GROUPS.items():
            chosen = [n for n in names if n in wanted]
            if not chosen:
                continue
            if needs_postgres:
                why = suite.postgres_unavailable()
                if why is not None:
                    skipped += [{"name": n, "reason": why} for n in chosen]
                    progress(f"skipping {', '.join(chosen)}: {why}")
                    continue
            progress(f"[bold]{group}[/bold]: {', '.join(chosen)}")
            try:
                figures += [f for f in run(suite) if f.name in chosen]
            except BenchError as exc:
                errors += [{"name": n, "error": str(exc)} for n in chosen]
                progress(f"[red]{group} failed:[/red] {exc}")
    finally:
        suite.drop_schemas()
        if args.keep:
            progress(f"data kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    summary = {
        "met": sum(1 for f in figures if f.passed is True),
        "missed": sum(1 for f in figures if f.passed is False),
        "without_target": sum(1 for f in figures if f.passed is None),
    }
    document: dict[str, Any] = {
        "suite": "opmodel benchmarks",
        "sizes": sizes.as_json(),
        "issue_sizes": ISSUE_SIZES,
        "machine": info,
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [f.as_json() for f in figures],
        "skipped": skipped,
        "errors": errors,
        "summary": summary,
    }
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        from bench.report import render

        render(document)
    if errors:
        return 1
    if args.strict and summary["missed"]:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
