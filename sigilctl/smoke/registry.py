"""A smoke check: a name for scripts and ``-k``, a title for people, and one function.

A check function takes the ``SmokeContext`` and returns one line saying what it proved; it raises
``CheckFailed`` (through ``expect``) naming the invariant that does not hold. The suite and the
project's own tests call the same functions, so each invariant is defined exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sigilctl.smoke.context import SmokeContext

CheckFunction = Callable[["SmokeContext"], str]


class CheckFailed(AssertionError):
    """An invariant does not hold; the message says which and what was seen instead."""


def expect(condition: object, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


@contextmanager
def about(subject: str) -> Iterator[None]:
    """A failure inside the block names ``subject`` first (e.g. the job type being checked)."""
    try:
        yield
    except CheckFailed as exc:
        raise CheckFailed(f"{subject}: {exc}") from None


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    function: CheckFunction

    def matches(self, pattern: str) -> bool:
        """``-k``: a case-insensitive substring of the name or the title."""
        needle = pattern.lower()
        return needle in self.name.lower() or needle in self.title.lower()
