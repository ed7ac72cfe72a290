"""One English sentence per event, for people reading the history."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from opmodel.domain.values import format_pounds

_KINDS = {
    "Cluster": "cluster",
    "Department": "department",
    "Contract": "contract",
    "Decision": "decision",
    "DepartmentCode": "code",
    "DecisionNumbering": "numbering",
    "ImportBatch": "import",
}


def subject_kind(aggregate: str) -> str:
    """``cluster``, ``department``, ``contract`` or ``decision`` (of an aggregate's name)."""
    return _KINDS.get(aggregate, aggregate.lower())


def gbp(amount: Decimal | None) -> str:
    """£1,234,567.00 (or 'an unstated amount')."""
    if amount is None:
        return "an unstated amount"
    return format_pounds(amount)


def _months(n: int | None) -> str:
    if n is None:
        return "an unstated term"
    return f"{n} month" + ("" if n == 1 else "s")


def summarise(event: Any, aggregate: str, name: str, me: str) -> str:
    """One sentence saying what ``aggregate``'s event ``name`` recorded (``me``: its subject)."""
    describe = _SUMMARIES.get((aggregate, name))
    if describe is None:
        return f"{aggregate} {me}: {name}."
    return describe(event, me)


def _bundle(e: Any) -> str:
    return f", bundled with {e.bundled_with}" if e.bundled_with else ""


def _changes(e: Any) -> str:
    parts = []
    for key, value in e.changes.items():
        shown = gbp(value) if isinstance(value, Decimal) else str(value)
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return ", ".join(parts)


_SUMMARIES: dict[tuple[str, str], Callable[[Any, str], str]] = {
    ("Cluster", "Formed"): lambda e, me: f"Cluster {me} was formed with {e.phase_count} phases.",
    ("Cluster", "MemberAdmitted"): lambda e, me: f"{e.department} became a member of {me}.",
    ("Cluster", "MemberReleased"): lambda e, me: f"{e.department} stopped being a member of {me}.",
    ("Cluster", "LeadDesignated"): lambda e, me: f"{e.department} was designated lead of {me}.",
    ("Cluster", "PhasePlanned"): lambda e, me: (
        f"Phase {me}:{e.number} was planned as {e.name!r}"
        + (f" from {e.planned_start}" if e.planned_start else "")
        + (f" to {e.planned_end}" if e.planned_end else "")
        + "."
    ),
    ("Cluster", "PhaseStarted"): lambda e, me: f"Phase {me}:{e.number} started.",
    ("Cluster", "PhaseCompleted"): lambda e, me: f"Phase {me}:{e.number} completed.",
    ("Cluster", "DepartmentOnboarded"): lambda e, me: (
        f"{e.department} went live on {me}'s platform in phase {me}:{e.number}."
    ),
    ("Cluster", "BusinessCaseRecorded"): lambda e, me: (
        f"{me}'s {e.stage} business case was {e.status}"
        + (f" (whole-life cost {gbp(e.cost)}" if e.cost is not None else "")
        + (
            f"{', ' if e.cost is not None else ' ('}benefits {gbp(e.benefits)}"
            if e.benefits is not None
            else ""
        )
        + (")" if e.cost is not None or e.benefits is not None else "")
        + "."
    ),
    ("Cluster", "FundingGranted"): lambda e, me: f"{me} was granted funding of {gbp(e.amount)}.",
    ("Cluster", "BenefitRealised"): lambda e, me: (
        f"{me} realised {gbp(e.amount)} of {e.kind} benefits"
        + (f" ({e.period})" if e.period else "")
        + "."
    ),
    ("Cluster", "AssuranceRated"): lambda e, me: (
        f"{me} was rated {e.rating.upper()}" + (f" by {e.assessor}" if e.assessor else "") + "."
    ),
    ("Department", "Registered"): lambda e, me: (
        f"{e.code} ({e.name}) was registered as "
        + {"ministerial": "a ministerial", "non-ministerial": "a non-ministerial"}.get(
            e.kind, "an arm's-length body of " + str(e.parent)
        )
        + (" department" if e.kind != "alb" else "")
        + "."
    ),
    ("Department", "Renamed"): lambda e, me: f"{me} was renamed from {e.old_name!r} to {e.name!r}.",
    ("Department", "Recoded"): lambda e, me: f"{e.old_code} was re-coded as {e.code}.",
    ("Department", "HeadcountRecorded"): lambda e, me: (
        f"{me}'s headcount was recorded as {e.headcount:,}."
    ),
    ("Department", "JoinedCluster"): lambda e, me: f"{me} joined cluster {e.cluster}.",
    ("Department", "LeftCluster"): lambda e, me: f"{me} left cluster {e.cluster}.",
    ("Department", "MovedCluster"): lambda e, me: (
        f"{me} moved from cluster {e.from_cluster} to {e.cluster}."
    ),
    ("Contract", "Tendered"): lambda e, me: (
        f"Contract {me} ({e.kind}) was tendered by {e.cluster}, estimated at "
        f"{gbp(e.estimated_value)} for {_months(e.term_months)}."
    ),
    ("Contract", "Awarded"): lambda e, me: (
        f"Contract {me} ({e.kind}) was awarded to {e.supplier} for {gbp(e.value)} over "
        f"{_months(e.term_months)} from {e.start}{_bundle(e)}."
    ),
    ("Contract", "TenderAwarded"): lambda e, me: (
        f"Contract {me} ({e.kind}) was awarded to {e.supplier} for {gbp(e.value)} over "
        f"{_months(e.term_months)} from {e.start}{_bundle(e)}."
    ),
    ("Contract", "BundleLinked"): lambda e, me: f"Contract {me} was bundled with {e.bundled_with}.",
    ("Contract", "Extended"): lambda e, me: f"Contract {me} was extended by {_months(e.months)}.",
    ("Contract", "Varied"): lambda e, me: (
        f"Contract {me} was varied from {gbp(e.old_value)} to {gbp(e.value)}."
    ),
    ("Contract", "Corrected"): lambda e, me: f"Contract {me} was corrected: {_changes(e)}.",
    ("Contract", "Terminated"): lambda e, me: f"Contract {me} was terminated.",
    ("DepartmentCode", "Claimed"): lambda e, me: f"Code {e.code} was assigned to a department.",
    ("DepartmentCode", "Reclaimed"): lambda e, me: (
        f"Code {me} was assigned to a newly registered department."
    ),
    ("DepartmentCode", "Released"): lambda e, me: (
        f"Code {me} was released: its department is now {e.recoded_to}."
    ),
    ("DecisionNumbering", "Started"): lambda e, me: "Decision numbering started.",
    ("DecisionNumbering", "NumberIssued"): lambda e, me: (
        f"Decision number DEC-{e.number:04d} was issued."
    ),
    ("ImportBatch", "Imported"): lambda e, me: (
        f"Import file {e.filename} ({e.entries} entries, sha256 {e.sha256[:12]}) was applied."
    ),
    ("Decision", "Proposed"): lambda e, me: f"{me} {e.title!r} was proposed.",
    ("Decision", "Accepted"): lambda e, me: f"{me} was accepted.",
    ("Decision", "Rejected"): lambda e, me: f"{me} was rejected.",
    ("Decision", "Superseded"): lambda e, me: f"{me} was superseded by {e.by}.",
    ("Decision", "Supersedes"): lambda e, me: f"{me} supersedes {e.supersedes}.",
}
