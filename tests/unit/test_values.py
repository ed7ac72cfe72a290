"""The value parsers every edge shares: money, dates, codes, names, choices, counts, months."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from opmodel.domain.values import (
    CONTRACT_KINDS,
    add_months,
    format_money,
    parse_choice,
    parse_code,
    parse_count,
    parse_date,
    parse_money,
    parse_name,
    positive_money,
)
from opmodel.errors import InvalidInput

# --- money ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "pounds"),
    [
        ("933.65m", "933650000.00"),
        ("£1.4m", "1400000.00"),
        ("1.18bn", "1180000000.00"),
        ("70k", "70000.00"),
        ("£144,330,703", "144330703.00"),
        ("2.225m", "2225000.00"),
        ("1.5b", "1500000000.00"),
        ("£300M", "300000000.00"),
        (" £ 1.4 m ", "1400000.00"),
        ("710000000", "710000000.00"),
        ("12.5", "12.50"),
        (".5", "0.50"),
        ("£1,234.56", "1234.56"),
    ],
)
def test_money_written_as_a_person_writes_it_parses_to_exact_pounds(
    written: str, pounds: str
) -> None:
    parsed = parse_money(written)

    assert isinstance(parsed, Decimal)
    assert parsed == Decimal(pounds)
    assert str(parsed) == pounds


def test_money_is_held_with_exactly_two_decimals() -> None:
    assert parse_money("1.18bn").as_tuple().exponent == -2
    assert parse_money("70k").as_tuple().exponent == -2


def test_money_given_as_an_integer_or_a_decimal_is_taken_as_pounds() -> None:
    assert parse_money(1_400_000) == Decimal("1400000.00")
    assert parse_money(Decimal("933.65")) == Decimal("933.65")


def test_money_is_exact_where_a_float_would_not_be() -> None:
    assert parse_money("0.1k") + parse_money("0.2k") == parse_money("0.3k")
    assert parse_money("933.65m") == Decimal("933650000")


def test_negative_money_is_rejected_saying_negatives_are_not_allowed() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_money("-5m", what="value")

    assert raised.value.exit_code == 2
    assert "negative" in raised.value.message
    assert "value" in raised.value.message


def test_zero_is_money_but_not_where_more_than_zero_is_required() -> None:
    assert parse_money("0") == Decimal("0.00")

    with pytest.raises(InvalidInput) as raised:
        positive_money("0", what="value")

    assert raised.value.exit_code == 2
    assert "more than zero" in raised.value.message
    assert "value" in raised.value.message


def test_positive_money_accepts_a_penny() -> None:
    assert positive_money("0.01") == Decimal("0.01")


@pytest.mark.parametrize("written", ["1.005", "£0.001", "1.234567k"])
def test_a_fraction_of_a_penny_is_rejected(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_money(written)

    assert "fraction of a penny" in raised.value.message


def test_a_scale_that_turns_fractions_into_whole_pence_is_not_a_fraction_of_a_penny() -> None:
    assert parse_money("1.23456m") == Decimal("1234560.00")


@pytest.mark.parametrize(
    "written",
    ["lots", "", "   ", "£", "1.2.3", "1e6", "12,34,567", "1,2345", "5 million", "£1.4mm", "$5"],
)
def test_garbage_is_not_money(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_money(written, what="estimated-value")

    assert raised.value.exit_code == 2
    assert "estimated-value" in raised.value.message
    assert "933.65m" in raised.value.message  # shows how to write it


@pytest.mark.parametrize("value", [True, None, ["1m"]])
def test_values_that_are_not_text_or_numbers_are_not_money(value: object) -> None:
    with pytest.raises(InvalidInput):
        parse_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pounds", "shown"),
    [
        (Decimal("933650000"), "933650000.00"),
        (Decimal("1.5"), "1.50"),
        (Decimal("0"), "0.00"),
        (Decimal("1E+9"), "1000000000.00"),
        (Decimal("144330703.00"), "144330703.00"),
    ],
)
def test_money_is_formatted_as_a_plain_string_with_two_decimals(
    pounds: Decimal, shown: str
) -> None:
    assert format_money(pounds) == shown


def test_formatting_parsed_money_gives_the_json_form() -> None:
    assert format_money(parse_money("933.65m")) == "933650000.00"


# --- dates ------------------------------------------------------------------


def test_a_strict_iso_date_parses() -> None:
    assert parse_date("2023-02-01") == date(2023, 2, 1)
    assert parse_date(" 2024-02-29 ") == date(2024, 2, 29)


def test_a_date_is_passed_through_unchanged() -> None:
    assert parse_date(date(2021, 3, 1)) == date(2021, 3, 1)


@pytest.mark.parametrize("written", ["2023-02-30", "2023-02-29", "2023-13-01", "2023-00-10"])
def test_a_date_not_in_the_calendar_is_rejected(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_date(written, what="start")

    assert raised.value.exit_code == 2
    assert "start" in raised.value.message
    assert written in raised.value.message


@pytest.mark.parametrize(
    "written",
    ["2023-2-1", "01/02/2023", "20230201", "2023-02-01T00:00:00", "1 Feb 2023", "", "today"],
)
def test_a_date_not_written_as_yyyy_mm_dd_is_rejected(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_date(written, what="--effective")

    assert "YYYY-MM-DD" in raised.value.message
    assert "--effective" in raised.value.message


def test_a_number_is_not_a_date() -> None:
    with pytest.raises(InvalidInput):
        parse_date(20230201)  # type: ignore[arg-type]


def test_a_timestamp_is_not_a_date() -> None:
    # YAML reads `effective: 2023-02-01 10:30:00` as a datetime, which is also a date.
    with pytest.raises(InvalidInput):
        parse_date(datetime(2023, 2, 1, 10, 30), what="effective")


# --- department codes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("dwp", "DWP"),
        (" ukSA ", "UKSA"),
        ("HO", "HO"),
        ("DESNZ-2", "DESNZ-2"),
        ("ABCDEFGHIJKL", "ABCDEFGHIJKL"),
        ("2b", "2B"),
    ],
)
def test_a_code_is_upper_cased(written: str, code: str) -> None:
    assert parse_code(written) == code


@pytest.mark.parametrize(
    "written", ["D", "", "ABCDEFGHIJKLM", "D W P", "DW_P", "DWP!", "DWP.", "ÉCOLE"]
)
def test_a_code_must_be_two_to_twelve_letters_digits_or_hyphens(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_code(written, what="--parent")

    assert raised.value.exit_code == 2
    assert "--parent" in raised.value.message
    assert "2 to 12" in raised.value.message


# --- names, choices, counts -------------------------------------------------------


def test_a_name_is_trimmed() -> None:
    assert parse_name("  Department for Work and Pensions ") == "Department for Work and Pensions"


@pytest.mark.parametrize("written", ["", "   ", "two\nlines", "x" * 201])
def test_a_name_is_one_non_blank_line_of_at_most_200_characters(written: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_name(written, what="supplier")

    assert "supplier" in raised.value.message


def test_a_choice_is_matched_ignoring_case_and_returned_as_the_vocabulary_writes_it() -> None:
    assert parse_choice("Systems-Integration", CONTRACT_KINDS, what="kind") == (
        "systems-integration"
    )


def test_a_word_outside_the_vocabulary_is_rejected_listing_the_choices() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_choice("hardware", CONTRACT_KINDS, what="kind")

    assert "hardware" in raised.value.message
    assert "software" in raised.value.message
    assert "kind" in raised.value.message


def test_a_count_is_a_whole_number_at_least_the_minimum() -> None:
    assert parse_count("24", what="--months") == 24
    assert parse_count(0, what="--months") == 0

    with pytest.raises(InvalidInput) as below:
        parse_count("0", what="--months", minimum=1)
    with pytest.raises(InvalidInput) as not_whole:
        parse_count("1.5", what="--months")

    assert "--months" in below.value.message
    assert "at least 1" in below.value.message
    assert "whole number" in not_whole.value.message


# --- months -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 3, 31), 1, date(2023, 4, 30)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
        (date(2024, 8, 30), 120, date(2034, 8, 30)),
        (date(2024, 8, 30), 144, date(2036, 8, 30)),
        (date(2023, 2, 1), 0, date(2023, 2, 1)),
        (date(2023, 3, 31), -1, date(2023, 2, 28)),
    ],
)
def test_adding_months_keeps_the_day_clamped_to_the_end_of_a_shorter_month(
    start: date, months: int, end: date
) -> None:
    assert add_months(start, months) == end
