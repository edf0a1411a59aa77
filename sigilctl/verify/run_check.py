"""Integrity of one run directory, judged from its bytes and hashes alone (SPEC §4, §6).

Reads any manifest that follows SPEC §6, whoever wrote it: the raw JSON is checked field by
field (not through the writer's model), so a stray key is named instead of failing validation,
unknown root fields are ignored and older manifests still read. Nothing a manifest names is
followed outside the run: every file is opened through sigilctl.run_files, so absolute paths,
``..`` and symbolic links (a file, ``inputs/``, the manifest, the run or job folder) are
problems, never opened. It judges snapshots as bytes, never against today's brief model, so old
runs stay verifiable.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any, TypeGuard

import orjson

from sigilctl import nesting
from sigilctl.canonical import is_canonical
from sigilctl.identity import compute_inputs_hash, derive_run_id
from sigilctl.manifest import MANIFEST_NAME, RUN_STATUSES
from sigilctl.nesting import NestingError
from sigilctl.run_files import (
    EntryKind,
    PathIssue,
    RunFolder,
    UnsafeRunPath,
    check_path,
)
from sigilctl.verify.report import Kind, RunReport

TRACE_KEY = "langfuse_trace_id"
# In canonical JSON a quote inside a string is escaped, so this only ever matches an object key.
_TRACE_KEY_BYTES = b'"langfuse_trace_id":'
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = ("path", "sha256", "bytes")
_TOPS = {"snapshot": "inputs", "artifact": "outputs"}


def verify_run(run_dir: Path) -> RunReport:
    """Check one run directory; every finding is a named problem, never an exception."""
    report = RunReport(run_dir)
    try:
        folder = RunFolder.open(run_dir)
    except UnsafeRunPath as exc:
        report.add(Kind.SYMLINK, exc.rel, exc.message)
        return report
    except FileNotFoundError:
        report.add(Kind.MANIFEST_MISSING, MANIFEST_NAME, f"{MANIFEST_NAME} does not exist")
        return report
    except OSError as exc:
        report.add(
            Kind.MANIFEST_UNREADABLE,
            MANIFEST_NAME,
            f"{MANIFEST_NAME} cannot be read ({exc.strerror or exc})",
        )
        return report
    with folder:
        loaded = _load_manifest(folder, report)
        if loaded is not None:
            _RunCheck(run_dir, folder, report, *loaded).check()
    return report


def _load_manifest(folder: RunFolder, report: RunReport) -> tuple[dict[str, Any], bytes] | None:
    try:
        data = folder.read(MANIFEST_NAME)
    except FileNotFoundError:
        report.add(Kind.MANIFEST_MISSING, MANIFEST_NAME, f"{MANIFEST_NAME} does not exist")
        return None
    except UnsafeRunPath as exc:
        kind = Kind.SYMLINK if exc.issue is PathIssue.SYMLINK else Kind.MANIFEST_UNREADABLE
        report.add(kind, MANIFEST_NAME, exc.message)
        return None
    except OSError as exc:
        report.add(
            Kind.MANIFEST_UNREADABLE,
            MANIFEST_NAME,
            f"{MANIFEST_NAME} cannot be read ({exc.strerror or exc})",
        )
        return None
    try:
        manifest = nesting.loads(data)
    except orjson.JSONDecodeError as exc:
        report.add(
            Kind.MANIFEST_UNREADABLE, MANIFEST_NAME, f"{MANIFEST_NAME} is not valid JSON ({exc})"
        )
        return None
    except NestingError as exc:
        report.add(Kind.MANIFEST_UNREADABLE, MANIFEST_NAME, f"{MANIFEST_NAME}: {exc}")
        return None
    if not isinstance(manifest, dict):
        report.add(
            Kind.MANIFEST_INVALID,
            MANIFEST_NAME,
            f"{MANIFEST_NAME} must hold a JSON object, not {type(manifest).__name__}",
        )
        return None
    return manifest, data


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class _RunCheck:
    """One pass over one run: manifest fields, then every listed file, then what is unlisted."""

    def __init__(
        self,
        run_dir: Path,
        folder: RunFolder,
        report: RunReport,
        manifest: dict[str, Any],
        raw: bytes,
    ) -> None:
        self.base = os.fspath(run_dir)
        self.folder = folder
        self.report = report
        self.manifest = manifest
        self.raw = raw
        self.files: dict[str, EntryKind] = {}
        self.linked_tops: set[str] = set()
        self.listed: set[str] = set()

    def invalid(self, message: str) -> None:
        self.report.add(Kind.MANIFEST_INVALID, MANIFEST_NAME, message)

    def check(self) -> None:
        header = self._header()
        # Walk the manifest only when its bytes name a trace id beyond the root's own field.
        if self.raw.count(b'"langfuse_trace_id"') > (TRACE_KEY in self.manifest):
            self._trace_ids(self.manifest, "", root=True)
        self._index("inputs")
        self._index("outputs")
        hashes = self._snapshots()
        self._identity(header, hashes)
        self._artifacts()
        for rel in sorted(self.files.keys() - self.listed):
            what = "a symbolic link" if self.files[rel] is EntryKind.LINK else "a file"
            self.report.add(Kind.UNLISTED_FILE, rel, f"{rel} is {what} the manifest does not list")

    def _header(self) -> dict[str, str | None]:
        """The identifying root fields; a wrong type is a schema problem."""
        values: dict[str, str | None] = {}
        for key in ("job_id", "run_id", "inputs_hash", "status"):
            value = self.manifest.get(key)
            if not isinstance(value, str):
                got = "missing" if key not in self.manifest else f"a {type(value).__name__}"
                self.invalid(f"{MANIFEST_NAME}: field '{key}' must be a string (it is {got})")
                value = None
            values[key] = value
        status = values["status"]
        if status is not None and status not in RUN_STATUSES:
            self.invalid(
                f"{MANIFEST_NAME}: status '{status}' is not one of {', '.join(RUN_STATUSES)}"
            )
        inputs_hash = values["inputs_hash"]
        if inputs_hash is not None and not _HEX64.fullmatch(inputs_hash):
            self.invalid(f"{MANIFEST_NAME}: inputs_hash is not 64 lowercase hex characters")
            values["inputs_hash"] = None
        trace_id = self.manifest.get(TRACE_KEY)
        if trace_id is not None and not isinstance(trace_id, str):
            self.invalid(f"{MANIFEST_NAME}: {TRACE_KEY} must be a string or null")
        self.report.run_id = values["run_id"]
        self.report.job_id = values["job_id"]
        self.report.status = status
        return values

    def _trace_ids(self, value: Any, where: str, *, root: bool = False) -> None:
        """A trace id belongs at the manifest root only (entry keys are judged as extra fields)."""
        if isinstance(value, dict):
            entry = where.startswith(("input_snapshots.", "artifacts[")) and where.count(".") <= 1
            for key, item in value.items():
                here = f"{where}.{key}" if where else str(key)
                if key == TRACE_KEY and not root and not entry:
                    self.report.add(
                        Kind.TRACE_ID_MISPLACED,
                        MANIFEST_NAME,
                        f"{MANIFEST_NAME}: {TRACE_KEY} found at '{here}'; "
                        "it belongs at the manifest root only",
                    )
                if not (root and key == TRACE_KEY):
                    self._trace_ids(item, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._trace_ids(item, f"{where}[{i}]")

    def _index(self, top: str) -> None:
        """Every entry under inputs/ or outputs/, without following a single symbolic link."""
        tree = self.folder.tree(top)
        for rel, strerror in tree.unreadable:
            verb = "read" if rel == top else "listed"
            self.report.add(Kind.FILE_UNREADABLE, rel, f"{rel}/ cannot be {verb} ({strerror})")
        if tree.top_kind is EntryKind.LINK:
            self.linked_tops.add(top)
            self.report.add(
                Kind.SYMLINK, top, f"{top}/ is a symbolic link; verify reads nothing through it"
            )
        elif tree.top_kind is not None:
            self.files[top] = tree.top_kind
        self.files.update(tree.files)

    def _entries(self, what: str, field: str, entry: Any) -> tuple[str, str, int] | None:
        """Validate one {path, sha256, bytes} entry; name extra keys; return it when usable."""
        if not isinstance(entry, dict):
            self.invalid(f"{MANIFEST_NAME}: {field} must be an object with path, sha256, bytes")
            return None
        extra = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
        if extra:
            names = ", ".join(f"'{k}'" for k in extra)
            self.report.add(
                Kind.of(what, "extra_field"),
                MANIFEST_NAME,
                f"{MANIFEST_NAME}: {field} holds extra field(s) {names}; an entry is "
                "exactly path, sha256, bytes",
            )
        path, digest, size = entry.get("path"), entry.get("sha256"), entry.get("bytes")
        if not isinstance(path, str) or not isinstance(digest, str) or not _is_count(size):
            self.invalid(
                f"{MANIFEST_NAME}: {field} needs a string path, a string sha256 and "
                "a non-negative integer bytes"
            )
            return None
        if not _HEX64.fullmatch(digest):
            self.invalid(f"{MANIFEST_NAME}: {field}.sha256 is not 64 lowercase hex characters")
            return None
        rel = self._safe_path(what, field, path)
        return None if rel is None else (rel, digest, size)

    def _safe_path(self, what: str, field: str, path: str) -> str | None:
        try:
            check_path(path, _TOPS[what])
        except UnsafeRunPath as exc:
            if exc.issue is PathIssue.ESCAPE:
                self.report.add(
                    Kind.PATH_ESCAPE,
                    MANIFEST_NAME,
                    f"{field}.path '{path}' escapes the run directory; it was not followed",
                )
            else:
                self.report.add(
                    Kind.PATH_MISPLACED,
                    MANIFEST_NAME,
                    f"{field}.path '{path}' must be a plain relative path under {_TOPS[what]}/",
                )
            return None
        self.listed.add(path)
        return path

    def _open(self, what: str, rel: str) -> io.FileIO | None:
        if rel.split("/", 1)[0] in self.linked_tops:
            return None  # named once, as the linked folder
        kind = self.files.get(rel)
        if kind is None or kind is EntryKind.OTHER:
            detail = "does not exist" if kind is None else "is not a regular file"
            self.report.add(Kind.of(what, "missing"), rel, f"{what} file {rel} {detail}")
            return None
        if kind is EntryKind.LINK:
            self.report.add(
                Kind.SYMLINK, rel, f"{rel} is a symbolic link; verify does not follow it"
            )
            return None
        try:
            return self.folder.open_file(rel)
        except UnsafeRunPath as exc:  # changed since it was listed
            kind_now = Kind.SYMLINK if exc.issue is PathIssue.SYMLINK else Kind.of(what, "missing")
            self.report.add(kind_now, rel, exc.message)
        except OSError as exc:
            self.report.add(Kind.FILE_UNREADABLE, rel, f"{rel} cannot be read ({exc.strerror})")
        return None

    def _compare(
        self,
        what: str,
        rel: str,
        size: int,
        listed_size: int,
        digest: str | None,
        listed_digest: str,
    ) -> bool:
        if size != listed_size:
            self.report.add(
                Kind.of(what, "size_mismatch"),
                rel,
                f"{rel} is {size} bytes; the manifest lists {listed_size}",
            )
            return False
        if digest != listed_digest:
            self.report.add(
                Kind.of(what, "hash_mismatch"),
                rel,
                f"{rel} has sha256 {digest}; the manifest lists {listed_digest}",
            )
            return False
        return True

    def _snapshots(self) -> dict[str, str] | None:
        """Check every snapshot file; return the listed hashes when all entries are usable."""
        entries = self.manifest.get("input_snapshots")
        if not isinstance(entries, dict) or not entries:
            self.invalid(f"{MANIFEST_NAME}: input_snapshots must be a non-empty object")
            return None
        hashes: dict[str, str] | None = {}
        self.report.snapshot_count = len(entries)
        for name, entry in entries.items():
            usable = self._entries("snapshot", f"input_snapshots.{name}", entry)
            if usable is None:
                hashes = None
                continue
            rel, digest, size = usable
            if hashes is not None:
                hashes[name] = digest
            handle = self._open("snapshot", rel)
            if handle is None:
                continue
            with handle:
                data = handle.read()
            if not self._compare(
                "snapshot", rel, len(data), size, hashlib.sha256(data).hexdigest(), digest
            ):
                continue
            if not is_canonical(data):
                self.report.add(
                    Kind.SNAPSHOT_NOT_CANONICAL,
                    rel,
                    f"{rel} is not RFC 8785 canonical JSON (the bytes a run writes are canonical)",
                )
            elif _TRACE_KEY_BYTES in data:
                self.report.add(
                    Kind.TRACE_ID_MISPLACED,
                    rel,
                    f"{rel} holds a {TRACE_KEY}; trace ids must never enter a snapshot",
                )
        return hashes

    def _identity(self, header: dict[str, str | None], hashes: dict[str, str] | None) -> None:
        inputs_hash, run_id, job_id = header["inputs_hash"], header["run_id"], header["job_id"]
        if hashes is not None and inputs_hash is not None:
            recomputed = compute_inputs_hash(hashes)
            if recomputed != inputs_hash:
                self.report.add(
                    Kind.INPUTS_HASH_MISMATCH,
                    MANIFEST_NAME,
                    f"inputs_hash recomputed from the snapshot hashes is {recomputed}; "
                    f"the manifest says {inputs_hash}",
                )
        if inputs_hash is not None and run_id is not None:
            derived = derive_run_id(inputs_hash)
            if derived != run_id:
                self.report.add(
                    Kind.RUN_ID_MISMATCH,
                    MANIFEST_NAME,
                    f"run_id derived from inputs_hash is {derived}; the manifest says {run_id}",
                )
        folder = os.path.abspath(self.base)
        if self.report.history:  # <job_id>/.history/<run_id>/<execution_id>
            folder = os.path.dirname(folder)
            what, job_folder = "history folder", os.path.dirname(os.path.dirname(folder))
        else:
            what, job_folder = "run folder", os.path.dirname(folder)
        if run_id is not None and os.path.basename(folder) != run_id:
            self.report.add(
                Kind.RUN_DIR_NAME_MISMATCH,
                ".",
                f"the {what} is named '{os.path.basename(folder)}' but its run_id is {run_id}",
            )
        parent = os.path.basename(job_folder)
        if job_id is not None and parent != job_id:
            self.report.add(
                Kind.JOB_DIR_MISMATCH,
                "..",
                f"the run sits in folder '{parent}' but its job_id is '{job_id}'",
            )

    def _artifacts(self) -> None:
        entries = self.manifest.get("artifacts", [])
        if not isinstance(entries, list):
            self.invalid(f"{MANIFEST_NAME}: artifacts must be a list")
            return
        self.report.artifact_count = len(entries)
        for i, entry in enumerate(entries):
            usable = self._entries("artifact", f"artifacts[{i}]", entry)
            if usable is None:
                continue
            rel, digest, size = usable
            handle = self._open("artifact", rel)
            if handle is None:
                continue
            with handle:
                actual = os.fstat(handle.fileno()).st_size
                found = (
                    hashlib.file_digest(handle, "sha256").hexdigest() if actual == size else None
                )
            self._compare("artifact", rel, actual, size, found, digest)
