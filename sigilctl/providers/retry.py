"""Bounded retries for network providers: exponential backoff with jitter, Retry-After, a deadline.

Our own loop rather than the HTTP client's: it counts attempts for the manifest
(``provider.attempts``) and bounds the whole call by one deadline, so an operator knows the
worst case before starting a run: ``(max_retries + 1) * timeout + max_retries * MAX_WAIT``.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sigilctl.errors import InputError

T = TypeVar("T")

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 3
MAX_RETRIES_LIMIT = 10
BASE_DELAY = 0.5
MAX_BACKOFF = 8.0
MAX_WAIT = 20.0  # the longest single wait, Retry-After included


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES

    @property
    def budget(self) -> float:
        """The deadline: no call outlives this many seconds, whatever the server does."""
        return (self.max_retries + 1) * self.timeout + self.max_retries * MAX_WAIT


class Retryable(Exception):
    """One attempt failed in a way worth retrying (429, 5xx, timeout, connection error)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class GaveUp(Exception):
    """Every attempt failed, or the deadline left no room for another one."""

    def __init__(self, last: Retryable, attempts: int) -> None:
        super().__init__(last.reason)
        self.last = last
        self.attempts = attempts


def parse_policy(timeout: str | None, max_retries: str | None) -> RetryPolicy:
    """Read the policy from environment values, naming the variable when one is malformed."""
    from sigilctl import env

    seconds = DEFAULT_TIMEOUT
    if timeout is not None:
        try:
            seconds = float(timeout)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and 0 < seconds <= 3600):
            raise InputError(
                f"{env.SIGILCTL_OPENAI_TIMEOUT} must be a number of seconds between 0 and 3600, "
                f"not '{timeout}'"
            )
    retries = DEFAULT_MAX_RETRIES
    if max_retries is not None:
        if not max_retries.strip().isdigit() or int(max_retries) > MAX_RETRIES_LIMIT:
            raise InputError(
                f"{env.SIGILCTL_OPENAI_MAX_RETRIES} must be a whole number from 0 to "
                f"{MAX_RETRIES_LIMIT}, not '{max_retries}'"
            )
        retries = int(max_retries)
    return RetryPolicy(timeout=seconds, max_retries=retries)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a server asked us to wait (``retry-after-ms``, ``retry-after`` seconds or date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            delay = float(value) / divisor
        except ValueError:
            continue
        return delay if math.isfinite(delay) and delay >= 0 else None
    value = lowered.get("retry-after")
    if value:
        parsed = email.utils.parsedate_tz(value)
        if parsed is not None:
            delay = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
            return max(0.0, float(delay))
    return None


def backoff(attempt: int, rng: random.Random) -> float:
    """Wait after failed attempt number ``attempt`` (1-based): doubling, capped, 50–100 % jitter."""
    ceiling = min(MAX_BACKOFF, BASE_DELAY * 2.0 ** (attempt - 1))
    return ceiling * (0.5 + 0.5 * rng.random())


def call_with_retries(
    attempt_once: Callable[[float], T],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, Retryable, float], None] | None = None,
    on_attempt: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> tuple[T, int]:
    """Run ``attempt_once(timeout)`` until it returns; return its value and the attempt count.

    ``attempt_once`` raises Retryable for transient failures; anything else propagates at once.
    Raises GaveUp after the last attempt or when the deadline leaves no time to try again.
    ``on_attempt(n)`` is told as attempt n starts, ``on_retry`` before each wait.
    """
    rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
    deadline = clock() + policy.budget
    attempt = 0
    while True:
        attempt += 1
        if on_attempt is not None:
            on_attempt(attempt)
        remaining = deadline - clock()
        try:
            return attempt_once(max(0.001, min(policy.timeout, remaining))), attempt
        except Retryable as failure:
            if attempt > policy.max_retries:
                raise GaveUp(failure, attempt) from None
            wait = failure.retry_after if failure.retry_after is not None else backoff(attempt, rng)
            wait = min(wait, MAX_WAIT)
            if clock() + wait >= deadline:
                raise GaveUp(failure, attempt) from None
            if on_retry is not None:
                on_retry(attempt, failure, wait)
            sleep(wait)
