"""Building write commands from what a person typed: names, values and the errors they get."""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from opmodel.application import OperatingModel
from opmodel.commands import COMMANDS, Command, build
from opmodel.errors import InvalidInput
from opmodel.service import make_meta

AWARD: dict[str, Any] = {
    "ref": "SYN-IBM-2024",
    "cluster": "Synergy",
    "kind": "systems-integration",
    "supplier": "IBM",
    "value": "£144,330,703",
    "start": "2024-08-30",
    "term-months": 120,
}


def rejected(name: str, arguments: dict[str, Any]) -> InvalidInput:
    """Build a command that must be rejected; the error."""
    with pytest.raises(InvalidInput) as raised:
        build(name, arguments)
    assert raised.value.exit_code == 2
    return raised.value


def run(command: Command) -> tuple[Any, list[Any]]:
    """Carry a built command out on a fresh in-memory store holding Synergy and its Oracle
    contract; what it returned and the events it wrote."""
    app = OperatingModel(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    meta = make_meta(effective=date(2024, 8, 30), actor="tester")
    synergy = build("cluster form", {"name": "Synergy"})
    app.execute(lambda uow: synergy.run(app, uow, meta))
    oracle = build("contract award", dict(AWARD, ref="SYN-ORACLE-2024", supplier="Oracle"))
    app.execute(lambda uow: oracle.run(app, uow, meta))
    result, saved = app.execute(lambda uow: command.run(app, uow, meta))
    written = app.recorder.select_notifications(start=1, limit=1000)
    return result, [app.mapper.to_domain_event(n) for n in written if n.id in saved.positions]


# --- names of commands and options ------------------------------------------------------


def test_every_write_command_of_the_cli_can_be_built() -> None:
    assert set(COMMANDS) >= {
        "cluster form", "cluster lead",
        "department register", "department rename", "department join", "department leave",
        "department move",
        "phase plan", "phase start", "phase complete", "phase onboard",
        "contract award", "contract tender", "contract correct", "contract extend",
        "contract vary", "contract terminate",
        "decision propose", "decision accept", "decision reject", "decision supersede",
        "business-case record", "funding grant", "benefit realise", "assurance rate",
    }  # fmt: skip


@pytest.mark.parametrize("term", ["term-months", "term_months"])
@pytest.mark.parametrize("bundle", ["bundled-with", "bundled_with"])
@pytest.mark.parametrize("allowance", ["extension-months", "extension_months"])
def test_option_names_are_accepted_in_kebab_or_snake_case(
    term: str, bundle: str, allowance: str
) -> None:
    arguments = {k: v for k, v in AWARD.items() if k != "term-months"}
    arguments |= {term: 120, bundle: "SYN-ORACLE-2024", allowance: 24}

    command = build("contract award", arguments)

    assert command.term_months == 120  # type: ignore[attr-defined]
    assert command.bundled_with == "SYN-ORACLE-2024"  # type: ignore[attr-defined]
    assert command.extension_months == 24  # type: ignore[attr-defined]


def test_an_unknown_command_is_invalid_input_listing_the_commands() -> None:
    error = rejected("cluster dissolve", {"name": "Synergy"})

    assert "cluster dissolve" in error.message
    assert "cluster form" in error.message


def test_an_unknown_option_is_named() -> None:
    error = rejected("contract award", dict(AWARD, colour="red"))

    assert "colour" in error.message
    assert "not an option" in error.message


def test_a_missing_field_is_named() -> None:
    arguments = {k: v for k, v in AWARD.items() if k != "supplier"}

    error = rejected("contract award", arguments)

    assert "contract award" in error.message
    assert "supplier: is required" in error.message


def test_a_missing_field_is_named_in_kebab_case() -> None:
    arguments = {k: v for k, v in AWARD.items() if k != "term-months"}

    error = rejected("contract award", arguments)

    assert "term-months: is required" in error.message


def test_every_bad_field_is_named_at_once() -> None:
    error = rejected("contract award", dict(AWARD, value="lots", start="tomorrow"))

    assert "value:" in error.message
    assert "start:" in error.message


# --- values ---------------------------------------------------------------------------


def test_values_are_parsed_as_the_domain_holds_them() -> None:
    command = build("contract award", dict(AWARD, kind="Systems-Integration"))

    assert command.value == Decimal("144330703.00")  # type: ignore[attr-defined]
    assert command.start == date(2024, 8, 30)  # type: ignore[attr-defined]
    assert command.kind == "systems-integration"  # type: ignore[attr-defined]
    assert command.extension_months == 0  # type: ignore[attr-defined]


def test_department_codes_are_upper_cased_and_defaults_applied() -> None:
    command = build("department register", {"code": "dwp", "name": " Work and Pensions "})

    assert command.code == "DWP"  # type: ignore[attr-defined]
    assert command.title == "Work and Pensions"  # type: ignore[attr-defined]
    assert command.kind == "ministerial"  # type: ignore[attr-defined]
    assert command.parent is None  # type: ignore[attr-defined]


def test_a_cluster_has_five_phases_unless_told_otherwise() -> None:
    assert build("cluster form", {"name": "Synergy"}).phases == 5  # type: ignore[attr-defined]
    assert build("cluster form", {"name": "Defence", "phases": 3}).phases == 3  # type: ignore[attr-defined]


def test_business_case_words_are_matched_ignoring_case() -> None:
    command = build(
        "business-case record",
        {"cluster": "Synergy", "stage": "obc", "status": "Approved", "cost": "900m"},
    )

    assert command.stage == "OBC"  # type: ignore[attr-defined]
    assert command.status == "approved"  # type: ignore[attr-defined]
    assert command.cost == Decimal("900000000.00")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "arguments", "field", "words"),
    [
        ("contract award", dict(AWARD, value="lots"), "value", "not an amount of money"),
        ("contract award", dict(AWARD, value="-5m"), "value", "negative"),
        ("contract award", dict(AWARD, value="0"), "value", "more than zero"),
        ("contract award", dict(AWARD, value="1.005"), "value", "fraction of a penny"),
        ("funding grant", {"cluster": "Synergy", "amount": "lots"}, "amount", "money"),
        ("contract award", dict(AWARD, start="2023-02-30"), "start", "2023-02-30"),
        ("contract award", dict(AWARD, start="30/08/2024"), "start", "YYYY-MM-DD"),
        (
            "phase plan",
            {"cluster": "S", "number": 1, "name": "P", "end": "2024-13-01"},
            "end",
            "date",
        ),
        ("contract award", dict(AWARD, kind="hardware"), "kind", "software"),
        ("assurance rate", {"cluster": "Synergy", "rating": "purple"}, "rating", "amber-red"),
        ("benefit realise", {"cluster": "S", "amount": "1m", "kind": "cash"}, "kind", "cashable"),
        ("department register", {"code": "D", "name": "D"}, "code", "2 to 12"),
        ("department register", {"code": "UKSA", "name": "U", "kind": "agency"}, "kind", "alb"),
        ("contract award", {**AWARD, "term-months": 0}, "term-months", "1"),
        ("contract extend", {"ref": "X", "months": 0}, "months", "1"),
        ("contract award", {**AWARD, "extension-months": -1}, "extension-months", "0"),
        ("cluster form", {"name": "   "}, "name", "blank"),
        ("decision propose", {"title": "T", "context": " ", "decision": "D"}, "context", "1"),
    ],
)
def test_a_bad_value_is_invalid_input_naming_the_field(
    name: str, arguments: dict[str, Any], field: str, words: str
) -> None:
    error = rejected(name, arguments)

    assert f"{field}:" in error.message
    assert words in error.message


