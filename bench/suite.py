"""The figures: which processes are timed against which, on which stores.

Stores live in one temporary directory. An SQLite store is prepared once
(``opmodel init``) and copied before each timed import, so every run starts
from the same empty, initialised store; the bare library's and the raw
inserts' tables are likewise created outside the timings. On PostgreSQL each
run gets its schema dropped and created again, outside the timings.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.baselines import library_env, postgres_conninfo
from bench.measure import (
    BenchError,
    Figure,
    Job,
    TimedOut,
    interleave,
    run_process,
    timed_figure,
)
from bench.workload import AS_OF_DAY, write_import_file


def catch_up_page() -> int:
    """How many events opmodel's catch-up reads at a time (the bare read's page size)."""
    from opmodel.catchup import BATCH_SIZE

    return BATCH_SIZE


REPO = Path(__file__).resolve().parent.parent
STACK = "import eventsourcing.application, sqlalchemy, pydantic, click"


@dataclass(frozen=True)
class Sizes:
    """How big each figure's data is, and how many timed repetitions it gets."""

    mode: str
    import_entries: int  # the import file (its store also serves rebuild, verify, show, write)
    timetravel_events: int  # the store of show --as-of
    memory_events: int  # the store of the rebuild's peak memory
    heavy_repetitions: int  # imports, rebuilds, verify, as-of
    light_repetitions: int  # short commands (write, show, --help)
    memory_repetitions: int

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "import_entries": self.import_entries,
            "timetravel_events": self.timetravel_events,
            "memory_events": self.memory_events,
            "heavy_repetitions": self.heavy_repetitions,
            "light_repetitions": self.light_repetitions,
            "memory_repetitions": self.memory_repetitions,
        }


SIZES = {
    "quick": Sizes("quick", 1_000, 3_000, 10_000, 3, 5, 1),
    "default": Sizes("default", 20_000, 100_000, 200_000, 5, 11, 1),
    "full": Sizes("full", 20_000, 100_000, 1_000_000, 7, 15, 1),
}

#: A PostgreSQL run taking longer than this is taken to have hung (and is killed).
PG_TIMEOUT = 120.0
#: How many times a hung PostgreSQL run is run again.
PG_RETRIES = 2
#: The import file's size on PostgreSQL when the issue's size hangs there.
PG_FALLBACK_ENTRIES = 3_000
#: eventsourcing's events table for an application named "opmodel".
POSTGRES_EVENTS_TABLE = "opmodel_events"

#: The issue's sizes, to say clearly when a figure ran smaller.
ISSUE_SIZES = {"import_entries": 20_000, "timetravel_events": 100_000, "memory_events": 1_000_000}


@dataclass(frozen=True)
class StoreStats:
    """What an import stored: how many events, over how many aggregates, how big."""

    events: int
    aggregates: int
    average_bytes: int
    decisions: int


def sqlite_stats(db: Path) -> StoreStats:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT originator_id), AVG(LENGTH(state)), "
            "SUM(topic LIKE '%:Decision.Proposed') FROM stored_events"
        ).fetchone()
    finally:
        conn.close()
    return StoreStats(int(row[0]), int(row[1]), round(row[2] or 0), int(row[3] or 0))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _json_check(predicate: Callable[[Any], bool], what: str) -> Callable[[str], None]:
    import json

    def check(stdout: str) -> None:
        try:
            document = json.loads(stdout)
        except ValueError as exc:
            raise BenchError(f"{what}: output is not JSON: {stdout[:200]!r}") from exc
        if not predicate(document):
            raise BenchError(f"{what}: unexpected output {stdout[:300]!r}")

    return check


def _events_check(events: int, what: str) -> Callable[[str], None]:
    """A check that the output's ``events`` is ``events``."""
    return _json_check(lambda d: d["events"] == events, what)


@dataclass(frozen=True)
class PostgresWorkload:
    """The import the PostgreSQL figures use, and the schema it was imported into."""

    file: Path
    entries: int
    stats: StoreStats
    schema: str
    url: str
    notes: list[str]


