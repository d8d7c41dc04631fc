"""The webhook retry schedule (docs/events.md), with jitter and Retry-After."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Attempt 1 is immediate; after the n-th failure the next attempt waits RETRY_DELAYS[n-1].
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # ±10 %: spreads a recovering receiver's backlog instead of a thundering herd.
MAX_RETRY_AFTER = timedelta(hours=24)  # A receiver may ask us to wait, not to wait forever.
FAILURE_WINDOW = timedelta(days=5)  # An endpoint failing this long is disabled and its owner told.

Jitter = Callable[[], float]


def random_jitter() -> float:
    return random.uniform(1 - JITTER, 1 + JITTER)


def retry_delay(
    failed_attempts: int, retry_after: timedelta | None = None, jitter: Jitter = random_jitter
) -> timedelta | None:
    """Wait before the next attempt after `failed_attempts` failures; None when retries are exhausted."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[failed_attempts - 1] * jitter()
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))
