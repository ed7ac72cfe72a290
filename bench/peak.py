"""Run a command and record its peak memory: ``python -m bench.peak OUT -- COMMAND…``.

A process's ``ru_maxrss`` counts the memory of the process it was forked
from, up to its ``exec``: a child forked straight from the benchmark runner
(which holds stores and samples in memory) would report the runner's peak,
not its own. This launcher is small; the command it forks reports its own
peak (plus this launcher's few MB at most).

A command may fork helpers of its own (opmodel's import and rebuild do, ADR
0008), and ``ru_maxrss`` is then the largest process's peak, not their sum. So
while the command runs, the launcher also adds up the memory of the command and
every process below it, every 10 ms: their proportional set sizes (shared pages
split between the processes sharing them, so pages a fork still shares count
once), or, where the kernel does not give those, their resident sizes. The peak
written to OUT, in KiB, is the larger of the two; the exit status is the
command's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

INTERVAL = 0.01


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: python -m bench.peak OUT -- COMMAND [ARG…]\n")
        return 2
    out, command = argv[0], argv[2:]
    pid = os.fork()
    if pid == 0:  # the child: become the command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    tree_peak = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        tree_peak = max(tree_peak, tree_memory(pid))
        time.sleep(INTERVAL)
    with open(out, "w", encoding="ascii") as file:
        file.write(str(max(usage.ru_maxrss, tree_peak)))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def tree_memory(pid: int) -> int:
    """KiB used by ``pid`` and every process below it (PSS, else RSS); 0 if unknown."""
    return sum(process_memory(p) for p in tree(pid))


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants, as far as ``/proc`` shows them."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:  # gone meanwhile, or no /proc
            continue
    return found


def process_memory(pid: int) -> int:
    """One process's proportional set size in KiB (resident size if none is given)."""
    for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path, encoding="ascii") as file:
                for line in file:
                    if line.startswith(field):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
