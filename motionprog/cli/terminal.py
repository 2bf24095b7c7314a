"""Text that is safe to print on a terminal: what a file or a server wrote never drives it.

Messages can quote values from files and from language-model replies; an escape sequence
among them could rewrite the screen or the window title. Every such value goes through
:func:`printable` before it is printed.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (escape sequences included) that must not reach a terminal; tab and newline pass."""


def printable(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), safe to print."""
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def one_line(text: str) -> str:
    """The message of an error as one printable line."""
    return " ".join(printable(text).split("\n")).strip()
