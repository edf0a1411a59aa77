"""Name what changed between a run's recorded input snapshots and its job as it resolves now.

``verify --source`` and ``jobs`` know from hashes *that* a snapshot changed; an operator needs
to know *what*: the shared file (``jobs/_brands/northwind/context/02.md``), the brief field
(``brief: params.count``) or the part of sigilctl that moved (``pipeline: prompt_template``).
Both sides are the snapshots' JSON values (the recorded files, and the re-resolved snapshots
after an RFC 8785 round trip, so ``1`` and ``1.0`` compare equal). Fields of other snapshots
that merely copy a brief field (``model_config: temperature`` for ``model.temperature``) are
not named twice. The structural comparison is the audit's JSON Patch differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sigilctl.audit.diff import make_patch

# Snapshot fields that copy a brief field: named once, as the brief field.
_FROM_BRIEF = {
    "doctrine": {"id": "doctrine.id", "version": "doctrine.version", "path": "doctrine.path"},
    "context": {"paths": "context.paths", "query": "context.query", "top_k": "context.top_k"},
    "model_config": {
        "provider": "model.provider",
        "name": "model.name",
        "temperature": "model.temperature",
        "max_tokens": "model.max_tokens",
        "seed": "model.seed",
    },
    "pipeline": {"job_type": "job_type"},
}
# Fields that change together with a file's content: the file is named instead.
_FILE_FIELDS = {"sha256", "bytes", "text"}


def name_changes(recorded: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Every changed file and field, in snapshot order (brief first), without repeats; empty
    when the values are equal (the bytes then differ only in form: the caller names the
    snapshot)."""
    brief_fields = _brief_fields(recorded.get("brief"), now.get("brief"))
    names: list[str] = []
    for snapshot in _ordered(recorded.keys() | now.keys()):
        before, after = recorded.get(snapshot), now.get(snapshot)
        if before == after:
            continue
        if before is None or after is None:
            names.append(f"{snapshot} snapshot {'added' if before is None else 'removed'}")
            continue
        if snapshot == "brief":
            names.extend(f"brief: {field}" for field in brief_fields)
            continue
        namer = _NAMERS.get(snapshot, _fields)
        copied = _FROM_BRIEF.get(snapshot, {})
        for name in namer(snapshot, before, after):
            field = name.removeprefix(f"{snapshot}: ").split(".")[0].split("[")[0]
            if field in copied and _covered(copied[field], brief_fields):
                continue
            names.append(name)
    return list(dict.fromkeys(names))


def _ordered(names: set[str] | Any) -> list[str]:
    order = ("brief", "doctrine", "context", "model_config", "pipeline")
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def _covered(field: str, brief_fields: list[str]) -> bool:
    return any(f == field or f.startswith((f"{field}.", f"{field}[")) for f in brief_fields)


def _brief_fields(before: Any, after: Any) -> list[str]:
    if before is None or after is None or before == after:
        return []
    return list(dict.fromkeys(_pointer_field(op["path"]) for op in make_patch(before, after)))


def _pointer_field(pointer: str) -> str:
    """``/params/count`` → ``params.count``; ``/context/paths/0`` → ``context.paths[0]``."""
    if not pointer:
        return "(whole document)"
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


def _fields(snapshot: str, before: Any, after: Any) -> list[str]:
    """Top-level fields that differ (a snapshot that is not a mapping: the snapshot itself)."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [f"{snapshot} snapshot"]
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return [f"{snapshot}: {key}" for key in keys]


def _doctrine(snapshot: str, before: Any, after: Any) -> list[str]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [f"{snapshot} snapshot"]
    names = []
    if before.get("sha256") != after.get("sha256"):
        names.append(str(after.get("path") or before.get("path") or "doctrine file"))
    others = _fields(snapshot, before, after)
    names.extend(n for n in others if n.split(": ")[1] not in _FILE_FIELDS)
    return names


def _context(snapshot: str, before: Any, after: Any) -> list[str]:
    """Files whose content changed, files now (no longer) retrieved, then other fields."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [f"{snapshot} snapshot"]
    old, new = _documents(before), _documents(after)
    names = []
    for path in sorted(old.keys() | new.keys()):
        if path not in old:
            names.append(f"{path} (now retrieved)")
        elif path not in new:
            names.append(f"{path} (no longer retrieved)")
        elif old[path].get("sha256") != new[path].get("sha256"):
            names.append(path)
    ranks_moved = any(old[p].get("rank") != new[p].get("rank") for p in old.keys() & new.keys())
    if ranks_moved and not names:
        names.append("context: ranking")
    names.extend(n for n in _fields(snapshot, before, after) if n != "context: documents")
    return names


def _documents(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    documents = snapshot.get("documents")
    if not isinstance(documents, list):
        return {}
    return {str(d.get("path")): d for d in documents if isinstance(d, dict) and "path" in d}


_NAMERS: dict[str, Callable[[str, Any, Any], list[str]]] = {
    "doctrine": _doctrine,
    "context": _context,
}
