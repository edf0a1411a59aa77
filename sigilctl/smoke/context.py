"""What every smoke check runs in: a temporary workspace, a sealed environment, local receivers.

The context is also the hook point: ``run`` (how a job is run) and ``verify`` (how a run is
judged) are plain callables, the real ``run_job`` and ``verify_run`` by default. A test swaps one
for a deliberately broken build (a wrapper around the real function) and proves the matching
check fails; production code carries no test-only branch.

Nothing escapes the context: runs go to a temp dir that ``close()`` deletes, and the process
environment is sealed while the context is open (every ``SIGILCTL_``/``LANGFUSE_``/``OTEL_``
variable is removed, so the operator's real Langfuse project, artifacts tree and trace spool
are never touched) and restored exactly afterwards. Tracing checks point Langfuse at a receiver
on 127.0.0.1 with dummy keys.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigilctl import env
from sigilctl.runner import RunOptions, RunOutcome, run_job
from sigilctl.verify import RunReport, verify_run
from sigilctl.workspace import Workspace

if TYPE_CHECKING:
    from sigilctl.smoke.receiver import Mode, OtlpReceiver

RunFunction = Callable[[str, Workspace, RunOptions], RunOutcome]
VerifyFunction = Callable[[Path], RunReport]

EXAMPLE_JOB = "ig-test-001"
SEALED_PREFIXES = ("SIGILCTL_", "LANGFUSE_", "OTEL_")
DUMMY_SECRET_KEY = "sk-lf-smoke-not-a-secret"  # noqa: S105 - a placeholder sent to 127.0.0.1 only


def example_files() -> Traversable:
    """The example workspace shipped with the package (``example/jobs/...``)."""
    return resources.files("sigilctl.smoke").joinpath("example")


def _copy_tree(source: Traversable, dest: Path) -> None:
    """Copy package data (which may not be a real folder, e.g. inside a zip) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            _copy_tree(item, dest / item.name)
        else:
            (dest / item.name).write_bytes(item.read_bytes())


@contextmanager
def sealed_environment(**values: str) -> Iterator[None]:
    """Remove every sigilctl/Langfuse/OTel variable, set ``values``, restore all on exit."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name.startswith(SEALED_PREFIXES):
                del os.environ[name]
        os.environ.update(values)
        yield
    finally:
        for name in list(os.environ):
            if name not in saved:
                del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@dataclass
class SmokeContext:
    """Temp workspaces and tracing setups for the checks; ``run``/``verify`` are the hooks."""

    base: Path
    run: RunFunction = run_job
    verify: VerifyFunction = verify_run
    job_id: str = EXAMPLE_JOB
    # Bound on the end-of-run flush against a healthy local receiver (generous for slow CI).
    flush_timeout_s: float = 5.0
    # Bound on the flush against a failing backend: small, so the suite stays fast.
    failure_flush_timeout_s: float = 0.5
    # Time a failing backend may add to a run beyond its bound (process noise; a loaded
    # machine is absorbed by comparing with untraced runs of the same moment).
    added_time_slack_s: float = 1.5
    _names: count[int] = field(default_factory=count)
    _stack: ExitStack = field(default_factory=ExitStack)

    @classmethod
    def create(cls, **hooks: Any) -> SmokeContext:
        """A context in a new temp dir; ``hooks`` set fields (``run``, ``verify``, bounds)."""
        base = Path(tempfile.mkdtemp(prefix="sigilctl-smoke-")).resolve()
        return cls(base, **hooks)

    def __enter__(self) -> SmokeContext:
        self._stack.enter_context(sealed_environment())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the temp dir and restore the environment (idempotent)."""
        shutil.rmtree(self.base, ignore_errors=True)
        self._stack.close()

    def scratch(self, label: str) -> Path:
        """A new, empty folder of the temp dir."""
        folder = self.base / f"{label}-{next(self._names)}"
        folder.mkdir()
        return folder

    def workspace(self, label: str = "ws", *, artifacts: Path | None = None) -> Workspace:
        """A fresh copy of the example workspace in its own folder (``artifacts`` may be shared)."""
        root = self.scratch(label)
        _copy_tree(example_files(), root)
        return Workspace(root, (artifacts or root / "artifacts").resolve())

    def run_example(
        self, workspace: Workspace, *, trace: bool = True, job_id: str | None = None
    ) -> RunOutcome:
        """Run the example job (or another job of the example workspace) through ``run``."""
        return self.run(job_id or self.job_id, workspace, RunOptions(trace=trace))

    def builtin_examples(self) -> list[tuple[str, str]]:
        """``(job_type, job_id)``: one example job for every built-in job type, sorted.

        A built-in type without an example job in the example workspace fails the check that
        asks, so a new job type cannot skip the invariants.
        """
        import yaml

        from sigilctl.pipelines.registry import registrations
        from sigilctl.smoke.registry import CheckFailed

        examples: dict[str, str] = {}
        for folder in sorted(example_files().joinpath("jobs").iterdir(), key=lambda f: f.name):
            brief = folder.joinpath("brief.yaml")
            if brief.is_file():
                data = yaml.safe_load(brief.read_text("utf-8"))  # the package's own example
                if isinstance(data, dict):
                    examples.setdefault(str(data.get("job_type")), folder.name)
        builtin = sorted({r.name for r in registrations() if r.builtin})
        missing = [name for name in builtin if name not in examples]
        if missing or not builtin:
            raise CheckFailed(
                f"no example job in the smoke workspace for built-in job type(s) "
                f"{', '.join(missing) or '(none registered: is sigilctl installed?)'}"
            )
        return [(name, examples[name]) for name in builtin]

    @contextmanager
    def receiver(self, mode: Mode = "ok") -> Iterator[OtlpReceiver]:
        """A local Langfuse stand-in on 127.0.0.1 that records every exported span."""
        from sigilctl.smoke.receiver import OtlpReceiver

        with OtlpReceiver(mode, hang_s=self.failure_flush_timeout_s) as receiver:
            yield receiver

    @contextmanager
    def environment(self, **values: str) -> Iterator[None]:
        """Extra variables inside the sealed environment, removed again on exit."""
        with sealed_environment(**values):
            yield

    @contextmanager
    def tracing(self, base_url: str, *, flush_timeout_s: float | None = None) -> Iterator[str]:
        """Langfuse configured with dummy keys against ``base_url``; yields the public key."""
        public_key = f"pk-lf-smoke-{uuid.uuid4().hex[:16]}"
        bound = self.flush_timeout_s if flush_timeout_s is None else flush_timeout_s
        values = {
            env.LANGFUSE_PUBLIC_KEY: public_key,
            env.LANGFUSE_SECRET_KEY: DUMMY_SECRET_KEY,
            env.LANGFUSE_BASE_URL: base_url,
            env.SIGILCTL_TRACE_FLUSH_TIMEOUT: f"{bound:g}",
        }
        with sealed_environment(**values):
            yield public_key
