"""What changed between two operating models, in words and as data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opmodel.domain.values import format_pounds

Change = dict[str, Any]

_CONTRACT_FIELDS = (
    "kind", "supplier", "value_gbp", "start", "term_months", "extension_months",
    "extended_months", "end", "max_end", "status", "bundled_with",
)  # fmt: skip
_PHASE_FIELDS = ("name", "status", "planned_start", "planned_end", "started", "completed")
_DEPARTMENT_FIELDS = ("name", "kind", "parent", "headcount")


def _shown(value: Any, field: str) -> str:
    if value is None or value == []:
        return "none"
    if field.endswith("_gbp") or field in ("funding", "cashable", "non-cashable"):
        return format_pounds(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _change(kind: str, subject: str, change: str, summary: str, **extra: Any) -> Change:
    return {"kind": kind, "subject": subject, "change": change, **extra, "summary": summary}


def _field_changes(
    kind: str, subject: str, label: str, before: dict[str, Any], after: dict[str, Any],
    fields: tuple[str, ...],
) -> Iterator[Change]:  # fmt: skip
    for field in fields:
        old, new = before.get(field), after.get(field)
        if old != new:
            yield _change(
                kind, subject, "changed",
                f"{label} {field.replace('_', ' ')} changed from {_shown(old, field)} "
                f"to {_shown(new, field)}.",
                field=field, before=old, after=new,
            )  # fmt: skip


def diff_models(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every difference between two ``show --json`` models, oldest model first."""
    return [
        *_departments(before, after),
        *_clusters(before, after),
        *_phases(before, after),
        *_contracts(before, after),
        *_decisions(before, after),
    ]


