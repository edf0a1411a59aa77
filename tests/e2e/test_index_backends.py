"""The index as operators and teams meet it: both backends agree, many writers, atomic
rebuilds under load, an index that never lies, and a PostgreSQL password that never shows."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sigilctl.index import index_location, open_index
from sigilctl.index.query import RunFilters
from tests.helpers import REPO, add_job, listed, run_json, run_python, run_subprocess
from tests.index_backends import dump, write_manifest

Cli = Callable[..., Any]
PASSWORD = "S3cretPassw0rd-xyz"


def history_tree(artifacts: Path) -> None:
    """Jobs with current runs, history, failures, costs and a tie: one tree for both backends."""
    day = "2026-02-0{}T10:00:05.000Z"
    write_manifest(artifacts, "alpha", "a" * 32, finished_at=day.format(1), cost=0.002)
    write_manifest(
        artifacts, "alpha", "a" * 32, execution="20260131T100000.000Z-00000001", status="failed"
    )
    write_manifest(artifacts, "alpha", "b" * 32, finished_at=day.format(3), cost=0.000123456789)
    write_manifest(artifacts, "beta", "c" * 32, brand="north", finished_at=day.format(3))
    write_manifest(artifacts, "beta", "d" * 32, brand="north", status="partial", cost=1.5)
    write_manifest(artifacts, "gamma.x", "e" * 32, job_type="x_thread", finished_at=day.format(2))
    write_manifest(artifacts, "gamma-y", "f" * 32, job_type="x_thread", finished_at=day.format(2))


def test_both_backends_give_identical_answers(
    tmp_path: Path, cli: Cli, postgres_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    history_tree(artifacts)
    monkeypatch.chdir(tmp_path)
    answers: dict[str, dict[str, Any]] = {}
    for name, db in (("sqlite", str(tmp_path / "index.sqlite")), ("postgresql", postgres_index)):
        seen: dict[str, Any] = {}
        base = ("--artifacts", str(artifacts), "--db", db, "--json")
        assert cli("reindex", *base).code == 0
        for args in (
            ("runs",),
            ("runs", "--history"),
            ("runs", "--job", "alpha", "--limit", "1"),
            ("runs", "--since", "2026-02-02", "--status", "succeeded"),
            *[("stats", "--by", by) for by in ("job_id", "brand", "job_type", "day")],
            ("stats", "--since", "2026-02-02"),
        ):
            result = cli(*args, *base)
            assert result.code == 0, result.stderr
            seen[" ".join(args)] = json.loads(result.stdout)
        index = open_index(index_location(artifacts, db), artifacts)
        seen["latest"] = {job: r.as_json() for job, r in index.latest_per_job().items()}
        answers[name] = seen
    assert answers["sqlite"] == answers["postgresql"]
    assert len(answers["sqlite"]["runs --history"]) == 7
    assert list(answers["sqlite"]["latest"]) == ["alpha", "beta", "gamma-y", "gamma.x"]


def test_runs_and_stats_through_the_cli(
    workspace: Path, cli: Cli, index_setting: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if index_setting:
        monkeypatch.setenv("SIGILCTL_INDEX", index_setting)
    run_json(cli, job="ig-test-001")
    assert cli("reindex").code == 0
    run_json(cli, "--force", job="ig-test-001")  # the first execution moves to history
    assert [r["current"] for r in listed(cli)] == [True]
    assert [r["current"] for r in listed(cli, "--history")] == [True, False]
    table = cli("runs", "--history")
    assert "(history)" in table.stdout
    stats = json.loads(cli("stats", "--json").stdout)
    assert stats == [
        {
            "key": "ig-test-001",
            "runs": 2,
            "succeeded": 2,
            "failed": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_usd": 0.0,  # offline runs cost nothing
            "cost_unknown": 0,
            "cache_hits": 0,
            "saved_usd": None,
        }
    ]
    human = cli("stats", "--by", "day")
    assert human.code == 0 and "2 execution(s) in 1 group(s)" in human.stdout
    bad = cli("stats", "--by", "weekday")
    assert bad.code == 2 and "--by 'weekday' is not a grouping" in bad.stderr


def test_a_run_folder_deleted_by_hand_is_not_listed(workspace: Path, cli: Cli) -> None:
    """Issue 12.6: without a reindex, through the real console entry point."""
    first = str(run_json(cli, job="ig-test-001")["run_id"])
    add_job(workspace, "ig-test-002")
    second = str(run_json(cli, job="ig-test-002")["run_id"])
    assert cli("reindex").code == 0
    shutil.rmtree(workspace / "artifacts" / "ig-test-002" / second)
    proc = run_subprocess("runs", "--json", cwd=workspace)
    assert proc.code == 0, proc.stderr
    assert [r["run_id"] for r in json.loads(proc.stdout)] == [first]
    proc = run_subprocess("stats", "--json", cwd=workspace)
    assert [r["key"] for r in json.loads(proc.stdout)] == ["ig-test-001"]  # and forgotten


def test_a_truncated_index_is_rebuilt_not_believed(workspace: Path, cli: Cli) -> None:
    """Issue 14.8: a 0-byte index must not answer [] while runs exist, nor collect new rows."""
    for job in ("ig-test-002", "ig-test-003"):
        add_job(workspace, job)
    for job in ("ig-test-001", "ig-test-002"):
        run_json(cli, job=job)
    assert cli("reindex").code == 0
    db = workspace / "artifacts" / ".sigilctl" / "index.sqlite"
    db.write_bytes(b"")
    later = run_subprocess("run", "ig-test-003", "--json", cwd=workspace)
    assert later.code == 0, later.stderr
    assert "was not updated" in later.stderr and "empty" in later.stderr
    assert db.stat().st_size == 0
    proc = run_subprocess("runs", "--json", cwd=workspace)
    assert proc.code == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 3
    assert "was empty (no tables); rebuilt it whole from the manifests" in proc.stderr


def test_reindex_on_a_read_only_mount_reports_the_real_error(workspace: Path, cli: Cli) -> None:
    """Issue 14.8: the cleanup must not hide the error (it was 'unexpected OSError: [Errno 30]')."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare/mount are not available to make a read-only mount")
    run_json(cli, job="ig-test-001")
    folder = workspace / "ro-index"
    folder.mkdir()
    db = folder / "index.sqlite"
    assert cli("reindex", "--db", str(db)).code == 0
    script = (
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && "
        f"exec {sys.executable} -m sigilctl reindex --db {db}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGILCTL_", "LANGFUSE_"))}
    proc = subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        cwd=workspace,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "Operation not permitted" in proc.stderr and "mount" in proc.stderr:
        pytest.skip("this machine does not allow a private read-only mount")
    assert proc.returncode == 1, proc.stderr
    assert "Read-only file system" in proc.stderr
    assert "unexpected" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_postgres_url_never_becomes_a_folder(workspace: Path, cli: Cli) -> None:
    run_json(cli, job="ig-test-001")
    result = cli("runs", "--db", "postgresql://nobody:pw-x@127.0.0.1:1/db")
    assert result.code == 1
    assert "connection refused" in result.stderr
    assert not (workspace / "postgresql:").exists()
    assert not any(p.name.startswith("postgres") for p in workspace.rglob("*"))
    odd = cli("runs", "--db", "mysql://u:hunter2secret@h/db")
    assert odd.code == 2
    assert "neither a file path nor a postgresql:// URL" in odd.stderr
    assert "hunter2" not in odd.stderr


