"""Import files through the CLI: validated whole, applied as one atomic change, once.

For a file that fails, the first error is the one of the file's order: its
shape, an invalid entry, already imported, then the first entry that breaks a
domain rule.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli


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


def test_an_import_applies_every_entry_after_its_own_record(cli: Cli, tmp_path: Path) -> None:
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
    cli: Cli, tmp_path: Path
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
    cli: Cli, tmp_path: Path
) -> None:
    path = write(
        tmp_path, FORM, *departments(7), "{department join: {code: D003, cluster: Nowhere}}"
    )
    message = fails(cli, path, 3)
    assert message.startswith("Error: entry 9 (department join): cluster 'Nowhere'")


def test_a_top_level_key_after_the_entries_is_checked_first(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        FORM,
        JOIN_NOWHERE,
        *departments(6),
        "{department register: {code: 'no spaces allowed', name: X}}",
        tail="colour: blue",
    )
    assert "unknown top-level key(s) colour" in fails(cli, path, 2)


def test_defaults_after_the_entries_apply_to_them(cli: Cli, tmp_path: Path) -> None:
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


def test_invalid_defaults_after_the_entries_are_reported(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, FORM, *departments(7), tail="defaults: {colour: blue}")
    assert "defaults may only set" in fails(cli, path, 2)


def test_a_file_imported_before_is_refused_not_reported_against_its_entries(
    cli: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, FORM, *departments(7))
    first = cli.json("import", str(path))
    message = fails(cli, path, 4)  # its entries would now break rules: the refusal comes first
    assert "was already imported" in message
    assert f"at position {first['first_position']}" in message


def test_a_yaml_error_late_in_the_file_is_the_error_reported(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, FORM, JOIN_NOWHERE, *departments(9))
    path.write_text(path.read_text() + "  - [unclosed\n", encoding="utf-8")
    message = fails(cli, path, 2)
    assert message.startswith(f"Error: import file {path} is not valid YAML at line 15")


def test_merge_keys_import_as_pyyaml_reads_them(cli: Cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "{cluster form: {<<: {name: Synergy}, phases: 2}}",
        *departments(5),
    )
    cli.ok("import", str(path))
    assert [c["name"] for c in cli.json("show")["clusters"]] == ["Synergy"]