class Suite:
    """The stores and the processes of every figure."""

    def __init__(
        self,
        sizes: Sizes,
        workdir: Path,
        postgres_url: str | None,
        progress: Callable[[str], None],
    ) -> None:
        import os

        self.sizes = sizes
        self.workdir = workdir
        self.postgres_url = postgres_url.split("?", 1)[0] if postgres_url else None
        self.progress = progress
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPMODEL_")}
        env["OPMODEL_ACTOR"] = "bench-runner"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        # The warm-up round compiles .pyc files, as an installed program has them. An
        # inherited PYTHONDONTWRITEBYTECODE would make every timed process compile
        # opmodel's sources (and the baselines' own module) again; the compiled files
        # go to the work directory, not into the source tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
        self.env = env
        self._template: Path | None = None
        self._import_file: Path | None = None
        self._main_store: Path | None = None
        self._bare_store: Path | None = None
        self._postgres_error: str | None = None
        self._postgres_checked = False
        self._postgres_workload: PostgresWorkload | None = None
        self.schemas: set[str] = set()

    # --- processes ---------------------------------------------------------------

    def cli(self, store: str | Path, *args: str) -> list[str]:
        return [sys.executable, "-m", "opmodel_cli.main", "--store", str(store), *args]

    def baseline(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bench.baselines", *args]

    def run(self, argv: Sequence[str]) -> str:
        """Run a process outside the timings; its stdout."""
        return run_process(argv, env=self.env, cwd=self.workdir).stdout

    def measure(self, jobs: Sequence[Job], repetitions: int, *, warmup: int = 1) -> None:
        """Time ``jobs`` interleaved, after ``warmup`` untimed rounds."""
        interleave(
            jobs,
            repetitions=repetitions,
            env=self.env,
            cwd=self.workdir,
            warmup=warmup,
            progress=self.progress,
        )

    # --- stores ----------------------------------------------------------------

    def template(self) -> Path:
        """An empty store with every table and guard: ``opmodel init``."""
        if self._template is None:
            path = self.workdir / "template.db"
            self.run(self.cli(path, "init", "--json"))
            self._template = path
        return self._template

    def import_file(self) -> Path:
        if self._import_file is None:
            n = self.sizes.import_entries
            self.progress(f"writing an import file of {n:,} entries")
            self._import_file = write_import_file(self.workdir / f"import-{n}.yaml", n)
        return self._import_file

    def fresh_copy(self, path: Path) -> Callable[[], None]:
        """A setup that makes ``path`` a fresh copy of the initialised template."""

        def setup() -> None:
            _remove_sqlite(path)
            shutil.copyfile(self.template(), path)

        return setup

    def main_store(self) -> Path:
        """The import file imported into a fresh store (rebuild, verify, show, write use it)."""
        if self._main_store is None:
            path = self.workdir / "main.db"
            if not path.exists():
                self.progress("importing the import file into the main store")
                self.fresh_copy(path)()
                self.run(self.cli(path, "import", str(self.import_file()), "--json"))
            self._main_store = path
        return self._main_store

    def bare_store(self) -> Path:
        """The bare library's store holding as many events, of the same size, as the main one."""
        if self._bare_store is None:
            stats = sqlite_stats(self.main_store())
            path = self.workdir / "bare.db"
            _remove_sqlite(path)
            store = f"sqlite:///{path}"
            self.run(self.baseline("setup", "--store", store))
            self.run(self.bare_write_argv(store, stats))
            self._bare_store = path
        return self._bare_store

    def bare_write_argv(self, store: str, stats: StoreStats) -> list[str]:
        return self.baseline(
            "write",
            "--store",
            store,
            "--events",
            str(stats.events),
            "--aggregates",
            str(stats.aggregates),
            "--size",
            str(stats.average_bytes),
        )

    # --- PostgreSQL --------------------------------------------------------------

    def postgres_unavailable(self) -> str | None:
        """Why PostgreSQL figures cannot run (``None`` when they can)."""
        if not self._postgres_checked:
            self._postgres_checked = True
            if not self.postgres_url:
                self._postgres_error = "no PostgreSQL URL (--postgres or OPMODEL_TEST_POSTGRES_URL)"
            else:
                try:
                    self.pg_execute("SELECT 1")
                except Exception as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    self._postgres_error = f"PostgreSQL at {self.postgres_url} unreachable: {first}"
        return self._postgres_error

    def pg_execute(self, statement: str) -> None:
        import psycopg

        assert self.postgres_url is not None
        with psycopg.connect(postgres_conninfo(self.postgres_url), autocommit=True) as conn:
            conn.execute(statement)

    def pg_schema(self, role: str) -> tuple[str, str]:
        """A schema name for ``role`` and the store URL that uses it."""
        assert self.postgres_url is not None
        schema = f"bench_{role}_{uuid.uuid4().hex[:8]}"
        self.schemas.add(schema)
        return schema, f"{self.postgres_url}?schema={schema}"

    def pg_reset(self, schema: str) -> None:
        self.pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.pg_execute(f'CREATE SCHEMA "{schema}"')

    def drop_schemas(self) -> None:
        if self.postgres_url is None or self._postgres_error is not None:
            return
        for schema in sorted(self.schemas):
            try:
                self.pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            except Exception as exc:  # cleaning up: report, carry on
                self.progress(f"could not drop schema {schema}: {exc}")
        self.schemas.clear()

    # --- figures -----------------------------------------------------------------

    def import_sizes(self, stats: StoreStats) -> dict[str, Any]:
        return {
            "entries": self.sizes.import_entries,
            "events": stats.events,
            "aggregates": stats.aggregates,
            "average_event_bytes": stats.average_bytes,
        }

    def group_import(self) -> list[Figure]:
        """opmodel import vs the bare library writing as many events, and vs raw inserts."""
        stats = sqlite_stats(self.main_store())
        events = stats.events
        bare_db = self.workdir / "run-bare.db"
        run_db = self.workdir / "run-import.db"
        raw_db = self.workdir / "run-raw.db"

        def bare_setup() -> None:
            _remove_sqlite(bare_db)
            self.run(self.baseline("setup", "--store", f"sqlite:///{bare_db}"))

        def raw_setup() -> None:
            _remove_sqlite(raw_db)
            self.run(self.baseline("raw-sqlite", "--store", str(raw_db), "--create"))

        bare = Job(
            f"bare eventsourcing Application: {events:,} events in one save",
            self.bare_write_argv(f"sqlite:///{bare_db}", stats),
            setup=bare_setup,
            check=_json_check(lambda d: d["events"] == events, "bare write"),
        )
        subject = Job(
            f"opmodel import ({self.sizes.import_entries:,} entries)",
            self.cli(run_db, "import", str(self.import_file()), "--json"),
            setup=self.fresh_copy(run_db),
            check=_json_check(lambda d: d["events"] + 1 >= events, "opmodel import"),
        )
        raw = Job(
            f"raw sqlite3 executemany: {events:,} rows of {stats.average_bytes} bytes",
            self.baseline(
                "raw-sqlite",
                "--store",
                str(raw_db),
                "--events",
                str(events),
                "--size",
                str(stats.average_bytes),
            ),
            setup=raw_setup,
            check=_json_check(lambda d: d["events"] == events, "raw sqlite"),
        )
        self.measure([bare, subject, raw], self.sizes.heavy_repetitions)
        for path in (bare_db, run_db, raw_db):
            _remove_sqlite(path)
        sizes = self.import_sizes(stats)
        return [
            timed_figure(
                "import",
                "opmodel import, projections included, vs the bare library writing as many "
                "events (SQLite)",
                bare,
                subject,
                sizes=sizes,
                target=2.0,
                notes=[
                    f"subject: {self.sizes.import_entries:,}-entry YAML file into a fresh "
                    "initialised store; baseline: the same number of events, same average "
                    "size and aggregate count, one Application.save (one transaction), in a "
                    "process that imports eventsourcing.application, sqlalchemy, pydantic, click",
                ],
            ),
            timed_figure(
                "raw_insert",
                "opmodel import vs raw sqlite3 inserts of as many rows of the same size "
                "(how far from the physical limit)",
                raw,
                subject,
                sizes=sizes,
                target=None,
                notes=[
                    "raw: one process importing only sqlite3, one transaction, WAL as "
                    "eventsourcing sets it"
                ],
            ),
        ]

    def group_rebuild(self) -> list[Figure]:
        """projections rebuild vs the bare library reading and deserialising all events."""
        store = self.main_store()
        stats = sqlite_stats(store)
        bare = self.bare_store()
        baseline = Job(
            f"bare library: select_notifications + to_domain_event, {stats.events:,} events",
            self.baseline("read", "--store", f"sqlite:///{bare}", "--page", str(catch_up_page())),
            check=_json_check(lambda d: d["events"] == stats.events, "bare read"),
        )
        subject = Job(
            "opmodel projections rebuild (all read models)",
            self.cli(store, "projections", "rebuild", "--json"),
            check=_json_check(lambda d: d["events"] == stats.events, "rebuild"),
        )
        self.measure([baseline, subject], self.sizes.heavy_repetitions)
        return [
            timed_figure(
                "rebuild",
                "projections rebuild of all read models vs the bare library reading and "
                "deserialising all events (SQLite)",
                baseline,
                subject,
                sizes=self.import_sizes(stats),
                target=2.5,
                notes=[
                    "baseline reads the bare library's own store (same event count and "
                    f"size), pages of {catch_up_page():,} like opmodel's catch-up, in a "
                    "process importing the same stack"
                ],
            )
        ]

    def group_verify(self) -> list[Figure]:
        """audit verify vs a raw read and sha256 of the same rows."""
        store = self.main_store()
        stats = sqlite_stats(store)
        baseline = Job(
            f"raw sqlite3 read + sha256 of the same {stats.events:,} rows",
            self.baseline("hash", "--db", str(store)),
            check=_json_check(lambda d: d["events"] == stats.events, "hash"),
        )
        subject = Job(
            "opmodel audit verify",
            self.cli(store, "audit", "verify", "--json"),
            check=_json_check(lambda d: d["ok"] and d["events"] == stats.events, "verify"),
        )
        bare = Job(
            "raw read + sha256, no stack imported",
            self.baseline("hash", "--db", str(store), "--no-stack"),
            check=_json_check(lambda d: d["events"] == stats.events, "hash"),
        )
        self.measure([baseline, subject, bare], self.sizes.heavy_repetitions)
        return [
            timed_figure(
                "verify",
                "audit verify vs raw read + sha256 of the same rows (SQLite)",
                baseline,
                subject,
                sizes=self.import_sizes(stats),
                target=2.0,
                notes=[
                    "baseline imports the same stack first (eventsourcing.application, "
                    "sqlalchemy, pydantic, click), then one sha256 per row",
                    f"without importing the stack the raw read + sha256 takes "
                    f"{bare.median:.3f}s: ratio {subject.median / bare.median:.1f}"
                    "\N{MULTIPLICATION SIGN}",
                ],
            )
        ]

    def group_commands(self) -> list[Figure]:
        """A write command and show --json on the main store vs importing the stack."""
        source = self.main_store()
        stats = sqlite_stats(source)
        store = self.workdir / "write.db"
        _remove_sqlite(store)
        shutil.copyfile(source, store)
        baseline = Job(f'python -c "{STACK}"', [sys.executable, "-c", STACK])
        counter = iter(range(1000, 10_000_000))

        def next_headcount() -> None:
            write.argv = self.cli(
                store, "department", "headcount", "AD00001", str(next(counter)), "--json"
            )

        write = Job(
            "opmodel department headcount AD00001 N --json",
            [],
            setup=next_headcount,
            check=_json_check(lambda d: len(d["positions"]) == 1, "write"),
        )
        show = Job(
            "opmodel show --json",
            self.cli(store, "show", "--json"),
            check=_json_check(lambda d: bool(d["clusters"]), "show"),
        )
        self.measure([baseline, write, show], self.sizes.light_repetitions)
        _remove_sqlite(store)
        sizes = {"events": stats.events, "entries_imported": self.sizes.import_entries}
        return [
            timed_figure(
                "write",
                "a write command (department headcount) on the imported store vs importing "
                "the stack",
                baseline,
                write,
                sizes=sizes,
                target=1.5,
                notes=[
                    "the write loads 2 aggregates, saves 1 event and brings the 3 read "
                    "models up to date"
                ],
            ),
            timed_figure(
                "show",
                "show --json on the imported store vs importing the stack",
                baseline,
                show,
                sizes=sizes,
                target=1.5,
            ),
        ]

    def group_help(self) -> list[Figure]:
        baseline = Job('python -c "import click"', [sys.executable, "-c", "import click"])
        subject = Job(
            "opmodel --help",
            [sys.executable, "-m", "opmodel_cli.main", "--help"],
            check=lambda out: None if "Usage" in out else _fail(f"--help printed {out[:80]!r}"),
        )
        self.measure([baseline, subject], self.sizes.light_repetitions)
        return [
            timed_figure(
                "help",
                "opmodel --help vs importing click",
                baseline,
                subject,
                sizes={},
                target=1.5,
            )
        ]

    def timetravel_store(self) -> tuple[Path, int]:
        """A store of at least ``timetravel_events`` events, imported in files of ≤ 20,000."""
        target = self.sizes.timetravel_events
        path = self.workdir / "timetravel.db"
        self.fresh_copy(path)()
        stats = sqlite_stats(path)
        events = stats.events
        chunk = 0
        while events < target:
            entries = min(20_000, max(20, math.ceil((target - events) / 1.2)))
            self.progress(f"time-travel store: importing {entries:,} entries ({events:,} so far)")
            file = write_import_file(
                self.workdir / f"tt-{chunk}.yaml",
                entries,
                prefix=f"T{chunk}",
                seed=chunk,
                decisions_before=stats.decisions,
            )
            self.run(self.cli(path, "import", str(file), "--json"))
            file.unlink()
            stats = sqlite_stats(path)
            events = stats.events
            chunk += 1
        return path, events

    def group_as_of(self) -> list[Figure]:
        store, events = self.timetravel_store()
        day = AS_OF_DAY.isoformat()
        baseline = Job(
            "opmodel show --json (present)",
            self.cli(store, "show", "--json"),
            check=_json_check(lambda d: d["as_of"] is None, "show"),
        )
        subject = Job(
            f"opmodel show --as-of {day} --json",
            self.cli(store, "show", "--as-of", day, "--json"),
            check=_json_check(lambda d: d["as_of"] == day, "show --as-of"),
        )
        self.measure([baseline, subject], self.sizes.heavy_repetitions)
        _remove_sqlite(store)
        return [
            timed_figure(
                "as_of",
                "show --as-of (middle of the history) vs the present show, same store",
                baseline,
                subject,
                sizes={"events": events, "issue_events": ISSUE_SIZES["timetravel_events"]},
                target=3.0,
            )
        ]

    def group_memory(self) -> list[Figure]:
        """Peak RSS of projections rebuild over a big store, at a quarter and the full size."""
        target = self.sizes.memory_events
        path = self.workdir / "memory.db"
        self.fresh_copy(path)()
        seed = write_import_file(self.workdir / "memory-seed.yaml", 200, prefix="M")
        self.run(self.cli(path, "import", str(seed), "--json"))
        points: list[tuple[int, Job, Job]] = []
        for size in (max(target // 4, 1), target):
            events = grow_store(path, size, self.progress)
            baseline = Job(f'python -c "{STACK}"', [sys.executable, "-c", STACK], memory=True)
            subject = Job(
                f"opmodel projections rebuild over {events:,} events",
                self.cli(path, "projections", "rebuild", "--json"),
                check=_events_check(events, "rebuild"),
                memory=True,
            )
            # Peak memory needs no warm-up: the store is already in the page cache.
            self.measure([baseline, subject], self.sizes.memory_repetitions, warmup=0)
            points.append((events, baseline, subject))
        _remove_sqlite(path)
        small, big = points[0], points[-1]
        events, baseline, subject = big

        import statistics

        def peaks(job: Job) -> list[float]:
            return job.peaks_mb

        small_peak = statistics.median(peaks(small[2]))
        big_peak = statistics.median(peaks(subject))
        return [
            Figure(
                name="rebuild_memory",
                title="peak memory of projections rebuild over a big store (all its processes)",
                subject=subject.label,
                baseline=baseline.label + " (peak memory, for scale)",
                unit="MB",
                subject_median=big_peak,
                baseline_median=statistics.median(peaks(baseline)),
                repetitions=len(subject.samples),
                sizes={
                    "events": events,
                    "issue_events": ISSUE_SIZES["memory_events"],
                    "smaller_point_events": small[0],
                },
                target=300.0,
                subject_samples=peaks(subject),
                baseline_samples=peaks(baseline),
                subject_peak_mb=max(peaks(subject)),
                notes=[
                    f"peak {small_peak:.0f} MB at {small[0]:,} events, {big_peak:.0f} MB at "
                    f"{events:,} events (growth {big_peak - small_peak:+.0f} MB for "
                    f"{events - small[0]:,} more events)",
                    f"rebuild took {subject.median:.1f}s at {events:,} events "
                    f"({events / subject.median:,.0f} events/s)",
                    "store: a 200-entry import, then copies of its Department.Registered and "
                    "Contract.Awarded events with fresh originator ids, inserted through "
                    "eventsourcing's SQLite recorder in batches of 50,000",
                ],
            )
        ]

    def postgres_workload(self) -> PostgresWorkload:
        """The import file the PostgreSQL figures use, imported once into a schema.

        The issue's file first; if that import hangs (see PG_TIMEOUT), a file of
        PG_FALLBACK_ENTRIES entries instead, with a note saying so.
        """
        if self._postgres_workload is not None:
            return self._postgres_workload
        schema, url = self.pg_schema("rebuild")
        file = self.import_file()
        entries = self.sizes.import_entries
        notes: list[str] = []
        self.progress(f"PostgreSQL: importing the {entries:,}-entry file (limit {PG_TIMEOUT:.0f}s)")
        self.pg_reset(schema)
        self.run(self.cli(url, "init", "--json"))
        try:
            run_process(
                self.cli(url, "import", str(file), "--json"),
                env=self.env,
                cwd=self.workdir,
                timeout=PG_TIMEOUT,
            )
        except TimedOut:
            if entries <= PG_FALLBACK_ENTRIES:
                raise
            notes.append(
                f"opmodel import of the {entries:,}-entry file on PostgreSQL hung (killed after "
                f"{PG_TIMEOUT:.0f}s): psycopg's pipeline sync in eventsourcing's PostgreSQL "
                "recorder deadlocks on a save of several MB (the bare library's save of as many "
                f"events hangs too); PostgreSQL figures use a {PG_FALLBACK_ENTRIES:,}-entry file"
            )
            self.progress(notes[-1])
            entries = PG_FALLBACK_ENTRIES
            file = write_import_file(self.workdir / f"import-pg-{entries}.yaml", entries)
            self.pg_reset(schema)
            self.run(self.cli(url, "init", "--json"))
            self.run(self.cli(url, "import", str(file), "--json"))
        self._postgres_workload = PostgresWorkload(
            file, entries, self.pg_stats(schema), schema, url, notes
        )
        return self._postgres_workload

    def pg_stats(self, schema: str) -> StoreStats:
        import psycopg

        assert self.postgres_url is not None
        with psycopg.connect(postgres_conninfo(self.postgres_url)) as conn:
            row = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT originator_id), AVG(LENGTH(state)), "
                "SUM((topic LIKE '%:Decision.Proposed')::int) "
                f'FROM "{schema}".{POSTGRES_EVENTS_TABLE}'
            ).fetchone()
        assert row is not None
        return StoreStats(int(row[0]), int(row[1]), round(row[2] or 0), int(row[3] or 0))

    def postgres_sizes(self, work: PostgresWorkload) -> dict[str, Any]:
        sizes = self.import_sizes(work.stats)
        sizes["entries"] = work.entries
        sizes["issue_entries"] = ISSUE_SIZES["import_entries"]
        return sizes

    def group_import_postgres(self) -> list[Figure]:
        assert self.postgres_url is not None
        work = self.postgres_workload()
        try:
            return self._import_postgres(work)
        except TimedOut as hung:
            if work.entries <= PG_FALLBACK_ENTRIES:
                raise
            # opmodel's own recorder saves the issue's file; the bare library's one save
            # of as many events stalls in psycopg's pipeline. Both at a size it manages:
            note = (
                f"at the issue's {work.entries:,} entries the baseline, the bare library's "
                f"one save of {work.stats.events:,} events, hung ({hung}); measured instead "
                f"with a {PG_FALLBACK_ENTRIES:,}-entry file, subject and baselines alike"
            )
            self.progress(note)
            small = self.postgres_import(PG_FALLBACK_ENTRIES, "importsmall", [note])
            try:
                return self._import_postgres(small)
            finally:
                self.pg_execute(f'DROP SCHEMA IF EXISTS "{small.schema}" CASCADE')

    def postgres_import(self, entries: int, role: str, notes: list[str]) -> PostgresWorkload:
        """A file of ``entries`` entries, imported into a schema of its own."""
        schema, url = self.pg_schema(role)
        file = write_import_file(self.workdir / f"import-pg-{entries}.yaml", entries)
        self.pg_reset(schema)
        self.run(self.cli(url, "init", "--json"))
        self.run(self.cli(url, "import", str(file), "--json"))
        return PostgresWorkload(file, entries, self.pg_stats(schema), schema, url, notes)

    def _import_postgres(self, work: PostgresWorkload) -> list[Figure]:
        stats = work.stats
        events = stats.events
        bare_schema, bare_url = self.pg_schema("bare")
        run_schema, run_url = self.pg_schema("import")
        raw_schema, raw_url = self.pg_schema("raw")

        def bare_setup() -> None:
            self.pg_reset(bare_schema)
            self.run(self.baseline("setup", "--store", bare_url))

        def run_setup() -> None:
            self.pg_reset(run_schema)
            self.run(self.cli(run_url, "init", "--json"))

        def raw_setup() -> None:
            self.pg_reset(raw_schema)
            self.run(self.baseline("raw-postgres", "--store", raw_url, "--create"))

        bare = Job(
            f"bare eventsourcing Application (PostgreSQL): {events:,} events in one save",
            self.bare_write_argv(bare_url, stats),
            setup=bare_setup,
            check=_events_check(events, "bare write"),
            timeout=PG_TIMEOUT,
            retries=PG_RETRIES,
        )
        subject = Job(
            f"opmodel import on PostgreSQL ({work.entries:,} entries)",
            self.cli(run_url, "import", str(work.file), "--json"),
            setup=run_setup,
            check=_json_check(lambda d: d["events"] + 1 >= events, "opmodel import"),
            timeout=PG_TIMEOUT,
            retries=PG_RETRIES,
        )
        raw = Job(
            f"raw psycopg executemany: {events:,} rows of {stats.average_bytes} bytes",
            self.baseline(
                "raw-postgres",
                "--store",
                raw_url,
                "--events",
                str(events),
                "--size",
                str(stats.average_bytes),
            ),
            setup=raw_setup,
            check=_events_check(events, "raw postgres"),
            timeout=PG_TIMEOUT,
            retries=PG_RETRIES,
        )
        try:
            self.measure([bare, subject, raw], self.sizes.heavy_repetitions)
        finally:
            for schema in (bare_schema, run_schema, raw_schema):
                self.pg_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        sizes = self.postgres_sizes(work)
        notes = work.notes + _hung_notes(bare, subject, raw)
        return [
            timed_figure(
                "import_postgres",
                "opmodel import, projections included, vs the bare library writing as many "
                "events (PostgreSQL)",
                bare,
                subject,
                sizes=sizes,
                target=None,
                notes=notes,
            ),
            timed_figure(
                "raw_insert_postgres",
                "opmodel import vs raw psycopg inserts of as many rows of the same size "
                "(PostgreSQL)",
                raw,
                subject,
                sizes=sizes,
                target=None,
                notes=[
                    "raw: one process importing only psycopg, executemany in one "
                    "transaction into eventsourcing's table layout",
                    *notes,
                ],
            ),
        ]

    def group_rebuild_postgres(self) -> list[Figure]:
        assert self.postgres_url is not None
        work = self.postgres_workload()
        stats = work.stats
        events = stats.events
        bare_schema, bare_url = self.pg_schema("bareread")
        try:
            self.progress("PostgreSQL: writing the bare library's store for the read baseline")
            self.pg_reset(bare_schema)
            self.run(self.baseline("setup", "--store", bare_url))
            # Outside the timings, in saves of 1,000 items: one save of the whole
            # store can stall in the library's PostgreSQL recorder.
            self.run([*self.bare_write_argv(bare_url, stats), "--chunk", "1000"])
            baseline = Job(
                f"bare library on PostgreSQL: select_notifications + to_domain_event, "
                f"{events:,} events",
                self.baseline("read", "--store", bare_url, "--page", str(catch_up_page())),
                check=_events_check(events, "bare read"),
                timeout=PG_TIMEOUT,
            )
            subject = Job(
                "opmodel projections rebuild on PostgreSQL",
                self.cli(work.url, "projections", "rebuild", "--json"),
                check=_events_check(events, "rebuild"),
                timeout=PG_TIMEOUT,
            )
            self.measure([baseline, subject], self.sizes.heavy_repetitions)
        finally:
            self.pg_execute(f'DROP SCHEMA IF EXISTS "{bare_schema}" CASCADE')
        return [
            timed_figure(
                "rebuild_postgres",
                "projections rebuild vs the bare library reading and deserialising all "
                "events (PostgreSQL)",
                baseline,
                subject,
                sizes=self.postgres_sizes(work),
                target=None,
                notes=work.notes,
            )
        ]


def _hung_notes(*jobs: Job) -> list[str]:
    return [
        f"{job.label}: {job.hung} run(s) hung (killed after {job.timeout:.0f}s) and were run again"
        for job in jobs
        if job.hung
    ]


def _fail(message: str) -> None:
    raise BenchError(message)


def grow_store(path: Path, events: int, progress: Callable[[str], None]) -> int:
    """Add copies of the store's own created-events (fresh ids) until it holds ``events``.

    Copies of ``Department.Registered`` and ``Contract.Awarded`` events, each with
    a fresh originator id, go in through eventsourcing's own SQLite recorder,
    50,000 to a call (one transaction each).
    """
    from eventsourcing.application import Application
    from eventsourcing.persistence import StoredEvent

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        templates = conn.execute(
            "SELECT topic, state FROM stored_events WHERE originator_version = 1 AND "
            "(topic LIKE '%:Department.Registered' OR topic LIKE '%:Contract.Awarded') "
            "LIMIT 200"
        ).fetchall()
        have = int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])
    finally:
        conn.close()
    if not templates:
        raise BenchError(f"{path} holds no Department.Registered or Contract.Awarded event")
    app: Application[uuid.UUID] = Application(
        env=library_env(f"sqlite:///{path}", create_table=False)
    )
    try:
        number = 0
        while have < events:
            batch = [
                StoredEvent(
                    originator_id=uuid.uuid4(),
                    originator_version=1,
                    topic=templates[(number + i) % len(templates)][0],
                    state=templates[(number + i) % len(templates)][1],
                )
                for i in range(min(50_000, events - have))
            ]
            app.recorder.insert_events(batch)
            number += len(batch)
            have += len(batch)
            progress(f"memory store: {have:,} of {events:,} events")
    finally:
        app.close()
    return have


#: Figure groups: which figures each produces, and the method that runs them.
GROUPS: dict[str, tuple[tuple[str, ...], Callable[[Suite], list[Figure]], bool]] = {
    "import": (("import", "raw_insert"), Suite.group_import, False),
    "rebuild": (("rebuild",), Suite.group_rebuild, False),
    "verify": (("verify",), Suite.group_verify, False),
    "commands": (("write", "show"), Suite.group_commands, False),
    "help": (("help",), Suite.group_help, False),
    "as_of": (("as_of",), Suite.group_as_of, False),
    "rebuild_memory": (("rebuild_memory",), Suite.group_memory, False),
    "import_postgres": (
        ("import_postgres", "raw_insert_postgres"),
        Suite.group_import_postgres,
        True,
    ),
    "rebuild_postgres": (("rebuild_postgres",), Suite.group_rebuild_postgres, True),
}

FIGURES: tuple[str, ...] = tuple(name for names, _, _ in GROUPS.values() for name in names)
