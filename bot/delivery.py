"""The outbox delivery worker: turns queued rows into Slack calls, at most once per escalation post.

How "never post the same escalation twice" holds:
- every row is worked under a database lease, fenced again just before each request leaves;
- just before a post leaves, the row records `attempted_at`; any later attempt at a row that may
  have reached Slack (timeout, 5xx, dropped connection, crash) first looks for the escalation's
  metadata in conversations.history and adopts the message it finds instead of posting again;
- only answers that prove Slack did nothing (429, or an ok:false answer) are retried blindly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.slack.clients import quiet_client
from bot.store import EscalationRecord, EscalationStatus, OutboxItem, OutboxKind, OutboxStatus, Store
from bot.store import outbox as box

log = logging.getLogger(__name__)

METADATA_EVENT_TYPE = "safeguard_escalation"
# Slack's own edge answers these with ok:false; they mean "try again", not "you are wrong".
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "bad_gateway"}
)
# Looking back this far before the row was created covers clock skew between us and Slack.
RECONCILE_LOOKBACK = timedelta(seconds=60)
RECONCILE_MAX_PAGES = 20

Chat = dict[str, Any]


class Renderer(Protocol):
    """Pure Block Kit builders (bot/slack/views.py): each returns chat.* kwargs such as text/blocks."""

    def escalation_message(self, esc: EscalationRecord) -> Chat: ...
    def acknowledged_message(self, esc: EscalationRecord) -> Chat: ...
    def ack_thread_reply(self, esc: EscalationRecord) -> Chat: ...
    def renotify_thread_reply(self, esc: EscalationRecord, leads: tuple[str, ...]) -> Chat: ...
    def renotify_dm(self, esc: EscalationRecord) -> Chat: ...


class _LeaseLost(Exception):
    """Another worker holds the row now; it will finish the job."""


class _RetryLater(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Permanent(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _slack_status(exc: SlackApiError) -> int:
    return int(getattr(exc.response, "status_code", 200) or 200)


def _slack_error(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return str(error or "unknown_error")[:64]


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, SlackApiError):
        status = _slack_status(exc)
        return status == 429 or status >= 500 or _slack_error(exc) in TRANSIENT_ERRORS
    return isinstance(exc, aiohttp.ClientError | TimeoutError | OSError | SlackClientError)


def proves_not_sent(exc: BaseException) -> bool:
    """True only when Slack answered and the answer says the call had no effect."""
    return isinstance(exc, SlackApiError) and _slack_status(exc) < 500


def error_code(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        status = _slack_status(exc)
        return _slack_error(exc) if status < 500 else f"http_{status}"
    return type(exc).__name__[:64]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        *,
        channel: str,
        leads: tuple[str, ...],
        renderer: Renderer,
        worker_id: str,
        per_channel_interval: float = 1.0,
        lease_seconds: float = 120.0,
        batch_size: int = 20,
        max_tries: int = 4,
        retry_wait_seconds: float = 0.5,
        max_retry_wait_seconds: float = 30.0,
        backoff_seconds: float = 2.0,
        max_backoff_seconds: float = 300.0,
        defer_seconds: float = 2.0,
        idle_seconds: float = 1.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        # slack_sdk's own connection-error retry would resend a post that may already have landed,
        # bypassing the reconcile step, so it is off; the quiet logger keeps bodies out of the logs.
        self._client = quiet_client(client, retry_handlers=[])
        self._channel = channel
        self._leads = leads
        self._renderer = renderer
        self._worker_id = worker_id
        self._interval = per_channel_interval
        self._lease = timedelta(seconds=lease_seconds)
        self._batch_size = batch_size
        self._max_tries = max_tries
        self._retry_wait = retry_wait_seconds
        self._max_retry_wait = max_retry_wait_seconds
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._defer = timedelta(seconds=defer_seconds)
        self._idle = idle_seconds
        self._clock = clock
        self._last_send: dict[str, float] = {}

    # -- loop -----------------------------------------------------------------------------------

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        while not stop_event.is_set():
            try:
                busy = await self.run_once() > 0
            except Exception as exc:  # a database blip must not end delivery for good
                log.error("delivery pass failed: worker=%s error=%s", self._worker_id, type(exc).__name__)
                busy = False
            if not busy:
                try:
                    await asyncio.wait_for(stop_event.wait(), timeout=self._idle)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        """Claim due rows and work them; return how many were delivered."""
        items = await box.claim(
            self._store.engine, self._worker_id, self._clock(), self._lease, self._batch_size
        )
        delivered = 0
        for item in items:
            if await self._work(item):
                delivered += 1
        return delivered

    async def _work(self, item: OutboxItem) -> bool:
        try:
            esc = await self._store.get_escalation(item.escalation_id)
            if esc is None:
                raise _Permanent("escalation_missing")
            return await self._deliver(item, esc)
        except _LeaseLost:
            log.info("outbox lease lost: row=%d worker=%s", item.id, self._worker_id)
        except _Permanent as exc:
            await self._fail(item, exc.code)
        except _RetryLater as exc:
            await self._retry_later(item, exc.code)
        except SlackApiError as exc:
            if is_transient(exc):
                await self._retry_later(item, error_code(exc))
            else:
                await self._fail(item, error_code(exc))
        except (aiohttp.ClientError, TimeoutError, OSError, SlackClientError) as exc:
            await self._retry_later(item, error_code(exc))
        return False

    async def _fail(self, item: OutboxItem, code: str) -> None:
        if await box.fail(self._store.engine, item, self._worker_id, self._clock(), code):
            log.error(
                "delivery failed permanently: row=%d escalation=%s kind=%s error=%s",
                item.id,
                item.escalation_id,
                item.kind.value,
                code,
            )

    async def _retry_later(self, item: OutboxItem, code: str) -> None:
        delay = min(self._max_backoff, self._backoff * 2 ** min(item.attempts - 1, 16))
        log.warning(
            "delivery will retry: row=%d escalation=%s kind=%s error=%s in=%.1fs",
            item.id,
            item.escalation_id,
            item.kind.value,
            code,
            delay,
        )
        await box.retry_later(
            self._store.engine, item, self._worker_id, self._clock() + timedelta(seconds=delay), code
        )

    # -- per kind -------------------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem, esc: EscalationRecord) -> bool:
        if item.kind is OutboxKind.POST:
            return await self._post(item, esc)
        if (
            item.kind in (OutboxKind.RENOTIFY_REPLY, OutboxKind.RENOTIFY_DM)
            and esc.status is not EscalationStatus.OPEN
        ):
            # Acknowledged while this waited: a "still unacknowledged" nudge would now be wrong.
            await box.complete(self._store.engine, item, self._clock(), error="superseded")
            return False
        if item.kind is OutboxKind.RENOTIFY_DM:
            return await self._dm(item, esc)
        if esc.slack_ts is None or esc.slack_channel is None:
            return await self._wait_for_post(item)
        if item.kind is OutboxKind.ACK_UPDATE:
            rendered = self._renderer.acknowledged_message(esc)
            await self._send(item, esc.slack_channel, "chat_update", {**rendered, "ts": esc.slack_ts})
        elif item.kind is OutboxKind.ACK_REPLY:
            rendered = self._renderer.ack_thread_reply(esc)
            await self._send(
                item, esc.slack_channel, "chat_postMessage", {**rendered, "thread_ts": esc.slack_ts}
            )
        else:
            rendered = self._renderer.renotify_thread_reply(esc, self._leads)
            await self._send(
                item, esc.slack_channel, "chat_postMessage", {**rendered, "thread_ts": esc.slack_ts}
            )
        return await box.complete(self._store.engine, item, self._clock())

    async def _wait_for_post(self, item: OutboxItem) -> bool:
        """Thread replies and the ack update need the post's ts; wait for it unless it cannot come."""
        if await box.post_status(self._store.engine, item.escalation_id) is OutboxStatus.FAILED:
            raise _Permanent("post_failed")
        await box.retry_later(self._store.engine, item, self._worker_id, self._clock() + self._defer, None)
        return False

    async def _dm(self, item: OutboxItem, esc: EscalationRecord) -> bool:
        if not item.target:
            raise _Permanent("missing_target")
        opened = await self._call(item, lambda: self._client.conversations_open(users=item.target))
        dm_channel = opened["channel"]["id"]
        await self._send(item, dm_channel, "chat_postMessage", self._renderer.renotify_dm(esc))
        return await box.complete(self._store.engine, item, self._clock())

    async def _post(self, item: OutboxItem, esc: EscalationRecord) -> bool:
        if esc.slack_ts is not None:  # already posted and recorded; only the row was left behind
            await box.complete(self._store.engine, item, self._clock())
            return True
        maybe_sent = item.attempted_at is not None
        metadata = {"event_type": METADATA_EVENT_TYPE, "event_payload": {"escalation_id": esc.id}}
        async for attempt in self._retrying():
            with attempt:
                if maybe_sent:
                    found = await self._find_posted(esc.id, item.created_at)
                    if found is not None:
                        return await self._posted(item, found, reconciled=True)
                await self._fence(item)
                before, maybe_sent = maybe_sent, True
                try:
                    await self._pace(self._channel)
                    response = await self._client.chat_postMessage(
                        **{
                            **self._renderer.escalation_message(esc),
                            "channel": self._channel,
                            "metadata": metadata,
                        }
                    )
                except Exception as exc:
                    if proves_not_sent(exc):
                        maybe_sent = before
                    raise
                return await self._posted(
                    item,
                    str(response["ts"]),
                    reconciled=False,
                    channel=str(response.get("channel") or self._channel),
                )
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _posted(
        self, item: OutboxItem, ts: str, *, reconciled: bool, channel: str | None = None
    ) -> bool:
        where = channel or self._channel
        detail = {"channel": where, "ts": ts, "reconciled": reconciled}
        done = await box.complete(
            self._store.engine, item, self._clock(), posted=(where, ts), event=("posted", detail)
        )
        log.info(
            "escalation posted: escalation=%s row=%d reconciled=%s", item.escalation_id, item.id, reconciled
        )
        return done

    async def _find_posted(self, escalation_id: str, created_at: datetime) -> str | None:
        """The ts of our earlier post of this escalation, if one landed."""
        oldest = f"{(created_at - RECONCILE_LOOKBACK).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(RECONCILE_MAX_PAGES):
            page = await self._client.conversations_history(
                channel=self._channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
            for message in page.get("messages", []):
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if (
                    meta.get("event_type") == METADATA_EVENT_TYPE
                    and payload.get("escalation_id") == escalation_id
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        # Could not read far enough to be sure: posting now might duplicate, so try again later.
        raise _RetryLater("reconcile_incomplete")

    # -- plumbing -------------------------------------------------------------------------------

    async def _send(self, item: OutboxItem, channel: str, method: str, kwargs: Chat) -> Any:
        call = getattr(self._client, method)

        async def once() -> Any:
            await self._fence(item)
            await self._pace(channel)
            return await call(**{**kwargs, "channel": channel})

        return await self._call(item, once)

    async def _call(self, item: OutboxItem, fn: Callable[[], Any]) -> Any:
        async for attempt in self._retrying():
            with attempt:
                return await fn()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _fence(self, item: OutboxItem) -> None:
        if not await box.mark_attempted(
            self._store.engine, item.id, self._worker_id, self._clock(), self._lease
        ):
            raise _LeaseLost()

    async def _pace(self, channel: str) -> None:
        """Keep each channel under ~1 message a second (Slack's posting limit)."""
        last = self._last_send.get(channel)
        now = time.monotonic()
        if last is not None and now - last < self._interval:
            await asyncio.sleep(self._interval - (now - last))
        self._last_send[channel] = time.monotonic()

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self._max_tries),
            wait=self._wait,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, SlackApiError) and _slack_status(exc) == 429:
            headers = getattr(exc.response, "headers", None) or {}
            retry_after = headers.get("Retry-After") or headers.get("retry-after")
            try:
                return min(self._max_retry_wait, float(retry_after))
            except (TypeError, ValueError):
                pass
        base = self._retry_wait * 2 ** (state.attempt_number - 1)
        return min(self._max_retry_wait, base * (0.5 + random.random() / 2))
