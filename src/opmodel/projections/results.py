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

import re
import types
from collections.abc import Callable
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
        return {key: dump(getattr(self, name)) for name, key, _, dump, _ in _plan(type(self))}

    @classmethod
    def from_json(cls, document: Any) -> Self:
        """Read a document back, checking its keys and the choices of every field."""
        if type(document) is not dict:
            raise ValueError(f"{cls.__name__}: expected an object, got {document!r}")
        plan = _plan(cls)  # first: it fills _KNOWN and _DEFAULTS
        if len(document) > len(plan) or not document.keys() <= _known(cls):
            unknown = set(document) - _known(cls)
            raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
        values = {}
        for name, key, load, _, required in plan:
            if key in document:
                values[name] = load(document[key])
            elif required:
                raise ValueError(f"{cls.__name__}: {key!r} is missing")
        # Every field is checked above: filled directly, as a frozen dataclass's
        # __init__ would (it sets them one call at a time: most of a large model's cost).
        result = object.__new__(cls)
        result.__dict__.update(_DEFAULTS[cls])
        result.__dict__.update(values)
        return result


#: Per class, each field: its name, its JSON key, how to read it, how to write it, and
#: whether the document must have it (worked out once per class).
_Plan = tuple[tuple[str, str, Callable[[Any], Any], Callable[[Any], Any], bool], ...]
_PLANS: dict[type, _Plan] = {}
_KNOWN: dict[type, frozenset[str]] = {}
_DEFAULTS: dict[type, dict[str, Any]] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls, include_extras=True)
        plan = _PLANS[cls] = tuple(
            (
                f.name,
                f.metadata.get("key", f.name),
                _loader(hints[f.name], f"{cls.__name__}.{f.name}"),
                _dumper(hints[f.name]),
                f.default is MISSING,
            )
            for f in fields(cls)
        )
        _KNOWN[cls] = frozenset(key for _, key, _, _, _ in plan)
        _DEFAULTS[cls] = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    return plan


def _known(cls: type) -> frozenset[str]:
    _plan(cls)
    return _KNOWN[cls]


def _same(value: Any) -> Any:
    return value


def _loader(kind: Any, where: str) -> Callable[[Any], Any]:
    """How to read a value of type ``kind`` from JSON, checking it."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        (inner,) = [o for o in get_args(kind) if o is not type(None)]
        load = _loader(inner, where)
        return lambda value: None if value is None else load(value)
    if origin is Annotated:  # money

        def money(value: Any) -> Any:
            if type(value) is not str or not _MONEY.fullmatch(value):
                raise ValueError(f"{where}: {value!r} is not money with two decimals")
            return value

        return money
    if kind is Any:
        return _same
    if origin is Literal:
        allowed = frozenset(get_args(kind))

        def choice(value: Any) -> Any:
            if value not in allowed:
                raise ValueError(f"{where}: {value!r} is not one of {sorted(allowed)}")
            return value

        return choice
    if origin is list:
        (item,) = get_args(kind)
        load = _loader(item, where)

        def items(value: Any) -> Any:
            if type(value) is not list:
                raise ValueError(f"{where}: expected a list, got {value!r}")
            return [load(v) for v in value]

        return items
    if origin is dict:

        def mapping(value: Any) -> Any:
            if type(value) is not dict:
                raise ValueError(f"{where}: expected an object, got {value!r}")
            return value

        return mapping
    if isinstance(kind, type) and issubclass(kind, _Result):
        return kind.from_json
    if kind is date:
        return lambda value: value if isinstance(value, date) else date.fromisoformat(value)

    def plain(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"{where}: expected {kind.__name__}, got {value!r}")
        return value

    return plain


def _dumper(kind: Any) -> Callable[[Any], Any]:
    """How to write a value of type ``kind`` as JSON."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        (inner,) = [o for o in get_args(kind) if o is not type(None)]
        dump = _dumper(inner)
        return _same if dump is _same else lambda value: None if value is None else dump(value)
    if origin is list:
        (item,) = get_args(kind)
        dump = _dumper(item)
        return _same if dump is _same else lambda value: [dump(v) for v in value]
    if isinstance(kind, type) and issubclass(kind, _Result):
        return lambda value: value.to_json()
    if kind is date:
        return lambda value: value.isoformat()
    return _same


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
