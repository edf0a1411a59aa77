"""The workspace: its root, its jobs/ and artifacts/ trees, and the rules for paths inside it.

Every path named in a brief is relative to the brief's folder and must resolve (symlinks
followed) inside the root (SPEC §2). Snapshots only ever hold root-relative POSIX paths, so the
same job gives the same run_id wherever the workspace lives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sigilctl import env
from sigilctl.errors import InputError

JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
BRIEF_NAME = "brief.yaml"
MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024
MAX_BRIEF_BYTES = 256 * 1024


@dataclass(frozen=True)
class Workspace:
    """Where jobs are read from and runs are written to."""

    root: Path
    artifacts: Path
    # The index path sigilctl.toml sets (None: the index's own default; flag and env win).
    index: str | None = None  # the index setting of sigilctl.toml (a path or a URL)

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    @classmethod
    def locate(
        cls, root: Path | None = None, artifacts: Path | None = None, *, job_ref: str | None = None
    ) -> Workspace:
        """Find the workspace (SPEC §2) and its settings: flag > env > sigilctl.toml > default.

        The root is ``--root``/``$SIGILCTL_ROOT``, else the nearest folder holding ``jobs/``,
        walking up from the job's folder (``job_ref`` given as a path) or else from the current
        folder. A ``job_ref`` outside any workspace is an InputError; commands that only read
        artifacts fall back to the current folder.
        """
        from sigilctl.config import load_config

        resolved_root = _root(root, job_ref)
        config = load_config(resolved_root)
        default_artifacts = config.artifacts or resolved_root / "artifacts"
        resolved_artifacts = env.path_setting(artifacts, env.SIGILCTL_ARTIFACTS, default_artifacts)
        if not resolved_artifacts.is_absolute():
            resolved_artifacts = Path.cwd() / resolved_artifacts
        return cls(
            resolved_root, resolve_path(resolved_artifacts, what="artifacts folder"), config.index
        )

    def relative(self, path: Path) -> str:
        """Root-relative POSIX form of a path that must lie inside the root."""
        resolved = resolve_path(path, what="path")
        if not resolved.is_relative_to(self.root):
            where = "is" if resolved == path else f"resolves to {resolved},"
            raise InputError(
                f"{path} {where} outside the workspace root {self.root} "
                "(a job folder or file must not link outside it)"
            )
        return resolved.relative_to(self.root).as_posix()

    def contain(self, path: Path, *, what: str, source: Path) -> Path:
        """Resolve ``path`` (symlinks followed) and refuse it if it escapes the root."""
        resolved = resolve_path(path, what=f"{source}: {what}")
        if not resolved.is_relative_to(self.root):
            raise InputError(
                f"{source}: {what} '{path}' resolves outside the workspace root {self.root}"
            )
        return resolved

    def job_ids(self) -> list[str]:
        """Job folders under jobs/, ignoring those starting with '_' or '.' (shared material)."""
        if not self.jobs.is_dir():
            return []
        return sorted(
            p.name
            for p in self.jobs.iterdir()
            if p.is_dir() and not p.name.startswith(("_", ".")) and (p / BRIEF_NAME).is_file()
        )


def resolve_path(path: Path, *, what: str) -> Path:
    """``path.resolve()`` (links followed) where a link loop is one input error naming ``what``.

    Python 3.11 raises RuntimeError on a loop, later versions OSError (ELOOP) or nothing.
    """
    try:
        return path.resolve()
    except RuntimeError:
        raise InputError(
            f"{what} {path} is a symbolic link loop (it never reaches a real file or folder)"
        ) from None
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be resolved: {exc.strerror or exc}") from None


def check_job_id(job_id: str, *, source: str) -> None:
    if not JOB_ID_PATTERN.match(job_id):
        raise InputError(
            f"{source}: job_id '{job_id}' must match {JOB_ID_PATTERN.pattern} "
            "(letters, digits, '.', '_', '-'; at most 128 characters)"
        )


def is_path_like(ref: str) -> bool:
    """SPEC §7: ``.``, ``..``, anything with a path separator or ending in .yaml is a path."""
    return ref in (".", "..") or "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def _root(flag: Path | None, job_ref: str | None) -> Path:
    """The workspace root: flag > env > the nearest folder holding jobs/ (SPEC §2)."""
    explicit = flag or (Path(value) if (value := env.get(env.SIGILCTL_ROOT)) else None)
    if explicit is not None:
        resolved = resolve_path(explicit, what="workspace root")
        if not resolved.is_dir():
            raise InputError(f"workspace root {resolved} is not a directory")
        return resolved
    cwd = Path.cwd()
    start, what = cwd, f"the current folder {cwd}"
    if job_ref is not None and is_path_like(job_ref):
        given = resolve_path(Path(job_ref), what="job path")
        if not given.exists():
            raise InputError(f"no brief at {job_ref} (a job folder must hold {BRIEF_NAME})")
        start, what = (given if given.is_dir() else given.parent), f"job {job_ref}"
    for folder in (start, *start.parents):
        if (folder / "jobs").is_dir():
            return folder
    if job_ref is None:
        return cwd
    raise InputError(
        f"{what} is not inside a workspace (no folder from {start} upwards holds jobs/); "
        f"run sigilctl inside one, or give --root DIR (or set {env.SIGILCTL_ROOT})"
    )


def brief_path_for(ref: str, workspace: Workspace) -> Path:
    """Turn a JOB argument (job id, job folder or brief path) into a brief path."""
    if is_path_like(ref):
        candidate = Path(ref)
        if candidate.is_dir():
            candidate = candidate / BRIEF_NAME
        if not candidate.is_file():
            raise InputError(f"no brief at {candidate} (a job folder must hold {BRIEF_NAME})")
        resolved = resolve_path(candidate, what="brief")
        if not resolved.is_relative_to(workspace.root):
            raise InputError(
                f"brief {candidate} resolves outside the workspace root {workspace.root}; "
                f"give --root DIR (or set {env.SIGILCTL_ROOT}) to the workspace that holds it"
            )
        return resolved
    check_job_id(ref, source="JOB argument")
    folder = workspace.jobs / ref
    if not folder.is_dir():
        raise InputError(unknown_job_message(ref, workspace))
    brief = folder / BRIEF_NAME
    if not brief.is_file():
        raise InputError(f"job folder {folder} has no {BRIEF_NAME}")
    return resolve_path(brief, what="brief")


def unknown_job_message(job_id: str, workspace: Workspace) -> str:
    """``no job 'x' under <jobs>``, with the closest job ids (never the whole list)."""
    from sigilctl.suggest import did_you_mean

    known = workspace.job_ids()
    if not known:
        return f"no job '{job_id}' under {workspace.jobs} (it holds no job yet)"
    hint = did_you_mean(job_id, known) or f" ({len(known)} job(s); 'sigilctl jobs' lists them)"
    return f"no job '{job_id}' under {workspace.jobs}{hint}"


def normalize_newlines(text: str) -> str:
    """CRLF/CR become LF and a leading BOM goes: checkout artifacts, not authored content."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path, *, what: str, limit: int = MAX_TEXT_FILE_BYTES) -> str:
    """Read a UTF-8 text file, bounded, newlines normalized; failures name the file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be read: {exc.strerror}") from None
    if not path.is_file():
        raise InputError(f"{what} {path} is not a regular file")
    if size > limit:
        raise InputError(f"{what} {path} is {size} bytes, over the {limit}-byte limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be read: {exc.strerror}") from None
    if b"\x00" in data:
        raise InputError(f"{what} {path} is binary (contains NUL bytes), not UTF-8 text")
    try:
        return normalize_newlines(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} {path} is not valid UTF-8 (byte {exc.start}: 0x{data[exc.start]:02x})"
        ) from None
