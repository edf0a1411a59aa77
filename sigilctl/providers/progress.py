"""What a model call in flight is doing, for whoever wants to show it (the CLI's spinner).

The provider's retry loop reports each attempt and each wait through the callback that the
caller installed around the call (``reporting``); core code never draws anything. Reporting
is per thread (a ContextVar), so runs in parallel each report their own call, and a callback
that fails is ignored: showing progress never breaks a run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CallProgress:
    """One moment of a model call: attempt ``attempt`` of at most ``attempts`` is in flight
    (``waiting_s`` None) or the loop waits ``waiting_s`` seconds after ``reason``."""

    provider: str
    model: str
    endpoint: str | None
    attempt: int
    attempts: int
    started: float  # time.monotonic() when the call began
    deadline_s: float | None = None
    waiting_s: float | None = None
    reason: str | None = None
    done: bool = False

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started


OnCall = Callable[[CallProgress], None]
_reporter: ContextVar[OnCall | None] = ContextVar("sigilctl_call_progress", default=None)


@contextlib.contextmanager
def reporting(callback: OnCall | None) -> Iterator[None]:
    """Report the model calls made inside the block to ``callback`` (None: to nobody)."""
    token = _reporter.set(callback)
    try:
        yield
    finally:
        _reporter.reset(token)


def report(progress: CallProgress) -> None:
    """Tell the installed callback, if any; its failures are swallowed."""
    callback = _reporter.get()
    if callback is None:
        return
    with contextlib.suppress(Exception):
        callback(progress)
