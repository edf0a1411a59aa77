"""The embedded queue: a SQLite file beside the artifacts, worked by ``serve``'s own processes.

No service is needed: ``sigilctl serve --no-auth`` queues into
``<artifacts>/.sigilctl/queue.sqlite`` and N local worker processes claim tasks from it in
order. The file survives the server: a task still queued when ``serve`` stops is run by the next
``serve``, and a task whose worker died is put back in the queue when the next ``serve`` starts
(its run, if it was published, is recognised and not executed again).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sqlite3
from collections.abc import Iterator
from multiprocessing.synchronize import Event, Semaphore
from pathlib import Path
from typing import Any

from sigilctl.logs import get_logger
from sigilctl.manifest import utc_now
from sigilctl.service.tasks import RecordedTasks, TaskRecord
from sigilctl.workspace import Workspace

log = get_logger("service")
QUEUE_FILE = "queue.sqlite"
BUSY_TIMEOUT_S = 10.0
IDLE_WAIT_S = 0.5
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS tasks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        queue_job_id TEXT NOT NULL UNIQUE,
        run_id TEXT NOT NULL,
        status TEXT NOT NULL,
        worker TEXT,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, seq)",
    "CREATE INDEX IF NOT EXISTS tasks_run ON tasks (run_id, seq)",
)


def queue_path(workspace: Workspace) -> Path:
    return workspace.artifacts / ".sigilctl" / QUEUE_FILE


class LocalTaskStore(RecordedTasks):
    """Task records in one SQLite file (WAL); each call opens a short connection."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def initialize(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                conn.execute(statement)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def create(self, record: TaskRecord) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO tasks (queue_job_id, run_id, status, record) VALUES (?, ?, ?, ?)",
                (record.queue_job_id, record.run_id, record.status, record.model_dump_json()),
            )

    def get(self, queue_job_id: str) -> TaskRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT record FROM tasks WHERE queue_job_id = ?", (queue_job_id,)
            ).fetchone()
        return TaskRecord.model_validate_json(row[0]) if row else None

    def latest_for_run(self, run_id: str) -> TaskRecord | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT record FROM tasks WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
            ).fetchone()
        return TaskRecord.model_validate_json(row[0]) if row else None

    def _update(self, conn: sqlite3.Connection, record: TaskRecord) -> None:
        conn.execute(
            "UPDATE tasks SET status = ?, worker = ?, record = ? WHERE queue_job_id = ?",
            (record.status, record.worker, record.model_dump_json(), record.queue_job_id),
        )

    def _change(self, queue_job_id: str, **fields: Any) -> TaskRecord | None:
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT record FROM tasks WHERE queue_job_id = ?", (queue_job_id,)
            ).fetchone()
            if row is None:
                return None
            record = TaskRecord.model_validate_json(row[0]).model_copy(update=fields)
            self._update(conn, record)
            return record

    def claim(self, worker: str) -> TaskRecord | None:
        """Take the oldest queued task for ``worker`` (atomically: one worker gets it)."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT record FROM tasks WHERE status = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            current = TaskRecord.model_validate_json(row[0])
            record = current.model_copy(
                update={
                    "status": "running",
                    "worker": worker,
                    "started_at": utc_now(),
                    "attempts": current.attempts + 1,
                }
            )
            self._update(conn, record)
            return record

    def requeue_from(self, workers: set[str] | None = None) -> list[str]:
        """Put back in the queue the running tasks of ``workers`` (None: of any dead worker on
        this host). Returns their ids."""
        host = socket.gethostname()
        back: list[str] = []
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT record FROM tasks WHERE status = 'running' ORDER BY seq"
            ).fetchall()
            for (raw,) in rows:
                record = TaskRecord.model_validate_json(raw)
                owner = record.worker or ""
                if workers is not None:
                    if owner not in workers:
                        continue
                elif not _dead_here(owner, host):
                    continue
                record = record.model_copy(update={"status": "queued", "worker": None})
                self._update(conn, record)
                back.append(record.queue_job_id)
        return back

    def depth(self) -> int:
        with self._connect() as conn:
            row = conn.execute("SELECT COUNT(*) FROM tasks WHERE status = 'queued'").fetchone()
        return int(row[0])


def _dead_here(worker: str, host: str) -> bool:
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _worker_main(
    root: str, artifacts: str, db: str, stop: Event, doorbell: Semaphore, worker_id: str
) -> None:
    """One local worker process: claim, run, record; until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from sigilctl.service.execution import execute_task, worker_name

    parent = os.getppid()
    workspace = Workspace(Path(root), Path(artifacts))
    store = LocalTaskStore(Path(db))
    me = worker_name()
    while not stop.is_set() and os.getppid() == parent:
        record = store.claim(me)
        if record is None:
            doorbell.acquire(timeout=IDLE_WAIT_S)
            continue
        execute_task(workspace, store, record.queue_job_id, record.request())
    log.debug("local worker %s stopped", worker_id)


class LocalQueue:
    """``serve``'s own queue: the SQLite store and N worker processes."""

    kind = "local"

    def __init__(self, workspace: Workspace, workers: int) -> None:
        self.workspace = workspace
        self.workers = workers
        self.store = LocalTaskStore(queue_path(workspace))
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._doorbell = self._ctx.Semaphore(0)
        self._processes: list[Any] = []

    def start(self) -> None:
        self.store.initialize()
        back = self.store.requeue_from(None)
        if back:
            log.warning("put %d task(s) of stopped workers back in the queue", len(back))
        for number in range(self.workers):
            process = self._ctx.Process(
                target=_worker_main,
                args=(
                    str(self.workspace.root),
                    str(self.workspace.artifacts),
                    str(self.store.path),
                    self._stop,
                    self._doorbell,
                    f"local-{number}",
                ),
                name=f"sigilctl-worker-{number}",
                daemon=False,
            )
            process.start()
            self._processes.append(process)
        for _ in range(self.workers):
            self._doorbell.release()  # work left queued by an earlier serve starts at once

    def enqueue(self, record: TaskRecord) -> None:
        self.store.create(record)
        self._doorbell.release()

    def problem(self) -> str | None:
        """None when the queue can take and run work, else what is wrong."""
        dead = [p.name for p in self._processes if not p.is_alive()]
        if dead:
            return f"local worker process(es) stopped: {', '.join(dead)}"
        try:
            self.store.depth()
        except sqlite3.Error as exc:
            return f"the queue file {self.store.path} cannot be read ({exc})"
        return None

    def depth(self) -> int:
        return self.store.depth()

    def stop(self, grace: float) -> None:
        """Let running tasks finish within ``grace`` seconds; hand back what does not."""
        import time

        self._stop.set()
        for _ in self._processes:
            self._doorbell.release()
        deadline = time.monotonic() + grace
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
        stuck = [p for p in self._processes if p.is_alive()]
        if stuck:
            host = socket.gethostname()
            for process in stuck:
                process.kill()
                process.join(5)
            back = self.store.requeue_from({f"{host}:{p.pid}" for p in stuck})
            log.warning(
                "stopped %d worker(s) after %.0f s; %d task(s) put back in the queue",
                len(stuck),
                grace,
                len(back),
            )
        for process in self._processes:
            process.close()
        self._processes.clear()
