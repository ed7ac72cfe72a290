"""The shipped example (docs/examples/uk-shared-services.yaml) imports and says what it should."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Cli

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "uk-shared-services.yaml"


@pytest.fixture
def model(cli: Cli) -> dict[str, Any]:
    """The example imported into a fresh SQLite store, as ``show --json`` prints it."""
    cli.ok("import", str(EXAMPLE))
    shown: dict[str, Any] = cli.json("show")
    return shown


def _cluster(model: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in model["clusters"] if c["name"] == name)


def _contract(model: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(k for c in model["clusters"] for k in c["contracts"] if k["ref"] == ref)


def test_the_example_records_five_clusters(model: dict[str, Any]) -> None:
    assert [c["name"] for c in model["clusters"]] == [
        "Defence",
        "Matrix",
        "Overseas",
        "Synergy",
        "Unity",
    ]


def test_synergy_is_dwp_home_office_moj_and_defra_led_by_dwp(model: dict[str, Any]) -> None:
    synergy = _cluster(model, "Synergy")
    assert synergy["members"] == ["DEFRA", "DWP", "HO", "MOJ"]
    assert synergy["lead"] == "DWP"


def test_matrix_lead_follows_beis_when_it_is_recoded_dsit(cli: Cli, model: dict[str, Any]) -> None:
    matrix = _cluster(model, "Matrix")
    assert matrix["lead"] == "DSIT"
    assert {"DSIT", "DESNZ", "DBT"} <= set(matrix["members"])
    assert not {"BEIS", "DIT"} & set(matrix["members"])

    under_old_code = cli.json("history", "--department", "BEIS")
    under_new_code = cli.json("history", "--department", "DSIT")
    assert under_old_code == under_new_code
    events = [(row["subject"], row["event"]) for row in under_new_code]
    assert ("department:BEIS", "Registered") in events
    assert ("cluster:Matrix", "LeadDesignated") in events
    assert ("department:DSIT", "Recoded") in events


def test_oracle_and_ibm_are_bundled_both_ways_with_their_corrected_terms(
    cli: Cli, model: dict[str, Any]
) -> None:
    software = _contract(model, "SYN-ERP-SAAS")
    integrator = _contract(model, "SYN-ERP-SI")
    assert (software["supplier"], software["kind"]) == ("Oracle", "software")
    assert (integrator["supplier"], integrator["kind"]) == ("IBM", "systems-integration")
    assert software["bundled_with"] == "SYN-ERP-SI"
    assert integrator["bundled_with"] == "SYN-ERP-SAAS"
    assert (software["term_months"], software["extension_months"]) == (120, 24)
    assert (integrator["term_months"], integrator["extension_months"]) == (60, 24)
    assert software["max_end"] == "2036-08-30"
    assert integrator["max_end"] == "2031-08-30"

    # The tender keeps the terms as first reported; the correction is an event of its own.
    for ref, reported, corrected in (("SYN-ERP-SAAS", 60, 120), ("SYN-ERP-SI", 120, 60)):
        rows = cli.json("history", "--contract", ref)
        by_event = {row["event"]: row for row in rows}
        assert by_event["Tendered"]["data"]["term_months"] == reported
        assert by_event["Corrected"]["data"]["changes"] == {"term_months": corrected}
        assert by_event["Corrected"]["position"] > by_event["Tendered"]["position"]


def test_every_recorded_entry_cites_a_source(cli: Cli, model: dict[str, Any]) -> None:
    rows = cli.history()
    entries = [row for row in rows if row["event"] != "Imported"]
    assert len(entries) > 100
    missing = [(row["position"], row["summary"]) for row in entries if not row["source"]]
    assert missing == []
    assert all(row["reason"] for row in entries)


def test_the_import_event_itself_cites_its_file(cli: Cli, model: dict[str, Any]) -> None:
    imported = [row for row in cli.history() if row["event"] == "Imported"]
    assert len(imported) == 1
    assert (
        imported[0]["source"]
        == f"import file {EXAMPLE.name} (sha256 {imported[0]['data']['sha256']})"
    )


def test_importing_the_example_twice_is_refused_and_writes_nothing(
    cli: Cli, model: dict[str, Any]
) -> None:
    before = cli.json("audit", "digest")

    again = cli("import", str(EXAMPLE))

    assert again.exit_code == 4
    assert "already imported" in again.stderr
    assert cli.json("audit", "digest") == before


def _import_example_with_effective(cli: Cli, tmp_path: Path, entry: int, effective: str) -> Any:
    """Import the example with entry ``entry`` (1-based) dated ``effective``, into a new store."""
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["entries"][entry - 1]["effective"] = effective
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    cli.ok("init")
    return cli("import", str(changed))


def test_a_broken_third_entry_rejects_the_whole_file(cli: Cli, tmp_path: Path) -> None:
    result = _import_example_with_effective(cli, tmp_path, 3, "2021-02-30")

    assert result.exit_code == 2
    assert "entry 3" in result.stderr
    assert cli.history() == []


def test_an_entry_effective_in_the_future_rejects_the_whole_file(cli: Cli, tmp_path: Path) -> None:
    result = _import_example_with_effective(cli, tmp_path, 5, "2999-01-01")

    assert result.exit_code == 2
    assert "entry 5" in result.stderr
    assert "2999-01-01 is in the future" in result.stderr
    assert cli.history() == []
