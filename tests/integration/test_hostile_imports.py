"""Hostile import files: each refused with exit 2, quickly, in bounded memory, nothing written.

Each file is imported by ``opmodel`` in a process of its own, so its wall time
and its peak memory (``ru_maxrss``) are its own; the store's digest and head
are compared before and after.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

#: Bounds every refusal keeps to (the measured figures are far below: tens of ms, ~60 MB).
MAX_SECONDS = 5.0
MAX_PEAK_MB = 200

#: A "billion laughs": nine levels of nine aliases, some 470 bytes expanding to 10^9 items.
LAUGHS = "\n".join(
    ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"lol{n}: &lol{n} [{','.join([f'*lol{n - 1}'] * 9)}]" for n in range(1, 9)]
)

#: Runs the CLI, then writes its own peak memory (KiB) where the test reads it. The peak
#: is reset first: Linux keeps a process's peak across the fork and exec that started it,
#: so it would otherwise count the test runner's own memory at the fork.
RUNNER = """
import os, resource
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    reset = True
except OSError:
    reset = False
from opmodel_cli.main import run
try:
    run()
finally:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if reset:
        with open("/proc/self/status") as f:
            peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_FILE"], "w") as f:
        f.write(str(peak))
"""


def bomb_at(field: str) -> str:
    """A valid import file but for the bomb that one field is aliased to."""
    entry = {
        "name": "department register: {code: DWP, name: *lol8}",
        "code": "department register: {code: *lol8, name: Work}",
        "kind": "department register: {code: DWP, name: Work, kind: *lol8}",
        "money": "funding grant: {cluster: Synergy, amount: *lol8}",
    }.get(field, "cluster form: {name: Beta}")
    meta = {"reason": "    reason: *lol8\n", "actor": "    actor: *lol8\n"}.get(field, "")
    version = "*lol8" if field == "version" else "1"
    defaults = "defaults: *lol8\n" if field == "defaults" else ""
    return f"{LAUGHS}\nversion: {version}\n{defaults}entries:\n  - {entry}\n{meta}"


def yaml_file(body: str) -> dict[str, Any]:
    return {"name": "hostile.yaml", "bytes": body.encode()}


ENTRY = "version: 1\nentries:\n  - {entry}\n"

#: (id, the file: its name and bytes, and what the error must say)
CASES: list[Any] = [
    *(
        pytest.param(yaml_file(bomb_at(f)), "aliases", id=f"alias bomb in {f}")
        for f in ("reason", "actor", "defaults", "version", "name", "code", "kind", "money")
    ),
    pytest.param(
        {"name": "deep.json", "bytes": b"[" * 100_000 + b"]" * 100_000}, "nested", id="deep json"
    ),
    pytest.param(
        {"name": "deep.yaml", "bytes": b"[" * 100_000 + b"]" * 100_000}, "YAML", id="deep yaml"
    ),
    pytest.param(
        {"name": "binary.yaml", "bytes": random.Random(7).randbytes(4096)},
        "not UTF-8",
        id="binary",
    ),
    pytest.param(
        {
            "name": "latin1.yaml",
            "bytes": ENTRY.format(entry="cluster form: {name: Caf\xe9}").encode("latin-1"),
        },
        "not UTF-8",
        id="latin-1 text",
    ),
    pytest.param(
        {
            "name": "utf16.yaml",
            "bytes": ENTRY.format(entry="cluster form: {name: X}").encode("utf-16"),
        },
        "not UTF-8",
        id="utf-16 text",
    ),
    pytest.param(
        yaml_file("version: 1\nversion: 1\nentries:\n  - cluster form: {name: X}\n"),
        "'version' twice",
        id="duplicate top-level key",
    ),
    pytest.param(
        yaml_file(
            "version: 1\nentries:\n  - cluster form: {name: X}\n"
            "    effective: 2021-01-01\n    effective: 2022-01-01\n"
        ),
        "'effective' twice",
        id="duplicate effective in an entry",
    ),
    pytest.param(
        yaml_file(ENTRY.format(entry="cluster form: {name: X, name: Y}")),
        "'name' twice",
        id="duplicate argument",
    ),
    pytest.param(
        {"name": "dup.json", "bytes": b'{"version": 1, "entries": [], "entries": []}'},
        "'entries' appears twice",
        id="duplicate json key",
    ),
    pytest.param(
        yaml_file(ENTRY.format(entry="contract extend: {ref: R, months: 1, months: 2}")),
        "'months' twice",
        id="duplicate nested key",
    ),
    *(
        pytest.param(
            yaml_file(ENTRY.format(entry=f"cluster form: {{name: {value}}}")),
            "entry 1 (cluster form): name",
            id=f"name {value}",
        )
        for value in ("123", ".nan", "true", "[a, b]", "{a: 1}")
    ),
    *(
        pytest.param(
            yaml_file(f"version: {value}\nentries:\n  - cluster form: {{name: X}}\n"),
            "version must be 1",
            id=f"version {value}",
        )
        for value in ("1.0", "true", "'1'")
    ),
    *(
        pytest.param(
            yaml_file(
                ENTRY.format(
                    entry=f"department register: {{code: DWP, name: W, headcount: {value}}}"
                )
            ),
            "headcount",
            id=f"headcount {value}",
        )
        for value in ("'12'", "true", "12.0")
    ),
    pytest.param(
        yaml_file(ENTRY.format(entry="cluster form: {name: X}\n    reason: {a: 1}")),
        "reason: must be text",
        id="reason a mapping",
    ),
    pytest.param(
        yaml_file("version: 1\ndefaults: [a]\nentries:\n  - cluster form: {name: X}\n"),
        "defaults may only set",
        id="defaults a list",
    ),
    pytest.param(
        yaml_file("version: 1\ndefaults: {actor: 5}\nentries:\n  - cluster form: {name: X}\n"),
        "defaults: actor: must be text",
        id="defaults actor a number",
    ),
    pytest.param(
        yaml_file(
            ENTRY.format(
                entry="department register: {code: DWP, name: W, headcount: " + "9" * 5000 + "}"
            )
        ),
        "cannot be read",
        id="a 5,000-digit integer in YAML",
    ),
    pytest.param(
        {
            "name": "big.json",
            "bytes": b'{"version": 1, "entries": [{"department register": '
            b'{"code": "DWP", "name": "W", "headcount": ' + b"9" * 5000 + b"}}]}",
        },
        "digits",
        id="a 5,000-digit integer in JSON",
    ),
    pytest.param(
        {
            "name": "nul.json",
            "bytes": json.dumps(
                {"version": 1, "entries": [{"cluster form": {"name": "X"}, "reason": "a\u0000b"}]}
            ).encode(),
        },
        "U+0000",
        id="NUL in a reason",
    ),
    pytest.param(
        {
            "name": "surrogate.json",
            "bytes": b'{"version": 1, "entries": [{"cluster form": '
            b'{"name": "X"}, "reason": "a\\ud800b"}]}',
        },
        "lone surrogate",
        id="a lone surrogate in a reason",
    ),
    pytest.param(
        {
            "name": "esc.json",
            "bytes": b'{"version": 1, "entries": [{"cluster form": {"name": "X\\u001b[2J"}}]}',
        },
        "U+001B",
        id="an escape in a name",
    ),
    pytest.param(
        yaml_file(ENTRY.format(entry="cluster form: {name: " + "x" * 201 + "}")),
        "at most 200",
        id="a name too long",
    ),
    pytest.param(
        yaml_file(ENTRY.format(entry="cluster form: {name: X}\n    reason: " + "r" * 10_001)),
        "the most is 10,000",
        id="a reason too long",
    ),
    pytest.param(
        {"name": b"caf\xe9.yaml", "bytes": ENTRY.format(entry="cluster form: {name: X}").encode()},
        "rename the file",
        id="a latin-1 file name",
    ),
    pytest.param({"special": "fifo"}, "named pipe", id="a fifo"),
    pytest.param({"special": "/dev/zero"}, "character device", id="dev zero"),
    pytest.param({"special": "/dev/urandom"}, "character device", id="dev urandom"),
    pytest.param({"special": "directory"}, "", id="a directory"),
    pytest.param({"special": "huge"}, "larger than 64 MiB", id="a 200 MB file"),
]


def run_opmodel(store: str, *args: str | bytes, cwd: Path) -> tuple[int, str, float, float]:
    """Run ``opmodel --store STORE ARGS`` in a process: exit code, stderr, seconds, peak MB."""
    peak = cwd / "peak.txt"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, "--store", store, *args],
        capture_output=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PEAK_FILE": str(peak), "OPMODEL_ACTOR": "tester"},
    )
    seconds = time.perf_counter() - started
    return (
        done.returncode,
        done.stderr.decode("utf-8", "replace"),
        seconds,
        int(peak.read_text()) / 1024,
    )


def state(cli: Cli) -> tuple[Any, Any]:
    """The store's digest and head."""
    digest = cli.json("audit", "digest")
    return digest, cli.json("history")[-1]["position"]


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    cli.ok("cluster", "form", "Synergy")
    cli.ok("department", "register", "HO", "--name", "Home Office")
    return cli


