"""Run a command and record its peak RSS: ``python -m bench.peak OUT -- COMMAND…``.

A process's ``ru_maxrss`` counts the memory of the process it was forked
from, up to its ``exec``: a child forked straight from the benchmark runner
(which holds stores and samples in memory) would report the runner's peak,
not its own. This launcher is small; the command it forks reports its own
peak (plus this launcher's few MB at most). The peak, in KiB, goes to OUT;
the exit status is the command's.
"""

from __future__ import annotations

import os
import sys


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
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w", encoding="ascii") as file:
        file.write(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
