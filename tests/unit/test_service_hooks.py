"""The runner's hooks for queued runs, called directly: params, the promised run_id, the task id
in the manifest, and the extra run lock whose fence guards the publish."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigilctl.errors import InputError, LeaseLostError, RunChangedError
from sigilctl.manifest import read_manifest
from sigilctl.runner import Fence, RunOptions, run_job
from sigilctl.service import promises
from sigilctl.service.execution import UnknownJobError, derive
from sigilctl.service.leases import redis_run_lock
from sigilctl.service.promises import Derived, PromiseCache
from sigilctl.service.server import check_auth, is_loopback
from sigilctl.service.settings import ServiceSettings, redact_url
from sigilctl.service.submit import parse_params
from sigilctl.workspace import Workspace
from tests.servers import redis_space
from tests.services import require_redis

JOB = "ig-test-001"


@pytest.fixture
def ws(workspace: Path) -> Workspace:
    return Workspace.locate(workspace)


def visible(ws: Workspace, job: str = JOB) -> list[str]:
    folder = ws.artifacts / job
    return sorted(p.name for p in folder.iterdir() if p.name != ".locks") if folder.exists() else []


def test_params_merge_key_by_key_into_the_brief_snapshot_and_the_run_id(ws: Workspace) -> None:
    plain = run_job(JOB, ws)
    merged = run_job(JOB, ws, RunOptions(params={"count": 2}))
    assert merged.run_id != plain.run_id
    brief = json.loads((merged.run_dir / "inputs/brief.resolved.json").read_text())
    assert brief["params"] == {"topic": "proving exactly what produced every caption", "count": 2}
    promise = derive(ws, JOB, {"count": 2})
    assert (promise.run_id, promise.inputs_hash, promise.cached) == (
        merged.run_id,
        merged.inputs_hash,
        True,
    )
    assert derive(ws, JOB, {"count": 5}).cached is False
    with pytest.raises(InputError, match="with the given params"):
        derive(ws, JOB, {"count": "many"})
    with pytest.raises(UnknownJobError, match="no job 'nope'"):
        derive(ws, "nope", None)


def test_a_changed_job_refuses_the_promised_run_id_and_writes_nothing(ws: Workspace) -> None:
    promised = derive(ws, JOB, None).run_id
    brief = ws.jobs / JOB / "brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 2"))
    with pytest.raises(RunChangedError, match=f"not {promised} as when it was queued"):
        run_job(JOB, ws, RunOptions(expected_run_id=promised))
    assert visible(ws) == []


def test_the_queue_job_id_is_recorded_outside_the_identity(ws: Workspace) -> None:
    outcome = run_job(JOB, ws, RunOptions(queue_job_id="0b6c1c9e-task"))
    assert read_manifest(outcome.run_dir).queue_job_id == "0b6c1c9e-task"
    assert outcome.run_id == derive(ws, JOB, None).run_id


def test_a_lost_lease_publishes_nothing(ws: Workspace) -> None:
    taken: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def lost_lock(job_id: str, run_id: str) -> Iterator[Fence]:
        taken.append((job_id, run_id))

        def fence() -> None:
            raise LeaseLostError("the run lock was taken over")

        yield fence

    with pytest.raises(LeaseLostError):
        run_job(JOB, ws, RunOptions(run_lock=lost_lock))
    assert taken == [(JOB, derive(ws, JOB, None).run_id)]
    assert visible(ws) == []  # no run, no build folder


def test_the_redis_run_lock_excludes_renews_and_fences() -> None:
    require_redis()
    with redis_space() as space:
        client = space.client()
        order: list[str] = []
        with redis_run_lock(client, space.prefix, 3, JOB, "r1") as fence:
            fence()

            def second() -> None:
                with redis_run_lock(client, space.prefix, 3, JOB, "r1"):
                    order.append("second")

            waiter = threading.Thread(target=second)
            waiter.start()
            time.sleep(4)  # longer than the lease: renewal keeps it ours
            fence()
            order.append("first")
        waiter.join(10)
        assert order == ["first", "second"]
        with redis_run_lock(client, space.prefix, 3, JOB, "r2") as fence:
            client.delete(f"{space.prefix}lock:r2")  # expired, and someone else may hold it
            with pytest.raises(LeaseLostError, match="no longer held"):
                fence()
        client.close()


def test_auth_rules_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    with pytest.raises(InputError, match="--no-auth is refused"):
        check_auth("0.0.0.0", True, ())
    with pytest.raises(InputError, match="SIGILCTL_API_TOKENS is not set"):
        check_auth("127.0.0.1", False, ())
    check_auth("127.0.0.1", True, ())
    check_auth("0.0.0.0", False, ("a" * 16,))
    monkeypatch.setenv("SIGILCTL_API_TOKENS", "short")
    with pytest.raises(InputError, match="shorter than 16"):
        ServiceSettings.from_env()
    monkeypatch.setenv("SIGILCTL_API_TOKENS", " " + "t" * 20 + " , " + "u" * 20)
    monkeypatch.setenv("SIGILCTL_BROKER_URL", "amqp://guest:secret@host//")
    with pytest.raises(InputError, match="redis://") as refused:
        ServiceSettings.from_env()
    assert "secret" not in str(refused.value)
    monkeypatch.setenv("SIGILCTL_BROKER_URL", "redis://:hunter22@127.0.0.1:6379/3")
    settings = ServiceSettings.from_env()
    assert settings.tokens == ("t" * 20, "u" * 20)
    assert redact_url(settings.broker_url or "") == "redis://:***@127.0.0.1:6379/3"
    monkeypatch.setenv("SIGILCTL_LOCK_LEASE", "soon")
    with pytest.raises(InputError, match="SIGILCTL_LOCK_LEASE='soon'"):
        ServiceSettings.from_env()


def test_params_from_the_command_line() -> None:
    assert parse_params(["count=2", "topic=launch day", "flag=true", 'quoted="2"']) == {
        "count": 2,
        "topic": "launch day",
        "flag": True,
        "quoted": "2",
    }
    with pytest.raises(InputError, match="KEY=VALUE"):
        parse_params(["count"])


def test_the_promise_memo_follows_every_file_the_job_reads(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(promises, "RACY_S", 0.0)  # trust fingerprints taken just now
    memo = PromiseCache()
    first = derive(ws, JOB, {"count": 2}, memo)
    assert memo.lookup(JOB, {"count": 2}) == Derived(first.run_id, first.inputs_hash)
    assert memo.lookup(JOB, None) is None  # params are part of the key
    context = ws.jobs / "_brands/sigilzero/context"
    doctrine = ws.jobs / "_brands/sigilzero/doctrine.md"
    changes = [
        lambda: (context / "06-new.md").write_text("cache audit provenance reproducible\n" * 9),
        lambda: doctrine.write_text(doctrine.read_text() + "One more rule.\n"),
        lambda: (context / "01-provenance.md").unlink(),
    ]
    seen = {first.run_id}
    for change in changes:
        change()
        assert memo.lookup(JOB, {"count": 2}) is None
        fresh = derive(ws, JOB, {"count": 2})
        assert derive(ws, JOB, {"count": 2}, memo) == fresh
        assert fresh.run_id not in seen
        seen.add(fresh.run_id)
    monkeypatch.setattr(promises, "RACY_S", 60.0)  # files younger than that are not trusted
    brief = ws.jobs / JOB / "brief.yaml"
    brief.write_text(brief.read_text().replace("count: 3", "count: 4"))
    derive(ws, JOB, None, memo)
    assert memo.lookup(JOB, None) is None


def test_an_unreachable_broker_is_named_without_its_password(ws: Workspace) -> None:
    from sigilctl.service.celery_queue import CeleryQueue
    from sigilctl.service.queue import QueueUnavailableError
    from sigilctl.service.tasks import TaskRecord

    password = "s3cret-broker-passw0rd"
    queue = CeleryQueue(ServiceSettings(f"redis://:{password}@127.0.0.1:1/0", ()))
    problem = queue.problem() or ""
    assert "127.0.0.1:1" in problem and "***" in problem and password not in problem
    record = TaskRecord(queue_job_id="t", job_id=JOB, run_id="r" * 32, inputs_hash="h" * 64)
    with pytest.raises(QueueUnavailableError) as refused:
        queue.enqueue(record)
    assert password not in str(refused.value)
    queue.stop(0)