def make_file(spec: dict[str, Any], where: Path) -> bytes | str:
    """The file a case describes, made in ``where``; its path as the CLI is given it."""
    special = spec.get("special")
    if special is None:
        name = spec["name"]
        path = os.path.join(os.fsencode(where), name if isinstance(name, bytes) else name.encode())
        with open(path, "wb") as file:
            file.write(spec["bytes"])
        return path
    if special == "fifo":
        path = os.path.join(where, "pipe.yaml")
        os.mkfifo(path)
        return path
    if special == "directory":
        path = os.path.join(where, "folder.yaml")
        os.mkdir(path)
        return path
    if special == "huge":  # sparse: 200 MB long, nothing written, refused before a read
        path = os.path.join(where, "huge.yaml")
        with open(path, "wb") as file:
            file.truncate(200 * 1024 * 1024)
        return path
    assert isinstance(special, str)
    return special


@pytest.mark.parametrize(("spec", "says"), CASES)
def test_a_hostile_import_file_is_refused_quickly_in_bounded_memory_writing_nothing(
    seeded: Cli, tmp_path: Path, spec: dict[str, Any], says: str
) -> None:
    before = state(seeded)
    path = make_file(spec, tmp_path)

    code, stderr, seconds, peak_mb = run_opmodel(seeded.store, "import", path, cwd=tmp_path)

    assert code == 2, stderr
    assert stderr.startswith("Error: "), stderr
    assert says in stderr, stderr
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert seconds < MAX_SECONDS, seconds
    assert peak_mb < MAX_PEAK_MB, peak_mb
    assert state(seeded) == before


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param({"reason": "minutes\u0000"}, id="NUL in a reason"),
        pytest.param({"actor": "eve\u0085"}, id="C1 in an actor"),
        pytest.param({"source": "doc\u007f"}, id="DEL in a source"),
    ],
)
def test_a_control_character_never_reaches_the_events_on_either_backend(
    cli_any: Cli, tmp_path: Path, hostile: dict[str, str]
) -> None:
    cli_any.ok("cluster", "form", "Synergy")
    before = state(cli_any)
    options = [part for key, value in hostile.items() for part in (f"--{key}", value)]
    on_the_command_line = cli_any("cluster", "form", "Beta", *options)
    path = tmp_path / "nul.json"
    path.write_text(json.dumps({"version": 1, "entries": [{"cluster form": {"name": "Beta"},
                                                            **hostile}]}))  # fmt: skip
    in_a_file = cli_any("import", str(path))

    for result in (on_the_command_line, in_a_file):
        assert result.exit_code == 2, (result.stdout, result.stderr)
        assert "control character" in result.stderr
        assert "Traceback" not in result.stderr
    assert state(cli_any) == before
    assert cli_any("projections", "status").exit_code == 0


def test_an_actor_from_the_environment_is_held_to_the_same_rule(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from opmodel_cli.main import main

    store = f"sqlite:///{tmp_path / 'opmodel.db'}"
    runner = CliRunner(env={"OPMODEL_ACTOR": "eve\x1b[2J"})
    result = runner.invoke(main, ["--store", store, "cluster", "form", "Synergy"])
    assert result.exit_code == 2, result.output
    assert "OPMODEL_ACTOR" in result.stderr
    shown = runner.invoke(main, ["--store", store, "show", "--json"])  # nothing written
    assert shown.exit_code == 6 or json.loads(shown.stdout)["clusters"] == []
