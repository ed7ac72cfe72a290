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
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from opmodel.application import OperatingModel, UnitOfWork
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


Money = Annotated[Decimal, BeforeValidator(_as_value_error(values.positive_money))]
Code = Annotated[str, BeforeValidator(_as_value_error(values.parse_code))]
Day = Annotated[date, BeforeValidator(_as_value_error(values.parse_date))]
Name = Annotated[str, BeforeValidator(_as_value_error(_text))]
Text = Annotated[str, AfterValidator(lambda v: v.strip())]
Count = Annotated[int, Field(ge=0, le=100_000_000)]
Months = Annotated[int, Field(ge=1, le=1200)]
AllowanceMonths = Annotated[int, Field(ge=0, le=1200)]
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


class Command(BaseModel):
    """A write command: validated input plus how to carry it out."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True
    )

    name: ClassVar[str]

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> str | None:
        """Carry the command out in ``uow``; may return an id it created."""
        raise NotImplementedError


class FormCluster(Command):
    name = "cluster form"
    cluster: Name = Field(alias="name")
    phases: int = Field(default=5, ge=1, le=50)
    description: str | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.form_cluster(uow, self, meta)


class DesignateLead(Command):
    name = "cluster lead"
    cluster: Name = Field(alias="name")
    dept: Code

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.designate_lead(uow, self, meta)


class RegisterDepartment(Command):
    name = "department register"
    code: Code
    title: Name = Field(alias="name")
    kind: DepartmentKind = "ministerial"
    parent: Code | None = None
    headcount: Count | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.register_department(uow, self, meta)


class RenameDepartment(Command):
    name = "department rename"
    code: Code
    title: Name | None = Field(default=None, alias="name")
    new_code: Code | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.rename_department(uow, self, meta)


class RecordHeadcount(Command):
    name = "department headcount"
    code: Code
    headcount: Count

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.record_headcount(uow, self, meta)


class JoinCluster(Command):
    name = "department join"
    code: Code
    cluster: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.join_cluster(uow, self, meta)


class LeaveCluster(Command):
    name = "department leave"
    code: Code

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.leave_cluster(uow, self, meta)


class MoveDepartment(Command):
    name = "department move"
    code: Code
    cluster: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.move_department(uow, self, meta)


class PlanPhase(Command):
    name = "phase plan"
    cluster: Name
    number: int = Field(ge=1, le=50)
    title: Name = Field(alias="name")
    start: Day | None = None
    end: Day | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.plan_phase(uow, self, meta)


class StartPhase(Command):
    name = "phase start"
    cluster: Name
    number: int = Field(ge=1, le=50)

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.start_phase(uow, self, meta)


class CompletePhase(Command):
    name = "phase complete"
    cluster: Name
    number: int = Field(ge=1, le=50)

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.complete_phase(uow, self, meta)


class OnboardDepartment(Command):
    name = "phase onboard"
    cluster: Name
    number: int = Field(ge=1, le=50)
    dept: Code

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.onboard(uow, self, meta)


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

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.award_contract(uow, self, meta)


class TenderContract(Command):
    name = "contract tender"
    ref: Name
    cluster: Name
    kind: ContractKind
    estimated_value: Money
    term_months: Months | None = None
    extension_months: AllowanceMonths | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.tender_contract(uow, self, meta)


class CorrectContract(Command):
    name = "contract correct"
    ref: Name
    term_months: Months | None = None
    extension_months: AllowanceMonths | None = None
    value: Money | None = None
    start: Day | None = None
    supplier: Name | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.correct_contract(uow, self, meta)


class ExtendContract(Command):
    name = "contract extend"
    ref: Name
    months: Months

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.extend_contract(uow, self, meta)


class VaryContract(Command):
    name = "contract vary"
    ref: Name
    value: Money

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.vary_contract(uow, self, meta)


class TerminateContract(Command):
    name = "contract terminate"
    ref: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.terminate_contract(uow, self, meta)


class ProposeDecision(Command):
    name = "decision propose"
    title: Name
    context: Text = Field(min_length=1)
    decision: Text = Field(min_length=1)
    consequences: str | None = None
    concerns: tuple[str, ...] = ()

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> str:
        return app.propose_decision(uow, self, meta)


class AcceptDecision(Command):
    name = "decision accept"
    id: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.accept_decision(uow, self, meta)


class RejectDecision(Command):
    name = "decision reject"
    id: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.reject_decision(uow, self, meta)


class SupersedeDecision(Command):
    name = "decision supersede"
    id: Name
    by: Name

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.supersede_decision(uow, self, meta)


class RecordBusinessCase(Command):
    name = "business-case record"
    cluster: Name
    stage: Stage
    status: CaseStatus
    cost: Money | None = None
    benefits: Money | None = None
    period_years: int | None = Field(default=None, ge=1, le=100)

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.record_business_case(uow, self, meta)


class GrantFunding(Command):
    name = "funding grant"
    cluster: Name
    amount: Money

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.grant_funding(uow, self, meta)


class RealiseBenefit(Command):
    name = "benefit realise"
    cluster: Name
    amount: Money
    kind: BenefitKind
    period: Name | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.realise_benefit(uow, self, meta)


class RateAssurance(Command):
    name = "assurance rate"
    cluster: Name
    rating: Rating
    assessor: Name | None = None

    def run(self, app: OperatingModel, uow: UnitOfWork, meta: Meta) -> None:
        app.rate_assurance(uow, self, meta)


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
            message = f"{given!r}: {message[:1].lower()}{message[1:]}"
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
    normalised = {str(k).replace("-", "_"): v for k, v in arguments.items()}
    try:
        return cls.model_validate(normalised)
    except ValidationError as exc:
        raise InvalidInput(f"{name}: {describe_validation_error(exc)}") from None
