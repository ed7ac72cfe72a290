"""Write commands as validated, frozen inputs: one model per CLI command.

The CLI and import files both build these models from what a person typed,
so one set of validators (money, codes, dates, choices) serves every edge.
Each model names its command with the CLI's words (``"cluster form"``) and
knows which method of :class:`~opmodel.application.OperatingModel` carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from opmodel.domain import values
from opmodel.domain.values import Meta
from opmodel.errors import InvalidInput

V = TypeVar("V")


def _as_value_error(parse: Callable[[Any], V]) -> Callable[[Any], V]:
    """Turn a parser's InvalidInput into the ValueError pydantic reports per field."""

    def validate(value: Any) -> V:
        try:
            return parse(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    return validate


def _choice(choices: tuple[str, ...], what: str) -> BeforeValidator:
    return BeforeValidator(_as_value_error(lambda v: values.parse_choice(v, choices, what=what)))


def _text(value: Any) -> str:
    return values.parse_name(value, what="value")


def _free_text(value: Any) -> str:
    return values.check_text(value, what="value")


def _concern(value: Any) -> str:
    return values.check_text(value, what="value", limit=values.MAX_NAME_LENGTH, one_line=True)


Money = Annotated[Decimal, BeforeValidator(_as_value_error(values.positive_money))]
Code = Annotated[str, BeforeValidator(_as_value_error(values.parse_code))]
Day = Annotated[date, BeforeValidator(_as_value_error(values.parse_date))]
Name = Annotated[str, BeforeValidator(_as_value_error(_text))]
Text = Annotated[
    str, BeforeValidator(_as_value_error(_free_text)), AfterValidator(lambda v: v.strip())
]
Concern = Annotated[str, BeforeValidator(_as_value_error(_concern))]
# Whole numbers are strict: ``'12'``, ``true`` or ``12.0`` in an import file is refused.
Count = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Months = Annotated[int, Field(strict=True, ge=1, le=1200)]
AllowanceMonths = Annotated[int, Field(strict=True, ge=0, le=1200)]
PhaseCount = Annotated[int, Field(strict=True, ge=1, le=50)]
PhaseNumber = Annotated[int, Field(strict=True, ge=1, le=50)]
Years = Annotated[int, Field(strict=True, ge=1, le=100)]
DepartmentKind = Annotated[str, _choice(values.DEPARTMENT_KINDS, "kind")]
ContractKind = Annotated[str, _choice(values.CONTRACT_KINDS, "kind")]
Stage = Annotated[
    str, BeforeValidator(_as_value_error(lambda v: values.parse_choice(
        v, values.BUSINESS_CASE_STAGES, what="stage"
    )))
]  # fmt: skip
CaseStatus = Annotated[str, _choice(values.BUSINESS_CASE_STATUSES, "status")]
BenefitKind = Annotated[str, _choice(values.BENEFIT_KINDS, "kind")]
Rating = Annotated[str, _choice(values.RATINGS, "rating")]


class Handles(Protocol):
    """What carries commands out: the write side
    (:class:`~opmodel.application.OperatingModel`)."""

    def handle(self, uow: Any, command: Command, meta: Meta) -> str | None: ...


class Command(BaseModel):
    """A write command: validated input plus how to carry it out."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )

    name: ClassVar[str]
    #: The method of the write side (:mod:`opmodel.handlers`) that carries it out.
    handler: ClassVar[str]

    def run(self, app: Handles, uow: Any, meta: Meta) -> str | None:
        """Carry the command out in ``uow`` (a unit of work of ``app``); may return an id
        it created."""
        return app.handle(uow, self, meta)


class FormCluster(Command):
    name = "cluster form"
    cluster: Name = Field(alias="name")
    phases: PhaseCount = 5
    description: Text | None = None

    handler = "form_cluster"


class DesignateLead(Command):
    name = "cluster lead"
    cluster: Name = Field(alias="name")
    dept: Code

    handler = "designate_lead"


class RegisterDepartment(Command):
    name = "department register"
    code: Code
    title: Name = Field(alias="name")
    kind: DepartmentKind = "ministerial"
    parent: Code | None = None
    headcount: Count | None = None

    handler = "register_department"


class RenameDepartment(Command):
    name = "department rename"
    code: Code
    title: Name | None = Field(default=None, alias="name")
    new_code: Code | None = None

    handler = "rename_department"


class RecordHeadcount(Command):
    name = "department headcount"
    code: Code
    headcount: Count

    handler = "record_headcount"


class JoinCluster(Command):
    name = "department join"
    code: Code
    cluster: Name

    handler = "join_cluster"


class LeaveCluster(Command):
    name = "department leave"
    code: Code

    handler = "leave_cluster"


class MoveDepartment(Command):
    name = "department move"
    code: Code
    cluster: Name

    handler = "move_department"


class PlanPhase(Command):
    name = "phase plan"
    cluster: Name
    number: PhaseNumber
    title: Name = Field(alias="name")
    start: Day | None = None
    end: Day | None = None

    handler = "plan_phase"


class StartPhase(Command):
    name = "phase start"
    cluster: Name
    number: PhaseNumber

    handler = "start_phase"


class CompletePhase(Command):
    name = "phase complete"
    cluster: Name
    number: PhaseNumber

    handler = "complete_phase"


class OnboardDepartment(Command):
    name = "phase onboard"
    cluster: Name
    number: PhaseNumber
    dept: Code

    handler = "onboard"


class AwardContract(Command):
    name = "contract award"
    ref: Name
    cluster: Name
    kind: ContractKind
    supplier: Name
    value: Money
    start: Day
    term_months: Months
    extension_months: AllowanceMonths = 0
    bundled_with: Name | None = None
    framework: Name | None = None

    handler = "award_contract"


class TenderContract(Command):
    name = "contract tender"
    ref: Name
    cluster: Name
    kind: ContractKind
    estimated_value: Money
    term_months: Months | None = None
    extension_months: AllowanceMonths | None = None

    handler = "tender_contract"


class CorrectContract(Command):
    name = "contract correct"
    ref: Name
    term_months: Months | None = None
    extension_months: AllowanceMonths | None = None
    value: Money | None = None
    start: Day | None = None
    supplier: Name | None = None

    handler = "correct_contract"


class ExtendContract(Command):
    name = "contract extend"
    ref: Name
    months: Months

    handler = "extend_contract"


class VaryContract(Command):
    name = "contract vary"
    ref: Name
    value: Money

    handler = "vary_contract"


class TerminateContract(Command):
    name = "contract terminate"
    ref: Name

    handler = "terminate_contract"


class ProposeDecision(Command):
    name = "decision propose"
    title: Name
    context: Text = Field(min_length=1)
    decision: Text = Field(min_length=1)
    consequences: Text | None = None
    concerns: tuple[Concern, ...] = Field(default=(), max_length=1000)

    handler = "propose_decision"


class AcceptDecision(Command):
    name = "decision accept"
    id: Name

    handler = "accept_decision"


class RejectDecision(Command):
    name = "decision reject"
    id: Name

    handler = "reject_decision"


class SupersedeDecision(Command):
    name = "decision supersede"
    id: Name
    by: Name

    handler = "supersede_decision"


class RecordBusinessCase(Command):
    name = "business-case record"
    cluster: Name
    stage: Stage
    status: CaseStatus
    cost: Money | None = None
    benefits: Money | None = None
    period_years: Years | None = None

    handler = "record_business_case"


class GrantFunding(Command):
    name = "funding grant"
    cluster: Name
    amount: Money

    handler = "grant_funding"


class RealiseBenefit(Command):
    name = "benefit realise"
    cluster: Name
    amount: Money
    kind: BenefitKind
    period: Name | None = None

    handler = "realise_benefit"


class RateAssurance(Command):
    name = "assurance rate"
    cluster: Name
    rating: Rating
    assessor: Name | None = None

    handler = "rate_assurance"


COMMANDS: dict[str, type[Command]] = {
    cls.name: cls
    for cls in (
        FormCluster, DesignateLead, RegisterDepartment, RenameDepartment, RecordHeadcount,
        JoinCluster, LeaveCluster, MoveDepartment, PlanPhase, StartPhase, CompletePhase,
        OnboardDepartment, AwardContract, TenderContract, CorrectContract, ExtendContract,
        VaryContract, TerminateContract, ProposeDecision, AcceptDecision, RejectDecision,
        SupersedeDecision, RecordBusinessCase, GrantFunding, RealiseBenefit, RateAssurance,
    )
}  # fmt: skip


def describe_validation_error(error: ValidationError) -> str:
    """A pydantic error, field by field, in the CLI's words (kebab-case option names)."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]).replace("_", "-") or "input"
        message = item["msg"].removeprefix("Value error, ")
        given = item.get("input")
        if item["type"] != "value_error" and isinstance(given, str | int | float):
            message = f"{values.shown(given)}: {message[:1].lower()}{message[1:]}"
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] == "extra_forbidden":
            message = "is not an option of this command"
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


def build(name: str, arguments: Mapping[str, Any]) -> Command:
    """Validate ``arguments`` (CLI names, kebab or snake case) for command ``name``."""
    try:
        cls = COMMANDS[name]
    except KeyError:
        raise InvalidInput(
            f"unknown command {name!r}: use one of {', '.join(sorted(COMMANDS))}"
        ) from None
    normalised: dict[str, Any] = {}
    for key, value in arguments.items():
        if not isinstance(key, str):
            raise InvalidInput(f"{name}: option {values.shown(key)} must be named by text")
        field = key.replace("-", "_")
        if field in normalised:
            raise InvalidInput(
                f"{name}: {field.replace('_', '-')} is given twice (as kebab and snake case); "
                "give it once"
            )
        normalised[field] = value
    try:
        return cls.model_validate(normalised)
    except ValidationError as exc:
        raise InvalidInput(f"{name}: {describe_validation_error(exc)}") from None
