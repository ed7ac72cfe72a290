"""Money is formatted in one place, and a contract's end is computed by one rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opmodel.diffing import diff_models
from opmodel.domain.values import add_months, contract_end, format_money, format_pounds
from opmodel.projections.operating_model.query import money_json
from opmodel.projections.summaries import gbp
from tests.strategies import dates, money, pence_amounts


def _pence_by_integer_arithmetic(value_pence: int) -> str:
    """How the operating-model query showed pence before it used ``format_money``."""
    pounds, pence = divmod(abs(value_pence), 100)
    return f"{'-' if value_pence < 0 else ''}{pounds}.{pence:02d}"


@given(pence_amounts)
def test_pence_are_shown_as_the_integer_arithmetic_showed_them(value_pence: int) -> None:
    assert money_json(value_pence) == _pence_by_integer_arithmetic(value_pence)


def test_no_pence_is_no_money() -> None:
    assert money_json(None) is None


@given(money)
def test_pence_shown_are_the_json_form_of_the_pounds(pounds: Decimal) -> None:
    assert money_json(int(pounds * 100)) == format_money(pounds)


@given(money)
def test_the_human_form_is_the_json_form_with_a_pound_sign_and_thousands(pounds: Decimal) -> None:
    shown = format_pounds(pounds)
    assert shown == f"£{Decimal(format_money(pounds)):,.2f}"
    assert format_pounds(format_money(pounds)) == shown
    assert shown.replace("£", "").replace(",", "") == format_money(pounds)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("710000000"), "£710,000,000.00"),
        ("933650000.00", "£933,650,000.00"),
        (Decimal("0.5"), "£0.50"),
        ("0.00", "£0.00"),
        ("-1234.50", "£-1,234.50"),
    ],
)
def test_money_is_shown_to_people_with_a_pound_sign_and_thousands(
    amount: Decimal | str, shown: str
) -> None:
    assert format_pounds(amount) == shown


def test_summaries_and_differences_show_money_in_the_human_form() -> None:
    assert gbp(Decimal("1400000")) == "£1,400,000.00"
    assert gbp(None) == "an unstated amount"
    empty = {"clusters": [], "departments": [], "decisions": []}
    contract = {"ref": "X-1", "kind": "software", "cluster": "Synergy", "status": "active"}
    before = empty
    after = {
        **empty,
        "clusters": [
            {
                "name": "Synergy",
                "contracts": [{**contract, "value_gbp": "1400000.00"}],
                "phases": [],
            }
        ],
    }
    [change] = [c for c in diff_models(before, after) if c["kind"] == "contract"]
    assert change["summary"] == "Contract X-1 (software, Synergy) appears: active, £1,400,000.00."


@given(dates, st.integers(min_value=0, max_value=600))
def test_a_contract_ends_as_many_months_after_its_start_as_it_runs(
    start: date, months: int
) -> None:
    # Today's rule; SPEC §2's "the day before the anniversary" is a later issue.
    assert contract_end(start, months) == add_months(start, months)


def test_a_contract_from_the_31st_ends_on_the_last_day_of_a_shorter_month() -> None:
    assert contract_end(date(2024, 1, 31), 1) == date(2024, 2, 29)
