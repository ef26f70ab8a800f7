"""The re-notify scheduler: an escalation nobody acknowledges is raised again, and again.

Timers live in the escalations table (next_renotify_at), so they survive restarts, and firing one
is a conditional update on its old value, so several instances never fire the same step twice.
Slack delivery is the outbox worker's job; this module only decides who hears what, and when."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store import OutboxKind, Store
from bot.store import renotify as timers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One step of the chain: who to tell, and how long to wait before the next step."""

    thread_reply: bool
    dm_leads: tuple[str, ...]
    wait: timedelta


def chain_step(count: int, *, timeout: timedelta, leads: tuple[str, ...]) -> ChainStep:
    """The escalation chain, in one place so it can become data later. `count` is how many
    re-notifications were already sent. Today every step is the same: mention the leads in the
    thread, DM each of them, wait one timeout."""
    return ChainStep(thread_reply=True, dm_leads=leads, wait=timeout)


class RenotifyScheduler:
    def __init__(
        self,
        store: Store,
        *,
        timeout_seconds: float,
        leads: tuple[str, ...],
        batch_size: int = 100,
        chain: Callable[..., ChainStep] = chain_step,
    ) -> None:
        self._store = store
        self._timeout = timedelta(seconds=timeout_seconds)
        self._leads = leads
        self._batch_size = batch_size
        self._chain = chain

    async def run_once(self, now: datetime | None = None) -> int:
        """Fire every due timer; return how many escalations were re-notified by this call."""
        now = now or datetime.now(UTC)
        fired = 0
        for timer in await timers.due(self._store.engine, now, self._batch_size):
            step = self._chain(timer.renotify_count, timeout=self._timeout, leads=self._leads)
            deliveries: list[tuple[OutboxKind, str | None]] = []
            # The thread reply needs the post's ts; until the post is delivered only the DMs go.
            if step.thread_reply and timer.posted:
                deliveries.append((OutboxKind.RENOTIFY_REPLY, None))
            deliveries.extend((OutboxKind.RENOTIFY_DM, lead) for lead in step.dm_leads)
            next_at = timer.next_renotify_at + step.wait
            if next_at <= now:
                # After downtime, one nudge now rather than a burst for every missed step.
                next_at = now + step.wait
            if await timers.fire(self._store.engine, timer, now=now, next_at=next_at, deliveries=deliveries):
                fired += 1
                log.info(
                    "escalation re-notified: escalation=%s count=%d deliveries=%d",
                    timer.escalation_id,
                    timer.renotify_count + 1,
                    len(deliveries),
                )
        return fired

    async def run_forever(self, stop_event: asyncio.Event, interval_seconds: float = 5.0) -> None:
        while not stop_event.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # a database blip must not stop re-notification for good
                log.error("re-notify pass failed: error=%s", type(exc).__name__)
            try:
                await asyncio.wait_for(stop_event.wait(), timeout=interval_seconds)
            except TimeoutError:
                pass