# -- PostgreSQL: secrets --------------------------------------------------------------------


RECEIVED: list[bytes] = []  # passwords the imitation server was sent


@pytest.fixture
def password_server() -> Iterator[int]:
    """A server that speaks just enough of the PostgreSQL protocol to refuse a password.

    The shared test server trusts every local login, so a wrong password cannot be produced
    against it; this is the one boundary we imitate.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                _refuse_password(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    listener.close()


def _refuse_password(conn: socket.socket) -> None:
    conn.settimeout(5)
    try:
        while True:
            size, code = struct.unpack("!ii", conn.recv(8))
            conn.recv(size - 8)
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
                conn.sendall(b"N")
                continue
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # cleartext password, please
        RECEIVED.append(conn.recv(4096)[5:].rstrip(b"\0"))
        fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "ann"\0\0'
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
    except (OSError, struct.error):
        pass


@pytest.mark.slow
def test_the_password_never_shows(
    workspace: Path, pg_database: str, password_server: int, tmp_path: Path
) -> None:
    host = pg_database.split("//", 1)[1].split("/", 1)[0]
    good = pg_database.replace("postgresql://", f"postgresql://root:{PASSWORD}@")
    cases = {
        "works": (good, 0, None),
        "refused": (f"postgresql://ann:{PASSWORD}@127.0.0.1:1/db", 1, "connection refused"),
        "wrong password": (
            f"postgresql://ann:{PASSWORD}@127.0.0.1:{password_server}/db",
            2,
            "refused the login",
        ),
        "missing database": (
            f"postgresql://root:{PASSWORD}@{host}/no_such_db_{os.getpid()}",
            2,
            "does not exist",
        ),
    }
    for name, (url, code, message) in cases.items():
        for env, args in (
            ({"SIGILCTL_INDEX": url}, ("-v", "runs")),
            ({}, ("reindex", "--json", "--db", url)),
            ({}, ("-v", "stats", "--db", url)),
        ):
            how = "env" if env else "flag"
            proc = run_subprocess(*args, cwd=workspace, env=env)
            shown = proc.stdout + proc.stderr
            assert PASSWORD not in shown, (name, how, args, shown)
            assert proc.code == code, (name, how, args, shown)
            if message is not None:
                last = proc.stderr.strip().splitlines()[-1]
                assert last.startswith("sigilctl: error:") and message in last, (name, last)
                assert "unexpected" not in proc.stderr
        run = run_subprocess(
            "-v", "run", "ig-test-001", "--force", cwd=workspace, env={"SIGILCTL_INDEX": url}
        )
        assert run.code == 0, run.stderr
        assert PASSWORD not in run.stdout + run.stderr
    rows = dump(index_location(workspace / "artifacts", good))
    assert rows["executions"] and PASSWORD not in repr(rows)


# -- PostgreSQL: many writers, rebuilds under load ------------------------------------------


def _spawn(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SIGILCTL_", "LANGFUSE_"))}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env={**full, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_eight_processes_running_different_jobs_index_every_run_once(
    workspace: Path, cli: Cli, postgres_index: str
) -> None:
    env = {"SIGILCTL_INDEX": postgres_index}
    jobs = [f"ig-par-{i}" for i in range(8)]
    for job in jobs:
        add_job(workspace, job)
    assert run_subprocess("reindex", cwd=workspace, env=env).code == 0  # an empty, ready index
    procs = [_spawn(["-m", "sigilctl", "run", job, "--json"], workspace, env) for job in jobs]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    assert not any("was not updated" in err for _, err in outputs)
    run_ids = sorted(json.loads(out)["run_id"] for out, _ in outputs)
    location = index_location(workspace / "artifacts", postgres_index)
    executions = dump(location)["executions"]
    assert sorted(row[1] for row in executions) == run_ids  # each once


READER = """
import json, sys, time
from pathlib import Path
from sigilctl.index import index_location, open_index
from sigilctl.index.query import RunFilters
artifacts, setting, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
index = open_index(index_location(artifacts, setting), artifacts)
counts = []
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    counts.append(len(index.runs(RunFilters(history=True))))
print(json.dumps(counts))
"""


@pytest.mark.slow
def test_every_read_during_reindex_sees_a_complete_index(
    tmp_path: Path, index_setting: str | None
) -> None:
    artifacts = tmp_path / "artifacts"
    for i in range(60):
        write_manifest(
            artifacts, f"job-{i % 6}", f"{i:032x}", finished_at=f"2026-01-01T00:00:{i:02d}.000Z"
        )
    setting = index_setting or str(tmp_path / "index.sqlite")
    index = open_index(index_location(artifacts, setting), artifacts)
    index.reindex()
    reader = _spawn(
        ["-c", READER, str(artifacts), setting, "6"], tmp_path, {"PYTHONPATH": str(REPO)}
    )
    rebuilds = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        index.reindex()
        rebuilds += 1
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    counts = json.loads(out)
    assert rebuilds >= 3 and len(counts) >= 20
    assert set(counts) == {60}


@pytest.mark.slow
def test_runs_finishing_while_reindex_runs_are_never_lost(
    workspace: Path, cli: Cli, index_setting: str | None
) -> None:
    env = {"SIGILCTL_INDEX": index_setting} if index_setting else {}
    jobs = [f"ig-race-{i}" for i in range(6)]
    for job in jobs:
        add_job(workspace, job)
    assert run_subprocess("reindex", cwd=workspace, env=env).code == 0
    runs = [_spawn(["-m", "sigilctl", "run", job, "--json"], workspace, env) for job in jobs[:3]]
    rebuilds = [_spawn(["-m", "sigilctl", "reindex", "--json"], workspace, env) for _ in range(2)]
    runs += [_spawn(["-m", "sigilctl", "run", job, "--json"], workspace, env) for job in jobs[3:]]
    rebuilds += [_spawn(["-m", "sigilctl", "reindex", "--json"], workspace, env)]
    for proc in runs + rebuilds:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    location = index_location(workspace / "artifacts", index_setting)
    assert sorted(row[0] for row in dump(location)["executions"]) == sorted(jobs)


@pytest.mark.slow
def test_concurrent_first_use_of_an_empty_postgres_database(
    workspace: Path, cli: Cli, postgres_index: str
) -> None:
    run_json(cli, job="ig-test-001")
    env = {"SIGILCTL_INDEX": postgres_index}
    procs = [_spawn(["-m", "sigilctl", "runs", "--json"], workspace, env) for _ in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert len(json.loads(out)) == 1


# -- PostgreSQL: the cross-machine run lock --------------------------------------------------

HOLDER = """
import sys, time
from pathlib import Path
from sigilctl.index import index_location, open_index
index = open_index(index_location(Path("."), sys.argv[1]), Path("."))
with index.run_lock(sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_run_lock_excludes_other_sessions_and_dies_with_its_holder(
    tmp_path: Path, postgres_index: str
) -> None:
    from sigilctl.index.postgres import RunLockTimeout

    index = open_index(index_location(tmp_path, postgres_index), tmp_path)
    holder = _spawn(["-c", HOLDER, postgres_index, "r" * 32], tmp_path, {"PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(RunLockTimeout, match="being executed elsewhere"),
            index.run_lock("r" * 32, timeout=0.3),  # type: ignore[attr-defined]
        ):
            pass
        with index.run_lock("s" * 32, timeout=0.3) as other:  # type: ignore[attr-defined]
            other.check()  # another run_id is free
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        started = time.monotonic()
        with index.run_lock("r" * 32, timeout=10) as lock:  # type: ignore[attr-defined]
            lock.check()
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.communicate()


def test_a_pooled_index_serves_many_calls(tmp_path: Path, postgres_index: str) -> None:
    artifacts = tmp_path / "artifacts"
    history_tree(artifacts)
    location = index_location(artifacts, postgres_index)
    with open_index(location, artifacts, pooled=True) as index:
        index.reindex()
        for _ in range(20):
            assert len(index.runs(RunFilters())) == 6
        index.check()
        run_dir = write_manifest(artifacts, "delta", "0" * 32)
        index.record_run(run_dir)
        assert "delta" in index.latest_per_job()


def test_an_unreachable_postgres_index_is_one_sentence(tmp_path: Path) -> None:
    url = f"postgresql://ann:{PASSWORD}@127.0.0.1:1/db"
    proc = run_python("-m", "sigilctl", "-v", "stats", "--db", url, cwd=tmp_path)
    assert proc.code == 1
    assert PASSWORD not in proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("sigilctl: error: cannot reach")


# -- PostgreSQL: SIGKILL during a rebuild ----------------------------------------------------

PG_REINDEX_POINTS = [
    ("loaded, indexes not built", "sigilctl.index.postgres", "create_indexes", "before"),
    ("inside the swap transaction", "sigilctl.index.build", "Build.catch_up", "after"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("point", "module", "attr", "when"), PG_REINDEX_POINTS, ids=[p[0] for p in PG_REINDEX_POINTS]
)
def test_sigkill_during_a_postgres_reindex_keeps_the_old_index(
    workspace: Path,
    cli: Cli,
    postgres_index: str,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
    module: str,
    attr: str,
    when: str,
) -> None:
    from tests.faults import killed, wrap

    monkeypatch.setenv("SIGILCTL_INDEX", postgres_index)
    first = str(run_json(cli, job="ig-test-001")["run_id"])
    assert cli("reindex").code == 0
    add_job(workspace, "ig-test-002")
    run_json(cli, job="ig-test-002")
    killed(workspace, wrap(module, attr, when), "reindex", "--db", postgres_index)
    assert {r["run_id"] for r in listed(cli)} >= {first}  # the old index still answers
    location = index_location(workspace / "artifacts", postgres_index)
    rebuilt = cli("reindex", "--json")
    assert rebuilt.code == 0, rebuilt.stderr
    assert json.loads(rebuilt.stdout)["indexed"] == 2
    import psycopg

    with psycopg.connect(location.postgres_url) as conn:
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'sigilctl%' ORDER BY 1"
        ).fetchall()
    assert schemas == [("sigilctl",)]  # the dead build was dropped


def test_pgpassword_is_used_as_libpq_does_and_never_shown(
    workspace: Path, password_server: int
) -> None:
    RECEIVED.clear()
    url = f"postgresql://ann@127.0.0.1:{password_server}/db"
    proc = run_subprocess("-v", "runs", "--db", url, cwd=workspace, env={"PGPASSWORD": PASSWORD})
    assert proc.code == 2
    assert "refused the login" in proc.stderr
    assert PASSWORD.encode() in RECEIVED  # libpq sent the password from the environment
    assert PASSWORD not in proc.stdout + proc.stderr
