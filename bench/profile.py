"""Where the time goes: ``python -m bench.profile NAME… [--quick] [--top N] [--out DIR]``.

Builds the same stores as ``python -m bench`` (in a temporary directory), then
runs the subject of each figure NAME once under cProfile and prints the functions
with the most own time and the most cumulative time. For the short commands
(``write``, ``show``, ``help``) it also prints the slowest imports
(``python -X importtime``), since there the time goes to starting up.
"""

from __future__ import annotations

import argparse
import io
import pstats
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import run_process
from bench.suite import SIZES, Suite
from bench.workload import AS_OF_DAY

NAMES = ("import", "rebuild", "verify", "write", "show", "help", "as_of")


def subject_args(suite: Suite, name: str) -> list[str]:
    """The opmodel CLI arguments of figure ``name``'s subject (stores prepared)."""
    if name == "help":
        return ["--help"]
    if name == "as_of":
        store, _ = suite.timetravel_store()
        return ["--store", str(store), "show", "--as-of", AS_OF_DAY.isoformat(), "--json"]
    main = suite.main_store()
    if name == "import":
        fresh = suite.workdir / "profile-import.db"
        suite.fresh_copy(fresh)()
        return ["--store", str(fresh), "import", str(suite.import_file()), "--json"]
    if name == "rebuild":
        return ["--store", str(main), "projections", "rebuild", "--json"]
    if name == "verify":
        return ["--store", str(main), "audit", "verify", "--json"]
    if name == "write":
        return ["--store", str(main), "department", "headcount", "AD00001", "4321", "--json"]
    return ["--store", str(main), "show", "--json"]


def importtime(stderr: str, top: int) -> str:
    """The slowest imports (cumulative microseconds) from ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, module = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), int(own), module.rstrip()))
    rows.sort(reverse=True)
    lines = [f"{'cumulative us':>14} {'own us':>8}  module"]
    lines += [f"{c:>14,} {o:>8,}  {m}" for c, o, m in rows[:top]]
    return "\n".join(lines)


def profile(suite: Suite, name: str, top: int, keep: Path | None) -> None:
    """Run figure ``name``'s subject under cProfile once and print where the time went."""
    cli_args = subject_args(suite, name)
    prof = suite.workdir / f"{name}.prof"
    run_process(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "opmodel_cli.main", *cli_args],
        env=suite.env,
        cwd=suite.workdir,
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(str(prof), stream=out)
        stats.strip_dirs().sort_stats(order).print_stats(top)
        print(f"=== {name}: top {top} by {order} ===")
        print(out.getvalue())
    if name in ("write", "show", "help"):
        if name == "write":
            cli_args[-2] = "4322"
        sample = run_process(
            [sys.executable, "-X", "importtime", "-m", "opmodel_cli.main", *cli_args],
            env=suite.env,
            cwd=suite.workdir,
        )
        print(f"=== {name}: slowest imports ===")
        print(importtime(sample.stderr, top))
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(prof, keep / prof.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("names", nargs="+", choices=NAMES, metavar="NAME", help=", ".join(NAMES))
    parser.add_argument("--quick", action="store_true", help="the quick sizes")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="keep the .prof file here")
    args = parser.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "default"]
    workdir = Path(tempfile.mkdtemp(prefix="opmodel-profile-"))
    try:
        suite = Suite(sizes, workdir, None, lambda m: print(m, file=sys.stderr))
        for name in args.names:
            profile(suite, name, args.top, args.out)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
