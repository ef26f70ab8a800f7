"""The delivery worker's loop for the service: poll the outbox, and wake at once when this instance
has just stored an escalation, so a post does not wait out the idle interval.

Polling stays: acknowledgements, re-notifications and other instances' rows only reach the outbox
through the database."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from bot.delivery import DeliveryWorker

log = logging.getLogger(__name__)


async def delivery_loop(
    worker: DeliveryWorker, stop: asyncio.Event, wake: asyncio.Event, idle_seconds: float
) -> None:
    while not stop.is_set():
        wake.clear()
        try:
            busy = await worker.run_once() > 0
        except Exception as exc:  # a database or Slack blip must not end delivery for good
            log.error("delivery pass failed: error=%s", type(exc).__name__)
            busy = False
        if busy:
            continue
        stop_wait = asyncio.ensure_future(stop.wait())
        wake_wait = asyncio.ensure_future(wake.wait())
        try:
            await asyncio.wait(
                {stop_wait, wake_wait}, timeout=idle_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in (stop_wait, wake_wait):
                waiter.cancel()
                with suppress(asyncio.CancelledError):
                    await waiter
