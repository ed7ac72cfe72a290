"""Values of the domain: money, codes, dates, the closed vocabularies, event metadata.

Parsing lives here so that every edge (the CLI, import files, the HTTP API)
applies the same rules and raises the same :class:`~opmodel.errors.InvalidInput`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Final, Literal, get_args

from opmodel.errors import InvalidInput

DepartmentKind = Literal["ministerial", "non-ministerial", "alb"]
ContractKind = Literal[
    "software", "systems-integration", "business-process-services", "consultancy", "other"
]
BusinessCaseStage = Literal["SOC", "OBC", "FBC"]
BusinessCaseStatus = Literal["submitted", "approved", "rejected"]
BenefitKind = Literal["cashable", "non-cashable"]
Rating = Literal["green", "amber-green", "amber", "amber-red", "red"]

DEPARTMENT_KINDS: Final = get_args(DepartmentKind)
CONTRACT_KINDS: Final = get_args(ContractKind)
BUSINESS_CASE_STAGES: Final = get_args(BusinessCaseStage)
BUSINESS_CASE_STATUSES: Final = get_args(BusinessCaseStatus)
BENEFIT_KINDS: Final = get_args(BenefitKind)
RATINGS: Final = get_args(Rating)

#: The longest a one-line name may be: a cluster, department, phase, contract
#: reference, supplier, framework, decision title or id, actor, period or assessor.
MAX_NAME_LENGTH: Final = 200
#: The longest free text may be: a reason, source, description, context, decision
#: or consequences.
MAX_TEXT_LENGTH: Final = 10_000
#: The most digits a whole number written as text may have.
_MAX_DIGITS: Final = 30
#: The longest money written as text may be (``£144,330,703,000.00`` is 19).
_MAX_MONEY_TEXT: Final = 64
#: Characters no stored text may hold: the C0 controls but tab and newline, DEL,
#: the C1 controls, and lone surrogates (which are not Unicode text at all).
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def kind_of(value: object) -> str:
    """What a value is, as a person who wrote a file would say it (for error messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float | Decimal):
        return f"a number ({shown(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut short: a hostile value may be megabytes long."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a number of about {int(value.bit_length() * 0.30103):,} digits"
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else f"{text[:limit]}…"


