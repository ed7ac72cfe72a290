"""CLI: a stored string is shown as text, never obeyed, in every terminal view (security).

Names, reasons and sources are typed by people and kept for ever. Before,
``[/x]`` as a cluster's name made ``show`` and ``history`` fail (a rich markup
error) for good, ``[link=…]Payroll[/link]`` showed as "Payroll" with a hidden
hyperlink, and escape sequences (``ESC ] 0;…BEL`` sets the window's title,
``ESC [2J`` clears the screen) reached the terminal raw. Now each shows
literally, with its control characters written as ``\\x1b``.

Control characters are now refused on the way in (exit 2), so a store holds
them only if an older opmodel wrote them: :func:`store_as_before` writes them
past the validation, as that opmodel did.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from opmodel.commands import FormCluster
from opmodel.domain.values import Meta
from opmodel.service import Service
from opmodel_cli.render.plain import plain
from tests.conftest import Cli


def store_as_before(
    cli: Cli,
    name: str,
    *,
    actor: str = "test-architect",
    reason: str | None = None,
    source: str | None = None,
) -> None:
    """Form cluster ``name`` as an opmodel that let control characters in did."""
    command = FormCluster.model_construct(cluster=name, phases=5, description=None)
    meta = Meta(date.today(), actor, uuid.uuid4().hex, reason, source)
    with Service.open(cli.store, write=True) as service:
        service.execute([(command, meta)])


WIDE = {"COLUMNS": "250"}  # one table row a line, so the names are not folded

#: (the name stored, what the terminal views show for it)
HOSTILE = [
    pytest.param("[/x]", "[/x]", id="a closing markup tag"),
    pytest.param(
        "\x1b]0;pwned\x07Payroll\x1b[2J", "\\x1b]0;pwned\\x07Payroll\\x1b[2J", id="escapes"
    ),
    pytest.param(
        "[link=https://evil.example/x]Payroll[/link]",
        "[link=https://evil.example/x]Payroll[/link]",
        id="a hidden hyperlink",
    ),
]


def assert_shown_literally(cli: Cli, view: str, shown: str) -> None:
    result = cli(view, env=WIDE)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert shown in result.stdout
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_show_prints_a_hostile_cluster_name_as_text(cli: Cli, name: str, shown: str) -> None:
    store_as_before(cli, name)
    assert_shown_literally(cli, "show", f"Cluster {shown}")


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_history_prints_a_hostile_cluster_name_as_text(cli: Cli, name: str, shown: str) -> None:
    store_as_before(cli, name)
    assert_shown_literally(cli, "history", f"Cluster {shown} was formed")


@pytest.mark.parametrize(("name", "shown"), HOSTILE)
def test_replay_prints_a_hostile_cluster_name_as_text(cli: Cli, name: str, shown: str) -> None:
    store_as_before(cli, name)
    assert_shown_literally(cli, "replay", f"Cluster {shown} was formed")


def test_hostile_actor_reason_and_source_show_as_text_in_history(cli: Cli) -> None:
    store_as_before(
        cli, "Synergy", actor="[bold]eve\x1b[8m", reason="[/reason]",
        source="\x9b2J[link=https://evil.example/]doc[/link]",
    )  # fmt: skip
    result = cli("history", env=WIDE)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    for shown in (
        "[bold]eve\\x1b[8m",
        "[/reason]",
        "\\x9b2J[link=https://evil.example/]doc[/link]",
    ):
        assert shown in result.stdout
    assert "\x1b" not in result.stdout
    assert "\x9b" not in result.stdout


@pytest.mark.parametrize("view", ["show", "history"])
def test_a_terminal_gets_no_hyperlink_and_no_escape_from_a_stored_name(cli: Cli, view: str) -> None:
    # As if stdout were a colour terminal: rich writes its own styles, but nothing stored.
    cli.ok("cluster", "form", "[link=https://evil.example/x]Payroll[/link]")
    store_as_before(cli, "\x1b]0;pwned\x07Payroll\x1b[2J")
    result = cli(view, env={**WIDE, "TTY_COMPATIBLE": "1", "TERM": "xterm-256color"})
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "\x1b]" not in result.stdout  # no OSC: no hyperlink (8), no window title (0)
    assert "\x1b[2J" not in result.stdout
    assert "\x07" not in result.stdout
    assert "evil.example" in result.stdout


def test_an_error_naming_a_hostile_string_shows_its_escapes(cli: Cli) -> None:
    # (click strips CSI sequences like ESC [2J from what it writes to a pipe, but not OSC.)
    # Before, this was "not found" (exit 3) naming the cluster; now the name is refused.
    result = cli("cluster", "lead", "\x1b]0;pwned\x07Synergy", "DWP")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert "control character U+001B" in result.stderr


def test_plain_makes_every_control_character_visible_but_tab_and_newline() -> None:
    controls = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
    shown = plain("".join(controls))
    assert shown == "".join(c if c in "\t\n" else f"\\x{ord(c):02x}" for c in controls)
    assert plain("Département “Work” ✓ [b]x[/b]") == "Département “Work” ✓ [b]x[/b]"
