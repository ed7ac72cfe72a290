"""The one home of Hypothesis strategies for opmodel's values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

#: Department codes as the domain allows them.
codes = st.from_regex(r"[A-Z][A-Z0-9-]{1,11}", fullmatch=True)

#: Positive amounts of money in pounds, with pence.
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999999.99"), places=2)

#: Dates in the programme's era.
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))

#: Cluster names.
cluster_names = st.sampled_from(["Synergy", "Matrix", "Unity", "Defence", "Overseas"])

# --- for the stateful machines (tests/property) -------------------------------

#: A small pool of department codes, so that machines often reuse and collide on one.
DEPARTMENT_CODES = ("DWP", "HO", "MOJ", "DEFRA", "HMRC", "CO", "DFE", "UKSA")
department_codes = st.sampled_from(DEPARTMENT_CODES)

#: Cluster names as a person may type them: canonical, lower or upper case.
CLUSTER_NAMES = ("Synergy", "Matrix", "Unity", "Defence")
cluster_names_any_case = st.builds(
    lambda name, case: case(name),
    st.sampled_from(CLUSTER_NAMES),
    st.sampled_from([str, str.lower, str.upper]),
)

#: Department kinds with the parent each is given: an ALB names one, others name none;
#: ``ParentRequired`` cases (a missing or an unwanted parent) are drawn too.
department_kinds = st.sampled_from(["ministerial", "non-ministerial", "alb"])

#: Single-line display names.
display_names = st.text(
    alphabet=st.characters(categories=["Lu", "Ll", "Nd"], max_codepoint=0x7F) | st.just(" "),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s != "")

#: Phase numbers around the valid range (0 and a few past the count are out of range).
phase_numbers = st.integers(min_value=0, max_value=7)

#: Phase counts a cluster is formed with.
phase_counts = st.integers(min_value=1, max_value=5)

#: Days between two commands: the effective dates of a run only move forward.
day_steps = st.integers(min_value=0, max_value=400)

#: Days from the machine's today: forward, or (when negative) a command backdated.
day_offsets = st.integers(min_value=-400, max_value=400)

#: Optional planned phase dates (either, both or none).
optional_dates = st.none() | dates

#: Contract references, a small pool so that tenders, awards and bundles meet.
CONTRACT_REFS = ("SYN-ORACLE-2024", "SYN-IBM-2024", "MAT-SAP-2025", "UNI-CAP-2023", "DEF-ATOS-2022")
contract_refs = st.sampled_from(CONTRACT_REFS)

#: Contract kinds (SPEC §2).
contract_kinds = st.sampled_from(
    ["software", "systems-integration", "business-process-services", "consultancy", "other"]
)

#: Suppliers.
suppliers = st.sampled_from(["Oracle", "IBM", "SAP", "Capgemini", "Atos"])

#: A contract's initial term in months (> 0).
term_months = st.integers(min_value=1, max_value=180)

#: A contract's extension allowance in months (>= 0).
allowance_months = st.integers(min_value=0, max_value=36)

#: Months asked for in one extension (> 0).
extension_steps = st.integers(min_value=1, max_value=24)

#: Small positive amounts, so that two draws are sometimes equal.
small_money = st.integers(min_value=1, max_value=50).map(
    lambda n: (Decimal(n) * 1_000_000).quantize(Decimal("0.01"))
)

#: Decision numbers around those issued (0 is never issued).
decision_numbers = st.integers(min_value=0, max_value=12)


def mostly(preferred: st.SearchStrategy[T], other: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """A draw from ``preferred`` 3 times in 4, else from ``other``."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: other if n == 3 else preferred)


