"""Python's cycle collector in a short-lived ``opmodel`` process (ADR 0007).

Start-up (the store, SQLAlchemy, pydantic, the domain's event classes) makes a
few hundred thousand objects that live until the process ends. The collector,
triggered by allocation counts, walks them again and again while they are made,
and once more, in full, when the interpreter exits. So the program holds the
collector off while it starts (:func:`hold`); once the store is open it
*freezes* what start-up made (moves it where the collector never looks) and
collects as usual from there on (:func:`started`), so long commands keep their
memory in check; and at exit it freezes whatever is left (:func:`at_exit`), so
the final collection has nothing to walk. Reference counting frees memory as
always.

Only the program's entry point (:func:`opmodel_cli.main.run`) holds it: code
that calls the click group itself (tests, other programs) keeps its collector
as it is.
"""

from __future__ import annotations

import gc

_holding = False


def hold() -> None:
    """Start-up begins: no collection until :func:`started`."""
    global _holding
    if gc.isenabled():
        gc.disable()
        _holding = True


def started() -> None:
    """Start-up is over (the store is open): collect again, but not what it made."""
    global _holding
    if _holding:
        _holding = False
        gc.freeze()
        gc.enable()


def at_exit() -> None:
    """Nothing left for the collection at exit to walk."""
    gc.freeze()
