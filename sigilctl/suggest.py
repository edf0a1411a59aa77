"""'Did you mean' for names an operator types: job ids, brief keys (difflib, a few at most).

Never a list of every name: a workspace may hold thousands of jobs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_SUGGESTIONS = 3
CUTOFF = 0.6


def close_matches(word: str, candidates: Iterable[str]) -> list[str]:
    """The candidates closest to ``word`` (at most three, best first)."""
    return difflib.get_close_matches(word, list(candidates), n=MAX_SUGGESTIONS, cutoff=CUTOFF)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x' or 'y'?)"`` or ``""`` when nothing is close."""
    found = close_matches(word, candidates)
    if not found:
        return ""
    quoted = [f"'{name}'" for name in found]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
    return f" (did you mean {listed}?)"
