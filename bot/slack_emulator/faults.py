"""Failure modes the emulator can be told to produce, so clients can be tested against them.

Kept apart from the server so the decision "should this call fail, and how" is plain data.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ANY_METHOD = "*"

# Body `error` strings Slack's edge uses for non-200 answers.
STATUS_ERRORS: dict[int, str] = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass
class Fault:
    """Answer the next `remaining` calls of `method` with `status` (and `error` in the body)."""

    method: str
    status: int
    error: str
    retry_after: int | None
    remaining: int

    def matches(self, method: str) -> bool:
        return self.remaining > 0 and self.method in (method, ANY_METHOD)


@dataclass
class CommitFault:
    """Let the call take effect, then answer `status` (or drop the connection) instead of the result."""

    method: str
    status: int
    drop: bool
    remaining: int


OutageMode = Literal["503", "drop"]


class FaultPlan:
    """Pending injected failures, consumed first-in first-out per method."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._commit_faults: list[CommitFault] = []
        self.outage: OutageMode | None = None

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def add_commit(self, fault: CommitFault) -> None:
        self._commit_faults.append(fault)

    def take(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def take_commit(self, method: str) -> CommitFault | None:
        for fault in self._commit_faults:
            if fault.remaining > 0 and fault.method in (method, ANY_METHOD):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._commit_faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()
        self._commit_faults.clear()
        self.outage = None


class ChannelRateLimiter:
    """Slack's "about one message per second per channel" limit on chat.postMessage.

    A minimum interval per channel (a token bucket of size one): strict enough to be hit by
    a burst in a test, simple enough that the Retry-After it reports is exact.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second: float | None = None
        self._clock = clock
        self._last: dict[str, float] = {}

    def check(self, channel: str) -> int | None:
        """Record a post and return None, or return the whole seconds to wait (Retry-After)."""
        if not self.per_second:
            return None
        now = self._clock()
        interval = 1.0 / self.per_second
        last = self._last.get(channel)
        if last is not None and now - last < interval:
            return max(1, math.ceil(interval - (now - last)))
        self._last[channel] = now
        return None
