"""What the read side answers, as frozen, typed results: show, history, diff and replay.

Each result is a frozen dataclass whose fields are in the order SPEC §6 prints
them: :meth:`_Result.to_json` gives the JSON document ``--json`` prints, and
:meth:`_Result.from_json` reads one back (checking every key and the choices a
field allows), so that ``Model.from_json(doc).to_json() == doc`` for every
document the read models produce. Money stays a string of exact decimals
(:data:`Money`, the JSON form of :func:`~opmodel.domain.values.format_money`);
days are dates, shown as ``YYYY-MM-DD``. A key that is not a Python name
(``non-cashable``, ``from``) is given in the field's metadata.

Plain dataclasses, not pydantic models: a reading command never imports pydantic
(its start-up time, ADR 0007).
"""

from __future__ import annotations

import re
import types
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from typing import (
    Annotated,
    Any,
    Literal,
    Self,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from opmodel.domain.values import (
    BusinessCaseStage,
    BusinessCaseStatus,
    ContractKind,
    DepartmentKind,
    Rating,
)

#: Money as JSON shows it: an exact decimal of pounds with two decimals (``"933650000.00"``).
_MONEY = re.compile(r"-?\d+\.\d{2}")
Money = Annotated[str, _MONEY]

PhaseStatus = Literal["planned", "in_progress", "complete"]
ContractStatus = Literal["tendered", "active", "terminated", "expired"]
DecisionStatus = Literal["proposed", "accepted", "rejected", "superseded"]

_result = dataclass(frozen=True, kw_only=True)


class _Result:
    """A read result: immutable, exactly the keys SPEC §6 names, no others."""

    def to_json(self) -> Any:
        """The JSON document ``--json`` prints (the shapes of SPEC §6), keys as printed."""
        return {key: _json(getattr(self, f.name)) for f, key in _keys(type(self))}

    @classmethod
    def from_json(cls, document: Any) -> Self:
        """Read a document back, checking its keys and the choices of every field."""
        if not isinstance(document, dict):
            raise ValueError(f"{cls.__name__}: expected an object, got {document!r}")
        known = _keys(cls)
        unknown = set(document) - {key for _, key in known}
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
        hints = _hints(cls)
        values = {}
        for f, key in known:
            if key in document:
                values[f.name] = _revive(hints[f.name], document[key], f"{cls.__name__}.{key}")
            elif f.default is MISSING:
                raise ValueError(f"{cls.__name__}: {key!r} is missing")
        return cls(**values)


_KEYS: dict[type, tuple[tuple[Any, str], ...]] = {}
_HINTS: dict[type, dict[str, Any]] = {}


def _keys(cls: type) -> tuple[tuple[Any, str], ...]:
    """Each field and its key in the JSON (worked out once per class)."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = _KEYS[cls] = tuple((f, f.metadata.get("key", f.name)) for f in fields(cls))
    return keys


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls, include_extras=True)
    return hints


def _json(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.to_json()
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _revive(kind: Any, value: Any, where: str) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = get_args(kind)
        if value is None and type(None) in options:
            return None
        (kind,) = [o for o in options if o is not type(None)]
        origin = get_origin(kind)
    if origin is Annotated:  # money
        if not (type(value) is str and _MONEY.fullmatch(value)):
            raise ValueError(f"{where}: {value!r} is not money with two decimals")
        return value
    if kind is Any:
        return value
    if origin is Literal:
        if value not in get_args(kind):
            raise ValueError(f"{where}: {value!r} is not one of {get_args(kind)}")
        return value
    if origin is list:
        (item,) = get_args(kind)
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return [_revive(item, v, where) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {value!r}")
        return value
    if isinstance(kind, type) and issubclass(kind, _Result):
        return kind.from_json(value)
    if kind is date:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind in (str, int) and type(value) is not kind:
        raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


@_result
class PhaseView(_Result):
    """A delivery phase of a cluster, with the departments that went live in it."""

    number: int
    name: str
    status: PhaseStatus
    planned_start: date | None
    planned_end: date | None
    started: date | None
    completed: date | None
    onboarded: list[str]


@_result
class ContractView(_Result):
    """A contract with its derived dates and its status on the day asked about."""

    ref: str
    kind: ContractKind
    supplier: str | None
    value_gbp: Money | None
    start: date | None
    term_months: int | None
    extension_months: int | None
    extended_months: int
    end: date | None
    max_end: date | None
    status: ContractStatus
    bundled_with: str | None


@_result
class BusinessCaseView(_Result):
    """A cluster's business case at one stage."""

    stage: BusinessCaseStage
    status: BusinessCaseStatus
    cost_gbp: Money | None
    benefits_gbp: Money | None
    period_years: int | None
    recorded_on: date


@_result
class BenefitsView(_Result):
    """Benefits a cluster has realised, by kind."""

    cashable: Money
    non_cashable: Money = field(metadata={"key": "non-cashable"})


@_result
class ClusterView(_Result):
    """A cluster: its lead, members, phases, contracts and governance."""

    name: str
    lead: str | None
    phase_count: int
    members: list[str]
    phases: list[PhaseView]
    contracts: list[ContractView]
    business_cases: list[BusinessCaseView]
    funding_gbp: Money
    benefits_realised_gbp: BenefitsView
    rating: Rating | None


@_result
class DepartmentView(_Result):
    """A department (or arm's-length body) and the cluster it belongs to."""

    code: str
    name: str
    kind: DepartmentKind
    parent: str | None
    cluster: str | None
    headcount: int | None


@_result
class DecisionView(_Result):
    """A decision, with the things it concerns (``cluster:Synergy``, ``department:DWP``, …)."""

    id: str
    title: str
    status: DecisionStatus
    concerns: list[str]
    superseded_by: str | None


@_result
class Model(_Result):
    """The operating model as ``show --json`` prints it: now, or at a point in time."""

    position: int
    as_of: date | None
    as_recorded: str | None
    clusters: list[ClusterView]
    departments: list[DepartmentView]
    decisions: list[DecisionView]


@_result
class HistoryEntry(_Result):
    """One stored event as ``history --json`` lists it (SPEC §3's metadata and a summary)."""

    position: int
    recorded_at: str
    effective: date
    actor: str
    reason: str | None
    source: str | None
    command_id: str
    subject: str
    event: str
    summary: str
    data: dict[str, Any]


@_result
class Change(_Result):
    """One thing that differs between two models (``diff``, ``replay``)."""

    kind: str
    subject: str
    change: Literal["added", "removed", "changed"]
    #: What changed, for a changed field (the three are absent from the JSON otherwise).
    field: str | None = None
    before: Any = None
    after: Any = None
    summary: str

    def to_json(self) -> Any:
        document = super().to_json()
        if self.field is None:
            for key in ("field", "before", "after"):
                del document[key]
        return document


@_result
class DiffEnd(_Result):
    """One end of a ``diff``: the point as given, and the model's position and date there."""

    point: str
    position: int
    as_of: date | None


@_result
class Diff(_Result):
    """What changed between two points, as ``diff --json`` prints it."""

    start: DiffEnd = field(metadata={"key": "from"})
    end: DiffEnd = field(metadata={"key": "to"})
    changes: list[Change]


@_result
class ReplayStep(_Result):
    """One event of a replay and what it changed in the model."""

    position: int
    recorded_at: str | None
    effective: date
    actor: str
    event: str
    subject: str | None
    summary: str | None
    changes: list[Change]
