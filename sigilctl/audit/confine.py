"""Catch a pipeline that reads anything beyond the run's snapshots while replay drives it.

Python's audit hooks (PEP 578) see every file open, folder listing, socket connection and
subprocess of the process. While a confinement is active, each one that is not Python code
being imported and not inside the replay's scratch folder is recorded as a leak: a template
read from the installed package, a file under jobs/, an environment lookup through a file, a
network call of an "offline" step. Replay then fails loudly instead of reporting a false
"identical" because the leaked source happened not to change.

The hook is installed once per process (audit hooks cannot be removed) and does nothing while
no confinement is active.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")
WATCHED = frozenset(
    {"open", "os.listdir", "os.scandir", "socket.connect", "subprocess.Popen", "os.system"}
)
MAX_LEAKS = 20


class Confinement:
    """Where a confined step may read and write (its scratch folder), and what it did beyond."""

    def __init__(self, allowed: list[Path], *, network: bool = False) -> None:
        self.allowed = [os.path.realpath(path) for path in allowed]
        self.network = network
        self.leaks: list[str] = []

    def note(self, event: str, args: tuple[Any, ...]) -> None:
        if len(self.leaks) >= MAX_LEAKS:
            return
        if event in ("socket.connect",):
            if not self.network:
                self.leaks.append(f"a network connection to {args[1]!r}")
            return
        if event in ("subprocess.Popen", "os.system"):
            self.leaks.append(f"a subprocess ({args[0]!r})")
            return
        target = args[0] if args else None
        if target is None or isinstance(target, int):
            return  # an already open descriptor: its open was judged when it happened
        path = os.fsdecode(target)
        if event == "open" and path.endswith(CODE_SUFFIXES):
            return  # Python importing code
        if event == "os.listdir" and _import_folder(path):
            return  # the import system looking for a module
        full = os.path.realpath(path)
        if any(full == root or full.startswith(root + os.sep) for root in self.allowed):
            return
        what = "opened" if event == "open" else "listed"
        self.leaks.append(f"{what} {full}")


def _import_folder(path: str) -> bool:
    """A folder the import system lists: a sys.path entry or a package (has __init__.py)."""
    return path in sys.path or os.path.isfile(os.path.join(path, "__init__.py"))


_lock = threading.Lock()
_installed = False
_active: Confinement | None = None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    confinement = _active
    if confinement is not None and event in WATCHED:
        try:
            confinement.note(event, args)
        except Exception:  # noqa: BLE001 - a hook that raises would break the audited call
            confinement.leaks.append(f"{event} (could not be judged)")


@contextmanager
def confined(confinement: Confinement) -> Iterator[Confinement]:
    """Record every leak of the code run inside the block (one confinement at a time)."""
    global _installed, _active
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True
        _active = confinement
    try:
        yield confinement
    finally:
        _active = None
