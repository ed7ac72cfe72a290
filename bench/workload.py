"""Realistic, deterministic import files for the benchmarks.

:func:`entries` builds the entries of an import file in the format of
``docs/import.md``: clusters with planned phases and business cases,
departments registering and joining them, then a steady mix of what a
programme office records (headcounts, contract awards, extensions and
variations, funding, benefits, assurance ratings, decisions proposed and
accepted, phases started and departments onboarded). Every entry carries an
effective date, a reason and a source, like the example in
``docs/examples/uk-shared-services.yaml``; effective dates rise steadily from
2021-03-01 to 2025-12-31 so that ``show --as-of`` cuts the history in two.

Every entry writes at least one event (registering a department, joining a
cluster and proposing a decision write two), so a file of N entries writes
more than N events. A ``prefix`` makes every name unique, so several files can
be imported into one store.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

FIRST_DAY = date(2021, 3, 1)
LAST_DAY = date(2025, 12, 31)
#: A day in the middle of the effective dates, for ``show --as-of``.
AS_OF_DAY = date(2023, 8, 1)

SUPPLIERS = (
    "Accenture (UK) Limited",
    "Capita Business Services Ltd",
    "CGI IT UK Limited",
    "Deloitte LLP",
    "Fujitsu Services Limited",
    "IBM United Kingdom Limited",
    "Oracle Corporation UK Limited",
    "SAP (UK) Limited",
    "Sopra Steria Limited",
    "Workday Limited",
)
KINDS = ("software", "systems-integration", "business-process-services", "consultancy", "other")
RATINGS = ("green", "amber-green", "amber", "amber-red", "red")
FRAMEWORKS = ("RM6194 Back Office Software", "RM6100 Technology Services 3", None)
WORDS = (
    "finance", "HR", "payroll", "procurement", "platform", "migration", "cloud", "service",
    "records", "ledger", "reporting", "tranche", "design", "integration", "assurance",
)  # fmt: skip


@dataclass
class _State:
    rng: random.Random
    prefix: str
    clusters: list[str] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    departments: list[str] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)
    extension_left: dict[str, int] = field(default_factory=dict)
    proposed: list[str] = field(default_factory=list)
    decisions: int = 0


def _sentence(rng: random.Random, subject: str) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
    return (
        f"{subject}: recorded from the programme board minutes; {words}. "
        "Figures as published, excluding VAT."
    )


def _source(rng: random.Random) -> str:
    return f"https://www.find-tender.service.gov.uk/Notice/{rng.randint(1, 99999):06d}-2023"


def entries(
    n: int, *, prefix: str = "A", seed: int = 1, decisions_before: int = 0
) -> list[dict[str, Any]]:
    """The entries of an import file of exactly ``n`` entries (``n`` >= 20).

    Decisions are numbered store-wide: ``decisions_before`` says how many the
    store already holds, so the file accepts the ones it proposes.
    """
    if n < 20:
        raise ValueError("an import file for the benchmarks has at least 20 entries")
    state = _State(rng=random.Random(f"{seed}:{prefix}"), prefix=prefix, decisions=decisions_before)
    made = list(itertools.islice(_generate(state, n, prefix), n))
    span = (LAST_DAY - FIRST_DAY).days
    for number, entry in enumerate(made):
        entry["effective"] = (FIRST_DAY + timedelta(days=number * span // n)).isoformat()
    return made


def _generate(s: _State, n: int, prefix: str) -> Iterator[dict[str, Any]]:
    rng = s.rng
    cluster_count = max(2, n // 1000)
    department_count = max(4, n // 8)
    for c in range(cluster_count):
        name = f"{prefix}Cluster{c:03d}"
        s.clusters.append(name)
        s.members[name] = []
        yield _e(rng, "cluster form", {"name": name, "description": _sentence(rng, name)[:90]})
        for number in (1, 2, 3):
            start = FIRST_DAY + timedelta(days=365 * number)
            yield _e(rng, "phase plan", {
                "cluster": name, "number": number, "name": f"Tranche {number}",
                "start": start.isoformat(), "end": (start + timedelta(days=300)).isoformat(),
            })  # fmt: skip
        yield _e(rng, "business-case record", {
            "cluster": name, "stage": "SOC", "status": "approved",
            "cost": f"{rng.randint(50, 900)}.5m", "benefits": f"{rng.randint(60, 1200)}m",
            "period-years": 10,
        })  # fmt: skip
    for d in range(department_count):
        code = f"{prefix}D{d:05d}"
        s.departments.append(code)
        kind = "ministerial" if d % 3 else "non-ministerial"
        yield _e(rng, "department register", {
            "code": code, "name": f"Department of {rng.choice(WORDS).title()} {d}",
            "kind": kind, "headcount": rng.randint(200, 90_000),
        })  # fmt: skip
        cluster = s.clusters[d % cluster_count]
        yield _e(rng, "department join", {"code": code, "cluster": cluster})
        s.members[cluster].append(code)
        if len(s.members[cluster]) == 1:
            yield _e(rng, "cluster lead", {"name": cluster, "dept": code})
    for cluster in s.clusters:
        yield _e(rng, "phase start", {"cluster": cluster, "number": 1})
        for code in s.members[cluster][:3]:
            yield _e(rng, "phase onboard", {"cluster": cluster, "number": 1, "dept": code})
    actions = (
        [_headcount] * 3 + [_award] * 3
        + [_extend, _vary, _funding, _benefit, _rating, _propose, _accept]
    )  # fmt: skip
    while True:
        yield from rng.choice(actions)(s)


def _e(rng: random.Random, command: str, arguments: dict[str, Any]) -> dict[str, Any]:
    subject = " ".join(str(v) for v in arguments.values())[:40]
    return {
        command: arguments,
        "reason": _sentence(rng, f"{command} {subject}"),
        "source": _source(rng),
    }


def _headcount(s: _State) -> Iterator[dict[str, Any]]:
    code = s.rng.choice(s.departments)
    yield _e(s.rng, "department headcount", {"code": code, "headcount": s.rng.randint(200, 90_000)})


def _award(s: _State) -> Iterator[dict[str, Any]]:
    rng = s.rng
    ref = f"CF-{s.prefix}{len(s.contracts) + 1:06d}"
    s.contracts.append(ref)
    s.extension_left[ref] = 24
    yield _e(rng, "contract award", {
        "ref": ref, "cluster": rng.choice(s.clusters), "kind": rng.choice(KINDS),
        "supplier": rng.choice(SUPPLIERS), "value": f"{rng.randint(1, 999)}.{rng.randint(0, 99)}m",
        "start": f"20{rng.randint(21, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "term-months": rng.choice((36, 48, 60, 84)), "extension-months": 24,
        "framework": rng.choice(FRAMEWORKS),
    })  # fmt: skip


def _extend(s: _State) -> Iterator[dict[str, Any]]:
    open_ = [r for r in s.contracts[-50:] if s.extension_left[r] >= 6]
    if not open_:
        yield from _award(s)
        return
    ref = s.rng.choice(open_)
    s.extension_left[ref] -= 6
    yield _e(s.rng, "contract extend", {"ref": ref, "months": 6})


def _vary(s: _State) -> Iterator[dict[str, Any]]:
    if not s.contracts:
        yield from _award(s)
        return
    ref = s.rng.choice(s.contracts)
    yield _e(s.rng, "contract vary", {"ref": ref, "value": f"{s.rng.randint(1, 999)}m"})


def _funding(s: _State) -> Iterator[dict[str, Any]]:
    cluster = s.rng.choice(s.clusters)
    yield _e(s.rng, "funding grant", {"cluster": cluster, "amount": f"{s.rng.randint(1, 90)}m"})


def _benefit(s: _State) -> Iterator[dict[str, Any]]:
    rng = s.rng
    yield _e(rng, "benefit realise", {
        "cluster": rng.choice(s.clusters), "amount": f"{rng.randint(10, 900)}k",
        "kind": rng.choice(("cashable", "non-cashable")), "period": "2023-24",
    })  # fmt: skip


def _rating(s: _State) -> Iterator[dict[str, Any]]:
    rng = s.rng
    yield _e(rng, "assurance rate", {
        "cluster": rng.choice(s.clusters), "rating": rng.choice(RATINGS),
        "assessor": "National Infrastructure and Service Transformation Authority",
    })  # fmt: skip


def _propose(s: _State) -> Iterator[dict[str, Any]]:
    rng = s.rng
    cluster = rng.choice(s.clusters)
    s.decisions += 1
    s.proposed.append(f"DEC-{s.decisions:04d}")
    yield _e(rng, "decision propose", {
        "title": f"Adopt the {rng.choice(WORDS)} design for {cluster}",
        "context": _sentence(rng, "context"), "decision": _sentence(rng, "decision"),
        "consequences": _sentence(rng, "consequences"),
        "concerns": [f"cluster:{cluster}", f"department:{rng.choice(s.departments)}"],
    })  # fmt: skip


def _accept(s: _State) -> Iterator[dict[str, Any]]:
    if not s.proposed:
        yield from _propose(s)
        return
    yield _e(s.rng, "decision accept", {"id": s.proposed.pop(0)})


def write_import_file(
    path: Path, n: int, *, prefix: str = "A", seed: int = 1, decisions_before: int = 0
) -> Path:
    """Write an import file of ``n`` entries (YAML, or JSON if ``path`` ends in .json)."""
    document = {"version": 1, "defaults": {"actor": "programme-office"}, "entries": []}
    document["entries"] = entries(n, prefix=prefix, seed=seed, decisions_before=decisions_before)
    if path.suffix == ".json":
        import json

        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        return path
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return path
