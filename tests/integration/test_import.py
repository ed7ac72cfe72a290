"""Import files through the CLI: validated whole, applied as one atomic change, once.

Every test runs twice: with the file read in the command, and with it handed over
by a helper process a few entries at a time, each entry validated and applied as
it arrives (ADR 0011). The outcome must be the same either way: the same events,
and for a file that fails, the same first error, whatever order the parts of the
file came in and whatever the entries already applied ran into.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opmodel import documents
from tests.conftest import Cli


@pytest.fixture(params=["read here", "handed over in parts"])
def handed_over(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[bool]:
    """Whether files are parsed by a helper and handed over three entries at a time."""
    streamed = request.param != "read here"
    if streamed and not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    monkeypatch.setattr(documents, "PREFETCH_MIN_BYTES", 0 if streamed else 1 << 62)
    monkeypatch.setattr(documents, "ENTRIES_PER_PART", 3)
    handed: list[bool] = []
    parts = documents.Prefetched.parts

    def spied(self: documents.Prefetched) -> documents.Parts | None:
        given = parts(self)
        handed.append(given is not None)
        return given

    monkeypatch.setattr(documents.Prefetched, "parts", spied)
    yield streamed
    assert handed
    assert all(handed) if streamed else not any(handed)


def write(tmp_path: Path, *entries: str, head: str = "", tail: str = "") -> Path:
    """An import file: ``head`` lines, the entries (one YAML flow mapping each), ``tail``."""
    path = tmp_path / "changes.yaml"
    lines = ["version: 1", *head.splitlines(), "entries:", *(f"  - {e}" for e in entries)]
    path.write_text("\n".join([*lines, *tail.splitlines()]) + "\n", encoding="utf-8")
    return path


def departments(count: int, start: int = 0) -> list[str]:
    return [
        f"{{department register: {{code: D{n:03d}, name: Department {n}}}}}"
        for n in range(start, start + count)
    ]


FORM = "{cluster form: {name: Synergy, phases: 2}, effective: 2021-03-01}"
JOIN_NOWHERE = "{department join: {code: NONE, cluster: Nowhere}}"  # breaks a domain rule


def fails(cli: Cli, path: Path, code: int) -> str:
    """Import ``path``, assert it fails with ``code`` and writes nothing; its message."""
    cli.ok("init")
    before = cli("history", "--json")
    result = cli("import", str(path), "--json")  # no progress bar on stderr
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ")
    assert result.stdout == ""
    after = cli("history", "--json")
    assert (after.exit_code, after.stdout) == (before.exit_code, before.stdout)
    return result.stderr


def test_an_import_applies_every_entry_after_its_own_record(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(
        tmp_path,
        FORM,
        *departments(8),
        "{department join: {code: D007, cluster: Synergy}}",
        head="defaults: {actor: programme-office, reason: board minutes}",
    )
    summary = cli.json("import", str(path))
    assert summary["entries"] == 10
    history = cli.history()
    assert [row["event"] for row in history][:2] == ["Imported", "Formed"]
    assert history[0]["data"]["entries"] == 10
    assert summary["first_position"] == history[0]["position"]
    assert summary["last_position"] == history[-1]["position"] == summary["events"]
    assert {row["actor"] for row in history} == {"programme-office"}
    assert {row["reason"] for row in history[1:]} == {"board minutes"}
    model = cli.json("show")
    assert model["clusters"][0]["members"] == ["D007"]
    assert len(model["departments"]) == 8


def test_an_invalid_entry_is_named_even_after_one_that_breaks_a_rule(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    # Entry 2 breaks a rule (no such cluster), entry 12 is invalid: the whole file is
    # validated before anything is applied, so entry 12 is what is reported.
    path = write(
        tmp_path,
        FORM,
        JOIN_NOWHERE,
        *departments(9),
        "{funding grant: {cluster: Synergy, amount: lots}}",
    )
    message = fails(cli, path, 2)
    assert message.startswith("Error: entry 12 (funding grant): ")
    assert "amount" in message


def test_a_rule_broken_by_an_entry_is_named_and_nothing_is_written(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(
        tmp_path, FORM, *departments(7), "{department join: {code: D003, cluster: Nowhere}}"
    )
    message = fails(cli, path, 3)
    assert message.startswith("Error: entry 9 (department join): cluster 'Nowhere'")


def test_a_top_level_key_after_the_entries_is_checked_first(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(
        tmp_path,
        FORM,
        JOIN_NOWHERE,
        *departments(6),
        "{department register: {code: 'no spaces allowed', name: X}}",
        tail="colour: blue",
    )
    assert "unknown top-level key(s) colour" in fails(cli, path, 2)


def test_defaults_after_the_entries_apply_to_them(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(
        tmp_path,
        FORM,
        *departments(7),
        tail="defaults: {actor: treasury, reason: spending review}",
    )
    cli.ok("import", str(path))
    entries = cli.history()[1:]
    assert len(entries) == 1 + 7 * 2  # a department's registration claims its code too
    assert {(row["actor"], row["reason"]) for row in entries} == {("treasury", "spending review")}


def test_invalid_defaults_after_the_entries_are_reported(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(tmp_path, FORM, *departments(7), tail="defaults: {colour: blue}")
    assert "defaults may only set" in fails(cli, path, 2)


def test_a_file_imported_before_is_refused_not_reported_against_its_entries(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(tmp_path, FORM, *departments(7))
    first = cli.json("import", str(path))
    message = fails(cli, path, 4)  # its entries would now break rules: the refusal comes first
    assert "was already imported" in message
    assert f"at position {first['first_position']}" in message


def test_a_yaml_error_late_in_the_file_is_the_error_reported(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(tmp_path, FORM, JOIN_NOWHERE, *departments(9))
    path.write_text(path.read_text() + "  - [unclosed\n", encoding="utf-8")
    message = fails(cli, path, 2)
    assert message.startswith(f"Error: import file {path} is not valid YAML at line 15")


def test_merge_keys_import_as_pyyaml_reads_them(
    cli: Cli, tmp_path: Path, handed_over: bool
) -> None:
    path = write(
        tmp_path,
        "{cluster form: {<<: {name: Synergy}, phases: 2}}",
        *departments(5),
    )
    cli.ok("import", str(path))
    assert [c["name"] for c in cli.json("show")["clusters"]] == ["Synergy"]


def _model_without_time(cli: Cli) -> Any:
    model = cli.json("show")
    model.pop("position", None)
    return json.dumps(model, sort_keys=True)


def test_read_here_and_handed_over_in_parts_give_the_same_model(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    path = write(
        tmp_path,
        FORM,
        *departments(20),
        *(f"{{department join: {{code: D{n:03d}, cluster: Synergy}}}}" for n in range(20)),
        "{cluster lead: {name: Synergy, dept: D004}}",
        head="defaults: {actor: programme-office}",
    )
    models = []
    for minimum, store in ((1 << 62, "here.db"), (0, "parts.db")):
        monkeypatch.setattr(documents, "PREFETCH_MIN_BYTES", minimum)
        monkeypatch.setattr(documents, "ENTRIES_PER_PART", 4)
        cli = Cli(f"sqlite:///{tmp_path / store}", CliRunner())
        cli.ok("import", str(path))
        history = cli.history()
        models.append(
            (
                _model_without_time(cli),
                [(r["position"], r["event"], r["subject"], r["summary"]) for r in history],
            )
        )
    assert models[0] == models[1]
