"""Leases that a running worker renews: the cross-machine run lock, and the queue message.

**Run lock.** ``flock`` serialises runs on one machine; across machines sharing an artifacts
tree (NFS) it does not hold. A Redis lock per run_id does: its value is a random token and its
lease (``SIGILCTL_LOCK_LEASE``, default 30 s) is renewed every third of the lease while the run
goes on, so a dead or frozen holder loses it within one lease. Fencing: right before publishing,
the runner calls the fence, which refuses unless the token is still ours in Redis *and* the last
renewal is recent enough that the lease cannot run out during the rename. A holder that was
paused or cut off therefore never publishes over a newer holder.

**Message visibility.** The Redis transport re-delivers a message that stays unacknowledged
longer than the visibility timeout, even while a worker still runs it. The worker re-stamps its
own message (the transport's ``unacked_index`` entry) every quarter of the timeout, so only the
message of a worker that died comes back, within one timeout.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sigilctl.errors import LeaseLostError
from sigilctl.logs import get_logger
from sigilctl.runner import Fence

if TYPE_CHECKING:
    import redis

log = get_logger("service")
UNACKED_INDEX = "unacked_index"  # kombu's Redis transport default key (under the prefix)


class _Lease:
    def __init__(self, lock: redis.lock.Lock, lease: float, name: str) -> None:
        self.lock = lock
        self.lease = lease
        self.name = name
        self.renewed_at = time.monotonic()
        self.lost = False
        self.stop = threading.Event()

    def renew_forever(self) -> None:
        from redis.exceptions import LockError, RedisError

        while not self.stop.wait(self.lease / 3):
            asked_at = time.monotonic()
            try:
                self.lock.reacquire()
            except LockError:
                self.lost = True
                log.warning("lost the run lock %s: another worker may hold it now", self.name)
                return
            except RedisError as exc:
                log.warning("could not renew the run lock %s (%s); retrying", self.name, exc)
                continue
            self.renewed_at = asked_at

    def fence(self) -> None:
        from redis.exceptions import RedisError

        age = time.monotonic() - self.renewed_at
        if self.lost or age > self.lease / 2:
            raise LeaseLostError(
                f"the run lock {self.name} was not renewed for {age:.0f} s: "
                "this worker no longer holds it, so it publishes nothing"
            )
        try:
            owned = self.lock.owned()
        except RedisError:
            owned = False
        if not owned:
            raise LeaseLostError(
                f"the run lock {self.name} is no longer held by this worker: it publishes nothing"
            )


@contextlib.contextmanager
def redis_run_lock(
    client: redis.Redis, prefix: str, lease: float, job_id: str, run_id: str
) -> Iterator[Fence]:
    """Hold ``run_id``'s cross-machine lock (waiting for another holder), renewing its lease."""
    name = f"{prefix}lock:{run_id}"
    lock = client.lock(name, timeout=lease, sleep=0.1, blocking=True, thread_local=False)
    lock.acquire()
    held = _Lease(lock, lease, name)
    renewer = threading.Thread(target=held.renew_forever, name="run-lock-lease", daemon=True)
    renewer.start()
    try:
        yield held.fence
    finally:
        held.stop.set()
        renewer.join()
        with contextlib.suppress(Exception):
            lock.release()  # a lost lease is simply not ours to release


@contextlib.contextmanager
def message_visibility(
    client: redis.Redis, prefix: str, timeout: float, delivery_tag: str | None
) -> Iterator[None]:
    """Re-stamp this delivery in the transport's unacked index until the task ends."""
    if not delivery_tag:
        yield
        return
    from redis.exceptions import RedisError

    key = f"{prefix}{UNACKED_INDEX}"
    stop = threading.Event()

    def restamp() -> None:
        while not stop.wait(timeout / 4):
            try:
                client.zadd(key, {delivery_tag: time.time()}, xx=True)
            except RedisError as exc:
                log.warning("could not renew the queue message's visibility (%s)", exc)

    thread = threading.Thread(target=restamp, name="message-visibility", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