def check_text(
    value: object, *, what: str, limit: int | None = MAX_TEXT_LENGTH, one_line: bool = False
) -> str:
    """Text a store can hold: a string of at most ``limit`` characters (None: no limit here)
    with no control character but tab and newline (none when ``one_line``), and no lone
    surrogate. Returned as given; callers trim.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {kind_of(value)}")
    if limit is not None and len(value) > limit:
        raise InvalidInput(
            f"{what} is {len(value):,} characters long; the most is {limit:,}: shorten it"
        )
    # Printable text (most of it) has no control character and no surrogate: the
    # search is for the rest (tab, newline, and what is not printable but allowed).
    bad = None if value.isprintable() else _FORBIDDEN.search(value)
    if bad is not None:
        char = bad.group()
        if "\ud800" <= char <= "\udfff":
            kind, why = "a lone surrogate", "it is not valid Unicode"
        else:
            kind, why = "the control character", "of the controls only tab and newline are allowed"
        raise InvalidInput(
            f"{what} contains {kind} U+{ord(char):04X} at character {bad.start() + 1}: "
            f"remove it ({why})"
        )
    if one_line and "\n" in value.strip():
        raise InvalidInput(f"{what} must be one line")
    return value


def check_meta_text(*, actor: object = None, reason: object = None, source: object = None) -> None:
    """Rule: event metadata is text a store can hold (an actor one line; None passes)."""
    if actor is not None:
        check_text(actor, what="actor", limit=MAX_NAME_LENGTH, one_line=True)
    if reason is not None:
        check_text(reason, what="reason")
    if source is not None:
        check_text(source, what="source")


PENNY: Final = Decimal("0.01")
#: Amounts are held in whole pence in 64-bit read-model columns; a quadrillion pounds is ample.
MAX_POUNDS: Final = Decimal(10) ** 15

_MONEY = re.compile(
    r"""^\s*£?\s*
    (?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    \s*(?P<scale>k|m|bn|b)?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_SCALES: Final = {
    None: Decimal(1),
    "k": Decimal(1_000),
    "m": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
}


def parse_money(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """Parse money as a person writes it (``933.65m``, ``£1.4m``, ``1.18bn``, ``70k``,
    ``£144,330,703``) into an exact Decimal of pounds with two decimals.

    Rejects negatives, fractions of a penny and anything unparseable.
    """
    if isinstance(text, bool):
        raise InvalidInput(f"{what} {text!r} is not an amount of money")
    if isinstance(text, int | float | Decimal):
        text = str(text)  # a YAML or JSON number: 1400000, 1.4
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be an amount of money, not {kind_of(text)}")
    if len(text) > _MAX_MONEY_TEXT:
        raise InvalidInput(
            f"{what} {shown(text)} is not an amount of money: write it in at most "
            f"{_MAX_MONEY_TEXT} characters, like 933.65m or £144,330,703"
        )
    match = _MONEY.match(text)
    if match is None:
        hint = "negative amounts are not allowed; " if text.strip().startswith("-") else ""
        raise InvalidInput(
            f"{what} {text!r} is not an amount of money: {hint}write it like "
            "933.65m, £1.4m, 1.18bn, 70k or £144,330,703"
        )
    try:
        number = Decimal(match["number"].replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise InvalidInput(f"{what} {text!r} is not an amount of money") from exc
    scale = match["scale"].lower() if match["scale"] else None
    pounds = number * _SCALES[scale]
    if pounds >= MAX_POUNDS:
        raise InvalidInput(
            f"{what} {text!r} is larger than opmodel can hold (under £{MAX_POUNDS:,} in all)"
        )
    if pounds != pounds.quantize(PENNY):
        raise InvalidInput(f"{what} {text!r} has a fraction of a penny; round it to pence")
    return pounds.quantize(PENNY)


def positive_money(text: str | int | float | Decimal, *, what: str = "amount") -> Decimal:
    """Parse money that must be more than zero."""
    pounds = parse_money(text, what=what)
    if pounds <= 0:
        raise InvalidInput(f"{what} {text!r} must be more than zero")
    return pounds


def format_money(pounds: Decimal) -> str:
    """Money as the JSON contract shows it: a string with two decimals."""
    return f"{pounds.quantize(PENNY):f}"


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str | date, *, what: str = "date") -> date:
    """Parse a strict ISO ``YYYY-MM-DD`` date that exists in the calendar."""
    if isinstance(text, datetime):
        raise InvalidInput(f"{what} {text.isoformat()!r} is a timestamp: write a date, YYYY-MM-DD")
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        raise InvalidInput(f"{what} must be a date written YYYY-MM-DD, not {kind_of(text)}")
    if not _ISO_DATE.match(text.strip()):
        raise InvalidInput(f"{what} {shown(text)} is not a date: write it as YYYY-MM-DD")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{what} {text!r} is not a date in the calendar ({exc})") from exc


def parse_effective(text: str | date, *, what: str = "--effective") -> date:
    """An effective date: a date (as :func:`parse_date`) that is not after today.

    An effective date says when a fact took effect in the world; one in the future
    is a plan, not a fact, and would make the present model disagree with the
    model as of today (SPEC §3). Plans have their own fields (a phase's planned
    dates, a contract's start).
    """
    day = parse_date(text, what=what)
    today = date.today()
    if day > today:
        raise InvalidInput(
            f"{what} {day.isoformat()} is in the future (today is {today.isoformat()}): "
            "record a fact once it has taken effect"
        )
    return day


_CODE = re.compile(r"^[A-Z0-9-]{2,12}$")


def parse_code(text: str, *, what: str = "department code") -> str:
    """A department code: 2 to 12 of ``A-Z 0-9 -``, upper-cased."""
    code = check_text(text, what=what, limit=MAX_NAME_LENGTH).strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            f"{what} {text!r} is not valid: use 2 to 12 letters, digits or hyphens (like DWP)"
        )
    return code


def parse_name(text: str, *, what: str = "name") -> str:
    """A non-blank single-line name, trimmed (text as :func:`check_text` allows)."""
    name = check_text(text, what=what, limit=None).strip()
    if not name:
        raise InvalidInput(f"{what} must not be blank")
    if "\n" in name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{what} must be one line of at most {MAX_NAME_LENGTH} characters")
    return name


def parse_choice(text: str, choices: tuple[str, ...], *, what: str) -> str:
    """One of a closed vocabulary, compared ignoring case."""
    value = check_text(text, what=what, limit=MAX_NAME_LENGTH).strip()
    for choice in choices:
        if value.casefold() == choice.casefold():
            return choice
    raise InvalidInput(f"{what} {text!r} is not one of: {', '.join(choices)}")


def parse_count(value: int | str, *, what: str, minimum: int = 0) -> int:
    """A whole number at least ``minimum`` (an int, or its digits as text)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{what} must be a whole number, not {kind_of(value)}")
    if isinstance(value, str) and len(value) > _MAX_DIGITS:
        raise InvalidInput(f"{what} is not a whole number of at most {_MAX_DIGITS} digits")
    try:
        number = int(value.strip() if isinstance(value, str) else value)
    except ValueError as exc:
        raise InvalidInput(f"{what} {shown(value)} is not a whole number") from exc
    if number < minimum:
        raise InvalidInput(f"{what} must be at least {minimum} (got {number})")
    return number


def add_months(start: date, months: int) -> date:
    """``start`` plus whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    if not date.min.year <= year <= date.max.year:
        raise InvalidInput(
            f"{start} plus {months} months falls outside the calendar opmodel can hold "
            f"(years {date.min.year} to {date.max.year})"
        )
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


@dataclass(frozen=True)
class Meta:
    """What every event carries besides its own data (SPEC §3).

    ``recorded_at`` and ``position`` are not here: the store assigns them.
    """

    effective: date
    actor: str
    command_id: str
    reason: str | None = None
    source: str | None = None


def format_pounds(amount: Decimal | str) -> str:
    """Money as people read it: ``£1,234,567.00`` (of pounds, or of their JSON string)."""
    return f"£{Decimal(amount):,.2f}"


def contract_end(start: date, months: int) -> date:
    """Rule: a contract running ``months`` from ``start`` ends on this day.

    The one rule behind a contract's ``end`` (term + extensions exercised) and
    ``max_end`` (term + the whole allowance), on the aggregate and in the read
    model. Today it is the anniversary itself (:func:`add_months`); SPEC §2's
    "the day before the anniversary" will be this one line.
    """
    return add_months(start, months)
