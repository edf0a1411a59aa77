"""Text that is safe to put on a terminal: control characters from file names or manifests are
escaped, so a hostile name can neither forge extra lines nor send escape codes to the screen."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every C0/C1 control character (newline and ESC included) escaped."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def printable_lines(text: str) -> str:
    """``text`` (a traceback, a log record) with control characters escaped but its line breaks
    kept: ESC and CR cannot reach the terminal, and lines stay readable."""
    return "\n".join(printable(line) for line in text.split("\n"))