def _by_identity(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Departments keyed by their lasting id when the model carries ids, else by code."""
    ids = model.get("department_ids", {})
    return {ids.get(d["code"], f"code:{d['code']}"): d for d in model["departments"]}


def _departments(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    old, new = _by_identity(before), _by_identity(after)
    ordered = sorted(old.keys() | new.keys(), key=lambda k: (new.get(k) or old[k])["code"])
    for key in ordered:
        if key not in old:
            code = new[key]["code"]
            where = f" in {new[key]['cluster']}" if new[key]["cluster"] else ""
            yield _change(
                "department", f"department:{code}", "added", f"{code} was registered{where}."
            )
            continue
        if key not in new:
            code = old[key]["code"]
            yield _change(
                "department", f"department:{code}", "removed", f"{code} is no longer registered."
            )
            continue
        a, b = old[key], new[key]
        code = b["code"]
        subject = f"department:{code}"
        if a["code"] != code:
            yield _change(
                "department", subject, "changed", f"{a['code']} was re-coded as {code}.",
                field="code", before=a["code"], after=code,
            )  # fmt: skip
        if a["cluster"] != b["cluster"]:
            if a["cluster"] is None:
                text = f"{code} joined {b['cluster']}."
            elif b["cluster"] is None:
                text = f"{code} left {a['cluster']}."
            else:
                text = f"{code} moved from {a['cluster']} to {b['cluster']}."
            yield _change(
                "department", subject, "changed", text,
                field="cluster", before=a["cluster"], after=b["cluster"],
            )  # fmt: skip
        yield from _field_changes("department", subject, code, a, b, _DEPARTMENT_FIELDS)


def _same_department(before: dict[str, Any], after: dict[str, Any], a: Any, b: Any) -> bool:
    """Whether two codes name the same department (a re-code keeps its lasting id)."""
    if a == b:
        return True
    ids_a, ids_b = before.get("department_ids", {}), after.get("department_ids", {})
    return (
        a is not None
        and b is not None
        and ids_a.get(a) is not None
        and ids_a.get(a) == ids_b.get(b)
    )


def _clusters(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    old = {c["name"]: c for c in before["clusters"]}
    new = {c["name"]: c for c in after["clusters"]}
    for name in sorted(old.keys() | new.keys()):
        subject = f"cluster:{name}"
        if name not in old:
            yield _change("cluster", subject, "added", f"Cluster {name} was formed.")
            continue
        if name not in new:
            yield _change("cluster", subject, "removed", f"Cluster {name} no longer exists.")
            continue
        a, b = old[name], new[name]
        if not _same_department(before, after, a["lead"], b["lead"]):
            yield _change(
                "cluster", subject, "changed",
                f"The lead of {name} changed from {_shown(a['lead'], 'lead')} "
                f"to {_shown(b['lead'], 'lead')}.",
                field="lead", before=a["lead"], after=b["lead"],
            )  # fmt: skip
        flat_a = {
            "funding": a["funding_gbp"], "rating": a["rating"],
            "cashable": a["benefits_realised_gbp"]["cashable"],
            "non-cashable": a["benefits_realised_gbp"]["non-cashable"],
        }  # fmt: skip
        flat_b = {
            "funding": b["funding_gbp"], "rating": b["rating"],
            "cashable": b["benefits_realised_gbp"]["cashable"],
            "non-cashable": b["benefits_realised_gbp"]["non-cashable"],
        }  # fmt: skip
        yield from _field_changes(
            "cluster", subject, name, flat_a, flat_b,
            ("funding", "cashable", "non-cashable", "rating"),
        )  # fmt: skip
        cases_a = {c["stage"]: c["status"] for c in a["business_cases"]}
        cases_b = {c["stage"]: c["status"] for c in b["business_cases"]}
        for stage in sorted(cases_a.keys() | cases_b.keys()):
            if cases_a.get(stage) != cases_b.get(stage):
                yield _change(
                    "cluster", subject, "changed",
                    f"{name}'s {stage} business case went from "
                    f"{cases_a.get(stage) or 'none'} to {cases_b.get(stage) or 'none'}.",
                    field=f"business_case:{stage}", before=cases_a.get(stage),
                    after=cases_b.get(stage),
                )  # fmt: skip


def _phases(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    def index(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {f"{c['name']}:{p['number']}": p for c in model["clusters"] for p in c["phases"]}

    old, new = index(before), index(after)
    for key in sorted(old.keys() | new.keys()):
        subject = f"phase:{key}"
        if key not in old:
            yield _change(
                "phase", subject, "added",
                f"Phase {key} ({new[key]['name']}) was planned; it is {new[key]['status']}.",
            )  # fmt: skip
            continue
        if key not in new:
            yield _change("phase", subject, "removed", f"Phase {key} is no longer planned.")
            continue
        a, b = old[key], new[key]
        if a["status"] != b["status"]:
            yield _change(
                "phase", subject, "changed",
                f"Phase {key} went from {a['status']} to {b['status']}.",
                field="status", before=a["status"], after=b["status"],
            )  # fmt: skip
        rest = tuple(f for f in _PHASE_FIELDS if f != "status")
        yield from _field_changes("phase", subject, f"Phase {key}", a, b, rest)
        for code in sorted(set(b["onboarded"]) - set(a["onboarded"])):
            yield _change(
                "phase", subject, "changed", f"{code} went live in phase {key}.",
                field="onboarded", before=None, after=code,
            )  # fmt: skip


def _contracts(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    def index(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            k["ref"]: {**k, "cluster": c["name"]} for c in model["clusters"] for k in c["contracts"]
        }

    old, new = index(before), index(after)
    for ref in sorted(old.keys() | new.keys()):
        subject = f"contract:{ref}"
        if ref not in old:
            k = new[ref]
            yield _change(
                "contract", subject, "added",
                f"Contract {ref} ({k['kind']}, {k['cluster']}) appears: {k['status']}, "
                f"{_shown(k['value_gbp'], 'value_gbp')}.",
            )  # fmt: skip
            continue
        if ref not in new:
            yield _change("contract", subject, "removed", f"Contract {ref} is no longer recorded.")
            continue
        yield from _field_changes(
            "contract", subject, f"Contract {ref}", old[ref], new[ref], _CONTRACT_FIELDS
        )


def _decisions(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    old = {d["id"]: d for d in before["decisions"]}
    new = {d["id"]: d for d in after["decisions"]}
    for key in sorted(old.keys() | new.keys()):
        subject = f"decision:{key}"
        if key not in old:
            yield _change(
                "decision", subject, "added",
                f"{key} {new[key]['title']!r} appears, {new[key]['status']}.",
            )  # fmt: skip
            continue
        if key not in new:
            yield _change("decision", subject, "removed", f"{key} is no longer recorded.")
            continue
        yield from _field_changes(
            "decision", subject, key, old[key], new[key], ("status", "superseded_by")
        )
