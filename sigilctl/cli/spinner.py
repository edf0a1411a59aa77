"""What is being called right now: one spinner line per model call in flight, on stderr.

Only when stderr is a terminal; a log or a pipe gets nothing. The core reports through
sigilctl.providers.progress; this module only draws what it is told.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigilctl.many import OnJobCall
    from sigilctl.providers.progress import CallProgress


class CallSpinner:
    """The calls in flight by job, drawn by a rich Live display (transient: gone when done)."""

    def __init__(self) -> None:
        self._calls: dict[str, CallProgress] = {}
        self._lock = threading.Lock()

    def update(self, job: str, progress: CallProgress) -> None:
        with self._lock:
            if progress.done:
                self._calls.pop(job, None)
            else:
                self._calls[job] = progress

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.spinner import Spinner

        with self._lock:
            calls = sorted(self._calls.items())
        return Group(*(Spinner("dots", text=describe(job, call)) for job, call in calls))


def describe(job: str, call: CallProgress) -> str:
    """``calling openai/gpt-4o-mini at <endpoint>, attempt 1/4, 8 s``."""
    where = f" at {call.endpoint}" if call.endpoint else ""
    elapsed = f"{call.elapsed():.0f} s"
    if call.waiting_s is not None:
        text = (
            f"{call.provider}/{call.model}{where}: attempt {call.attempt}/{call.attempts} "
            f"failed ({call.reason}); retrying in {call.waiting_s:.0f} s, {elapsed} so far"
        )
    else:
        text = (
            f"calling {call.provider}/{call.model}{where}, attempt {call.attempt}/"
            f"{call.attempts}, {elapsed}"
        )
    return f"{job}: {text}"


@contextlib.contextmanager
def spinning() -> Iterator[OnJobCall | None]:
    """A callback for the calls of a command, drawn while the block runs; None off a TTY."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.live import Live

    from sigilctl.cli import output

    spinner = CallSpinner()
    # Lines written meanwhile go above the spinner. Data for stdout stays on stdout, unless
    # stdout is this same terminal: then it is printed above the spinner too (not through it).
    with Live(
        spinner,
        console=output.stderr(),
        refresh_per_second=4,
        transient=True,
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=True,
    ):
        yield spinner.update