def known_or(known: Iterable[T], pool: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """Mostly one of ``known`` (things a machine has made), else a draw from ``pool``."""
    made = sorted(set(known), key=repr)
    return mostly(st.sampled_from(made), pool) if made else pool


# --- for the read-model properties (tests/property/test_projection_properties.py) ----

#: Names, codes and references the read-model property draws from: small pools, so that
#: joins, leads, bundles, re-codes and concerns keep meeting things made before.
MODEL_CLUSTERS = ("Synergy", "Matrix", "Unity")
MODEL_CODES = ("DWP", "HO", "MOJ", "DEFRA", "HMRC", "UKSA", "BEIS", "DSIT")
MODEL_REFS = ("SYN-ORACLE-2024", "SYN-IBM-2024", "MAT-SAP-2025", "UNI-CAP-2023")

#: Money with pence as well as round millions, so two-decimal formatting is exercised.
model_money = small_money | st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2
)


def _maybe(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{}`` or ``{key: value}``: an option left out or given."""
    return st.just({}) | values.map(lambda v: {key: v})


def _args(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of arguments; a part whose key starts with ``_`` is an optional-fields dict."""

    def merge(drawn: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in drawn.items():
            if key.startswith("_"):
                out.update(value)
            else:
                out[key] = value
        return out

    return st.fixed_dictionaries(parts).map(merge)


def model_commands(model: Mapping[str, Any]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """One write command ``(name, CLI arguments)`` over the whole vocabulary of SPEC §6.

    ``model`` is the operating model so far, shaped as ``show --json`` prints it. A
    group of commands is chosen evenly (setup, membership, phases, contracts,
    decisions, governance), then a command of that group that can apply to the
    model; its arguments mostly name things in the state that makes it valid (a
    planned phase to start, a member to lead, an active contract to extend, a
    proposed decision to accept). One draw in four comes from a wider pool instead,
    so the engine rejects some commands too, and those must write nothing.
    """
    clusters = {c["name"]: c for c in model.get("clusters", [])}
    departments = {d["code"]: d for d in model.get("departments", [])}
    contracts = {k["ref"]: (c["name"], k) for c in clusters.values() for k in c["contracts"]}
    decisions = {d["id"]: d["status"] for d in model.get("decisions", [])}

    def cased(names: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(lambda n, case: case(n), names, st.sampled_from([str, str.lower]))

    def fresh(pool: tuple[str, ...], used: Iterable[str]) -> st.SearchStrategy[str]:
        return st.sampled_from([x for x in pool if x not in set(used)] or list(pool))

    any_cluster = st.sampled_from(MODEL_CLUSTERS)
    cluster = cased(known_or(clusters, any_cluster))
    code = known_or(departments, st.sampled_from(MODEL_CODES))
    new_code = fresh(MODEL_CODES, departments)
    ref = known_or(contracts, st.sampled_from(MODEL_REFS))
    new_ref = fresh(MODEL_REFS, contracts)
    issued = st.integers(1, len(decisions) + 1).map(lambda n: f"DEC-{n:04d}")
    in_range = [(name, n) for name, c in clusters.items() for n in range(1, c["phase_count"] + 1)]
    any_phase = known_or(in_range, st.tuples(any_cluster, st.integers(1, 4)))
    status_of = {
        (c["name"], p["number"]): p["status"] for c in clusters.values() for p in c["phases"]
    }

    def phases_where(
        statuses: tuple[str, ...], after: tuple[str, ...] | None = None
    ) -> list[tuple[str, int]]:
        """Phases in one of ``statuses`` whose predecessor (if ``after``) is in one of those."""
        return [
            (name, number)
            for (name, number), state in status_of.items()
            if state in statuses
            and (after is None or number == 1 or status_of.get((name, number - 1)) in after)
        ]

    def command(verb: str, /, **parts: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.tuples(st.just(verb), _args(**parts))

    def keyed(verb: str, pairs: st.SearchStrategy[Any], *keys: str) -> st.SearchStrategy[Any]:
        """``verb`` with arguments ``keys`` taken, in order, from a drawn tuple."""
        return st.tuples(st.just(verb), pairs.map(lambda t: dict(zip(keys, t, strict=True))))

    def at_phase(
        verb: str, where: st.SearchStrategy[tuple[str, int]], /, **more: st.SearchStrategy[Any]
    ) -> st.SearchStrategy[Any]:
        return st.tuples(
            st.just(verb),
            st.tuples(where, _args(**more)).map(
                lambda t: {"cluster": t[0][0], "number": t[0][1], **t[1]}
            ),
        )

    def partner(cluster_name: str, own: str) -> st.SearchStrategy[str]:
        """A contract to bundle with: mostly an unbundled one of the same cluster."""
        free = [
            r
            for r, (c, k) in contracts.items()
            if c.casefold() == cluster_name.casefold() and not k["bundled_with"] and r != own
        ]
        return known_or(free, ref)

    def latest_stage(cluster_name: str) -> st.SearchStrategy[str]:
        """The cluster's latest business-case stage (re-recorded: a new status), or SOC."""
        cases = clusters.get(cluster_name, {}).get("business_cases", [])
        return st.just(cases[-1]["stage"] if cases else "SOC")

    setup: list[st.SearchStrategy[Any]] = [
        command(
            "cluster form", name=cased(fresh(MODEL_CLUSTERS, clusters)), phases=st.integers(1, 4)
        ),
        command(
            "department register",
            code=mostly(new_code, code),
            name=display_names,
            kind=st.sampled_from(["ministerial", "non-ministerial"]),
            _headcount=_maybe("headcount", st.integers(0, 100_000)),
        ),
    ]
    setup += setup * (len(clusters) < 2) + setup[1:] * (len(departments) < 5)
    membership: list[st.SearchStrategy[Any]] = []
    onboarding: list[st.SearchStrategy[Any]] = []
    phases: list[st.SearchStrategy[Any]] = []
    deals: list[st.SearchStrategy[Any]] = []
    governance: list[st.SearchStrategy[Any]] = []
    choices: list[st.SearchStrategy[Any]] = [
        command(
            "decision propose",
            title=display_names,
            context=st.just("context"),
            decision=st.just("decision"),
            _consequences=_maybe("consequences", display_names),
            concerns=st.lists(
                st.one_of(
                    cluster.map(lambda c: f"cluster:{c}"),
                    code.map(lambda c: f"department:{c}"),
                    known_or(status_of, any_phase).map(lambda cn: f"phase:{cn[0]}:{cn[1]}"),
                    ref.map(lambda r: f"contract:{r}"),
                ),
                max_size=2,
            ).map(tuple),
        )
    ]
    if departments:
        setup += [
            command(
                "department register",
                code=new_code,
                name=display_names,
                kind=st.just("alb"),
                parent=code,
            ),
            command("department rename", code=code, name=display_names),
            command(
                "department rename",
                code=code,
                new_code=new_code,
                _name=_maybe("name", display_names),
            ),
            command("department headcount", code=code, headcount=st.integers(0, 100_000)),
        ]
    if clusters:
        tendered = [(c, r) for r, (c, k) in contracts.items() if k["status"] == "tendered"]
        # Clusters that hold contracts (a new award can bundle with one) or business cases.
        dealing = cased(known_or({c for c, _ in contracts.values()}, any_cluster))
        with_cases = [name for name, c in clusters.items() if c["business_cases"]]
        unplanned = [p for p in in_range if p not in status_of]
        replannable = phases_where(("planned",))
        for where in (unplanned, replannable):
            phases += [
                at_phase(
                    "phase plan",
                    known_or(where, any_phase),
                    name=display_names,
                    _start=_maybe("start", dates),
                    _end=_maybe("end", dates),
                )
            ] * bool(where or where is unplanned)
        startable = phases_where(("planned",), after=("in_progress", "complete"))
        completable = phases_where(("in_progress",), after=("complete",))
        staffed = [(name, n) for name, n in startable if clusters[name]["members"]]
        phases += (
            2
            * bool(startable)
            * [
                at_phase(
                    "phase start", mostly(st.sampled_from(staffed), known_or(startable, any_phase))
                )
                if staffed
                else at_phase("phase start", known_or(startable, any_phase))
            ]
        )
        if completable:
            phases.append(at_phase("phase complete", known_or(completable, any_phase)))
        deals += [
            command(
                "contract tender",
                ref=new_ref,
                cluster=cluster,
                kind=contract_kinds,
                estimated_value=model_money,
                _term=_maybe("term_months", term_months),
                _allowance=_maybe("extension_months", allowance_months),
            ),
        ]
        deals += (1 + bool(tendered)) * [
            st.tuples(
                st.just("contract award"),
                known_or(tendered, st.tuples(mostly(dealing, cluster), new_ref)).flatmap(
                    lambda where: _args(
                        cluster=st.just(where[0]),
                        ref=st.just(where[1]),
                        kind=contract_kinds,
                        supplier=suppliers,
                        value=model_money,
                        start=dates,
                        term_months=term_months,
                        extension_months=allowance_months,
                        _bundle=_maybe("bundled_with", partner(where[0], where[1])),
                        _framework=_maybe("framework", st.sampled_from(["G-Cloud 13", "RM6263"])),
                    )
                ),
            )
        ]
        governance += [
            st.tuples(
                st.just("business-case record"),
                known_or(with_cases or clusters, any_cluster).flatmap(
                    lambda name: _args(
                        cluster=cased(st.just(name)),
                        stage=mostly(latest_stage(name), st.sampled_from(["SOC", "OBC", "FBC"])),
                        status=st.sampled_from(["submitted", "approved", "rejected"]),
                        _cost=_maybe("cost", model_money),
                        _benefits=_maybe("benefits", model_money),
                        _period=_maybe("period_years", st.integers(1, 30)),
                    )
                ),
            ),
        ]
        governance += [
            governance[0],  # twice: re-recording a stage needs two draws
            command("funding grant", cluster=cluster, amount=model_money),
            command(
                "benefit realise",
                cluster=cluster,
                amount=model_money,
                kind=st.sampled_from(["cashable", "non-cashable"]),
                _period=_maybe("period", st.sampled_from(["2023-24", "2024-25"])),
            ),
            command(
                "assurance rate",
                cluster=cluster,
                rating=st.sampled_from(["green", "amber-green", "amber", "amber-red", "red"]),
                _assessor=_maybe("assessor", st.sampled_from(["IPA", "GDS"])),
            ),
        ]
    if clusters and departments:
        outside = [d for d, v in departments.items() if v["cluster"] is None]
        inside = [(d, v["cluster"]) for d, v in departments.items() if v["cluster"]]
        leads = {c["lead"] for c in clusters.values()}
        members = [(c["name"], m) for c in clusters.values() for m in c["members"]]
        leaderless = [(c, m) for c, m in members if clusters[c]["lead"] is None]
        moves = [(d, c) for d, here in inside for c in clusters if c != here and d not in leads]
        onboarded = {(c["name"], d) for c in clusters.values() for p in c["phases"]
                     for d in p["onboarded"]}  # fmt: skip
        live = [
            (name, number, m)
            for name, number in phases_where(("in_progress",))
            for m in clusters[name]["members"]
            if (name, m) not in onboarded
        ]
        busy = sorted({name for name, _ in phases_where(("in_progress",))})
        membership += [
            command(
                "department join",
                code=known_or(outside, code),
                cluster=mostly(cased(st.sampled_from(busy)), cluster) if busy else cluster,
            )
        ]
        membership += membership * 2 * bool(outside)
        if inside:
            stayers = [d for d, _ in inside if d not in leads]
            membership.append(command("department leave", code=known_or(stayers, code)))
        if moves:
            membership.append(
                keyed(
                    "department move", known_or(moves, st.tuples(code, cluster)), "code", "cluster"
                )
            )
        if members:
            membership += (1 + 2 * bool(leaderless)) * [
                keyed(
                    "cluster lead",
                    known_or(leaderless or members, st.tuples(cluster, code)),
                    "name",
                    "dept",
                )
            ]
        if live:
            onboarding += 2 * [
                keyed(
                    "phase onboard",
                    known_or(live, st.tuples(cluster, st.integers(1, 4), code)),
                    "cluster",
                    "number",
                    "dept",
                )
            ]
    if contracts:
        deals.append(
            st.tuples(
                st.just("contract correct"),
                _args(
                    ref=ref,
                    _term=_maybe("term_months", term_months),
                    _allowance=_maybe("extension_months", allowance_months),
                    _value=_maybe("value", model_money),
                    _start=_maybe("start", dates),
                    _supplier=_maybe("supplier", suppliers),
                ).filter(lambda a: len(a) > 1),
            )
        )
        live_refs = [r for r, (_, k) in contracts.items() if k["status"] in ("active", "expired")]
        headroom = {
            r: (k["extension_months"] or 0) - k["extended_months"]
            for r, (_, k) in contracts.items()
        }
        if live_refs:
            active = known_or(live_refs, ref)
            deals += [
                keyed(
                    "contract extend",
                    active.flatmap(
                        lambda r: st.tuples(st.just(r), st.integers(1, headroom.get(r, 0) + 2))
                    ),
                    "ref",
                    "months",
                ),
                command("contract vary", ref=active, value=model_money),
                command("contract terminate", ref=active),
            ]
    if decisions:
        proposed = [d for d, s in decisions.items() if s == "proposed"]
        accepted = [d for d, s in decisions.items() if s == "accepted"]
        if proposed:
            choices += [
                command("decision accept", id=known_or(proposed, issued)),
                command("decision accept", id=known_or(proposed, issued)),
                command("decision reject", id=known_or(proposed, issued)),
            ]
        if len(accepted) >= 2:
            pairs = [(a, b) for a in accepted for b in accepted if a != b]
            choices.append(
                keyed("decision supersede", known_or(pairs, st.tuples(issued, issued)), "id", "by")
            )
    # Membership, phases, contracts and decisions need the longest runs of commands to
    # reach their later states, so they are drawn twice as often; onboarding, once there
    # is a phase in progress with members yet to go live, is a group of its own.
    groups = [g for g in (setup, membership, membership, phases, phases, onboarding, onboarding,
                          deals, deals, choices, choices, governance) if g]  # fmt: skip
    # Explicit indices, so that repeating an option weights it (one_of would not).
    return st.integers(0, len(groups) - 1).flatmap(
        lambda g: st.integers(0, len(groups[g]) - 1).flatmap(lambda i: groups[g][i])
    )


# --- for the time-travel properties (tests/property/test_time_travel_properties.py) ----

#: How many commands one time-travel example records.
time_travel_steps = st.integers(min_value=1, max_value=25)


def store_positions(head: int, *, at_most: int = 6) -> st.SearchStrategy[list[int]]:
    """Distinct positions of a store whose head is ``head``, ascending, always with the head.

    0 (before anything was recorded) may be drawn too.
    """
    return st.lists(st.integers(0, head), max_size=at_most, unique=True).map(
        lambda drawn: sorted({*drawn, head})
    )


def as_of_probes(used: list[date], *, at_most: int = 10) -> st.SearchStrategy[list[date]]:
    """Days to ask ``--as-of`` about, given the effective dates ``used`` (ascending).

    Mostly the boundaries: a day something took effect, or the day before; sometimes any
    day from the day before the first to the day after the last.
    """
    if not used:
        return st.just([date(2021, 3, 1)])
    edges = sorted({*used, *(date.fromordinal(d.toordinal() - 1) for d in used)})
    anywhere = st.dates(
        min_value=date.fromordinal(used[0].toordinal() - 1),
        max_value=date.fromordinal(used[-1].toordinal() + 1),
    )
    return st.lists(
        mostly(st.sampled_from(edges), anywhere), min_size=1, max_size=at_most, unique=True
    ).map(sorted)


#: Whole pence as the read models hold them (BIGINT), either side of zero, up to MAX_POUNDS.
pence_amounts = st.integers(min_value=-(10**17), max_value=10**17)
