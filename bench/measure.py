"""Timing fresh processes, interleaved, and the figures made from them.

Every figure is a ratio of two medians measured in the same run: the jobs of a
figure (baseline first, then the subject, then any extra reference) run one
after the other, round after round, so a busy machine slows both alike.
Each process's wall time is taken around ``Popen`` … ``os.wait4``, whose
resource usage also gives that one process's peak resident memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class BenchError(RuntimeError):
    """A measured process failed, or gave an answer that shows it did not do the work."""


class TimedOut(BenchError):
    """A process ran past its time limit and was killed (it hung)."""


@dataclass(frozen=True)
class Sample:
    """One run of one process."""

    seconds: float
    peak_mb: float | None  # measured only when asked (through bench.peak)
    stdout: str
    stderr: str = ""


def run_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 3600.0,
    memory: bool = False,
) -> Sample:
    """Run ``argv`` once: its wall time, its stdout, and with ``memory`` its peak RSS.

    Timings come from a process started directly. Peak memory needs a small
    launcher in between (``bench.peak``), since a process forked from this one
    would report this one's peak; it is measured only when asked.
    """
    peak_file: Path | None = None
    command = list(argv)
    if memory:
        handle, name = tempfile.mkstemp(prefix="peak-", dir=cwd)
        os.close(handle)
        peak_file = Path(name)
        command = [sys.executable, "-m", "bench.peak", name, "--", *command]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, env=dict(env), cwd=cwd, start_new_session=True
        )
        fired = threading.Event()

        def kill() -> None:
            fired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the process and any it started

        killer = threading.Timer(timeout, kill)
        killer.start()
        try:
            _, status, _usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    peak_mb = None
    if peak_file is not None:
        text = peak_file.read_text(encoding="ascii").strip()
        peak_file.unlink()
        peak_mb = int(text) / 1024 if text else None
    if fired.is_set():
        raise TimedOut(f"{' '.join(argv)} was killed after {timeout:.0f}s")
    if process.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-8:])
        raise BenchError(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    return Sample(seconds, peak_mb, stdout, stderr)


@dataclass
class Job:
    """A process to time: its command line, and untimed work around each run."""

    label: str
    argv: Sequence[str]
    setup: Callable[[], None] | None = None
    teardown: Callable[[], None] | None = None
    check: Callable[[str], None] | None = None
    timeout: float = 3600.0
    memory: bool = False  # measure peak RSS (through bench.peak)
    retries: int = 0  # runs that time out (hang) are run again, this many times at most
    samples: list[Sample] = field(default_factory=list)
    hung: int = 0  # how many runs timed out and were run again

    @property
    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peaks_mb(self) -> list[float]:
        return [s.peak_mb for s in self.samples if s.peak_mb is not None]


def interleave(
    jobs: Sequence[Job],
    *,
    repetitions: int,
    env: Mapping[str, str],
    cwd: Path,
    warmup: int = 1,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Run the jobs round-robin (baseline, subject, …), ``warmup`` untimed rounds first."""
    for round_ in range(warmup + repetitions):
        for job in jobs:
            sample = _run_job(job, env, cwd)
            if job.check is not None:
                job.check(sample.stdout)
            if round_ >= warmup:
                job.samples.append(sample)
            if progress is not None:
                what = "warm-up" if round_ < warmup else f"{round_ - warmup + 1}/{repetitions}"
                progress(f"{job.label} {what}: {sample.seconds:.3f}s")


def _run_job(job: Job, env: Mapping[str, str], cwd: Path) -> Sample:
    for attempt in range(job.retries + 1):
        if job.setup is not None:
            job.setup()
        try:
            return run_process(job.argv, env=env, cwd=cwd, timeout=job.timeout, memory=job.memory)
        except TimedOut:
            if attempt == job.retries:
                raise
            job.hung += 1
        finally:
            if job.teardown is not None:
                job.teardown()
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Figure:
    """One line of the report: a subject against its baseline."""

    name: str
    title: str
    subject: str
    baseline: str
    unit: str  # "s" or "MB"
    subject_median: float
    baseline_median: float
    repetitions: int
    sizes: dict[str, Any]
    target: float | None = None  # a ratio, or (unit "MB") an absolute bound on the subject
    subject_samples: list[float] = field(default_factory=list)
    baseline_samples: list[float] = field(default_factory=list)
    subject_peak_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.baseline_median <= 0:
            return None
        return self.subject_median / self.baseline_median

    @property
    def paired_ratio(self) -> float | None:
        """The median of each round's subject / baseline (robust to load drifting)."""
        pairs = [
            s / b for s, b in zip(self.subject_samples, self.baseline_samples, strict=False) if b
        ]
        return statistics.median(pairs) if pairs else None

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        if self.unit == "MB":
            return f"≤ {self.target:g} MB"
        return f"≤ {self.target:g}\N{MULTIPLICATION SIGN}"

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        if self.unit == "MB":
            return self.subject_median <= self.target
        ratio = self.ratio
        return ratio is not None and ratio <= self.target

    def as_json(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "name": self.name,
            "title": self.title,
            "subject": self.subject,
            "baseline": self.baseline,
            "unit": self.unit,
            "subject_median": round(self.subject_median, 4),
            "baseline_median": round(self.baseline_median, 4),
            "ratio": None if ratio is None else round(ratio, 3),
            "paired_ratio_median": None
            if self.paired_ratio is None
            else round(self.paired_ratio, 3),
            "target": self.target_text if self.target is not None else None,
            "target_value": self.target,
            "target_kind": None
            if self.target is None
            else ("absolute" if self.unit == "MB" else "ratio"),
            "passed": self.passed,
            "repetitions": self.repetitions,
            "sizes": self.sizes,
            "subject_samples": [round(s, 4) for s in self.subject_samples],
            "baseline_samples": [round(s, 4) for s in self.baseline_samples],
            "subject_peak_mb": None
            if self.subject_peak_mb is None
            else round(self.subject_peak_mb, 1),
            "notes": self.notes,
        }


def timed_figure(
    name: str,
    title: str,
    baseline: Job,
    subject: Job,
    *,
    sizes: dict[str, Any],
    target: float | None,
    notes: Sequence[str] = (),
) -> Figure:
    """A figure from two jobs already run by :func:`interleave`."""
    return Figure(
        name=name,
        title=title,
        subject=subject.label,
        baseline=baseline.label,
        unit="s",
        subject_median=subject.median,
        baseline_median=baseline.median,
        repetitions=len(subject.samples),
        sizes=sizes,
        target=target,
        subject_samples=subject.seconds,
        baseline_samples=baseline.seconds,
        subject_peak_mb=max(subject.peaks_mb) if subject.peaks_mb else None,
        notes=list(notes),
    )