# --- built commands carry out the change ------------------------------------------------


def test_a_built_command_runs_against_the_application() -> None:
    command = build("contract award", dict(AWARD, **{"bundled-with": "SYN-ORACLE-2024"}))

    _, events = run(command)

    assert [type(e).__qualname__ for e in events] == ["Contract.Awarded", "Contract.BundleLinked"]
    assert events[0].value == Decimal("144330703.00")


def test_a_built_correction_carries_only_the_options_given() -> None:
    command = build("contract correct", {"ref": "SYN-ORACLE-2024", "value": "712.5m"})

    _, events = run(command)

    assert [type(e).__qualname__ for e in events] == ["Contract.Corrected"]
    assert events[0].changes == {"value": Decimal("712500000.00")}


def test_a_built_proposal_returns_the_new_decision_id() -> None:
    command = build(
        "decision propose",
        {"title": "Bundle the ERP", "context": "Why", "decision": "What",
         "concerns": ["contract:SYN-ORACLE-2024"]},
    )  # fmt: skip

    result, events = run(command)

    assert result == "DEC-0001"
    assert events[-1].concerns[0]["key"] == "SYN-ORACLE-2024"


def test_every_command_names_a_handler_of_the_write_side_that_takes_it() -> None:
    for name, model in COMMANDS.items():
        handler = getattr(OperatingModel, model.handler, None)
        assert callable(handler), name
        assert list(inspect.signature(handler).parameters) == ["self", "uow", "command", "meta"]
