"""What to tell an operator whose index cannot be read: ``reindex`` only where it would work.

Advising ``sigilctl reindex`` when reindex must fail too (the index path is a folder, its
folder cannot be written, the artifacts tree is missing) sends the operator in a circle; those
cases name the real problem instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from sigilctl import env


def reindex_blocker(db: Path, artifacts: Path) -> str | None:
    """Why ``sigilctl reindex`` could not rebuild ``db`` from ``artifacts`` (None: it could)."""
    if db.is_dir():
        return (
            f"{db} is a folder, not an index file; give a file path with --db "
            f"(or ${env.SIGILCTL_INDEX})"
        )
    if not artifacts.is_dir():
        return (
            f"the artifacts tree {artifacts} does not exist, so there is nothing to rebuild it from"
        )
    folder = next((p for p in (db.parent, *db.parent.parents) if p.exists()), None)
    if folder is None or not folder.is_dir():
        return f"{db.parent} cannot be created; give --db a writable place"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"{folder} is not writable; give --db (or ${env.SIGILCTL_INDEX}) a writable place, "
            "or fix the folder's permissions"
        )
    return None


def rebuild_advice(db: Path, artifacts: Path) -> str:
    """The end of an 'index cannot be read' sentence: how to get a working index."""
    blocker = reindex_blocker(db, artifacts)
    if blocker is None:
        return "run 'sigilctl reindex' to rebuild it"
    return f"'sigilctl reindex' cannot rebuild it either: {blocker}"
