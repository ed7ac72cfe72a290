"""Stored text shown as text: never obeyed by rich or by the terminal.

Names, reasons and sources are typed by people and kept for ever, so anything
a terminal view prints of them goes through :func:`plain` (a line) or
:func:`cell` (a rich table cell or title). ``[/x]`` is not rich markup here,
``[link=…]Payroll[/link]`` hides no hyperlink, and a control character (an
escape sequence that sets the window title or clears the screen) shows as
``\\x1b`` instead of reaching the terminal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.text import Text

#: C0 controls but tab and newline, DEL, and the C1 controls (``\x9b`` is a CSI too).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: What an absent value (None, an empty list) shows as.
NONE = "—"


def plain(value: Any) -> str:
    """``value`` as text with every control character but tab and newline made visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def cell(value: Any, style: str = "") -> Text:
    """``value`` as a rich ``Text``: shown literally (no markup), controls made visible."""
    from rich.text import Text

    shown = NONE if value is None or value == [] else plain(value)
    return Text(shown, style=style)


def joined(values: list[str]) -> Text:
    """A list as ``a, b, c`` (or ``—``), each item shown literally."""
    return cell(", ".join(values) if values else None)
