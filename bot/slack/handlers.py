"""What happens after a click on an escalation's buttons. Every handler acks first (Slack's 3 s
deadline) and works after; answers go back as ephemerals so the channel message stays the record."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.middleware import Click, current_click, parse_click, reveal_allowed
from bot.slack.views import ChatKwargs, Renderer
from bot.store.records import EscalationRecord

# Log lines carry escalation ids and outcomes only: never message text, identity values or payloads.
log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class EscalationStore(Protocol):
    """The part of bot.store's Store the Slack handlers use."""

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None: ...

    async def acknowledge(self, escalation_id: str, user_id: str, at: datetime) -> bool: ...

    async def reveal(self, escalation_id: str, user_id: str, allowed: bool) -> dict[str, str] | None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class EscalationActions:
    """Listeners for the escalation buttons, bound to one store and renderer."""

    def __init__(self, store: EscalationStore, renderer: Renderer, clock: Clock = utc_now) -> None:
        self._store = store
        self._renderer = renderer
        self._clock = clock

    async def on_ack(self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient) -> None:
        await ack()
        click = current_click(context)
        await self._guarded(self._acknowledge(click, client), click, client)

    async def on_reveal(self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient) -> None:
        await ack()
        click = current_click(context)
        await self._guarded(self._reveal(click, reveal_allowed(context), client), click, client)

    async def on_error(self, error: Exception, body: dict[str, Any]) -> None:
        """Bolt's listener error handler, a backstop for failures outside `_guarded` (bolt's default
        would log the exception text)."""
        click = parse_click(body)
        extra = {"error_type": type(error).__name__, "escalation_id": click.escalation_id if click else None}
        log.error("slack action failed", extra=extra)

    async def _acknowledge(self, click: Click, client: AsyncWebClient) -> None:
        esc = await self._store.get_escalation(click.escalation_id)
        if esc is None:
            await self._ephemeral(client, click, self._renderer.not_found_ephemeral(click.escalation_id))
            return
        # The store enqueues the chat.update and thread reply in the same transaction as the ack, so
        # the delivery worker posts them even if Slack is down right now; here we only confirm.
        changed = await self._store.acknowledge(click.escalation_id, click.user_id, at=self._clock())
        if changed:
            log.info("escalation acknowledged", extra={"escalation_id": click.escalation_id})
            await self._ephemeral(client, click, self._renderer.acknowledged_ephemeral(esc))
            return
        # Re-read: the record we hold may predate whoever acknowledged it a moment ago.
        current = await self._store.get_escalation(click.escalation_id) or esc
        await self._ephemeral(client, click, self._renderer.already_acknowledged_ephemeral(current))

    async def _reveal(self, click: Click, allowed: bool, client: AsyncWebClient) -> None:
        esc = await self._store.get_escalation(click.escalation_id)
        if esc is None:
            await self._ephemeral(client, click, self._renderer.not_found_ephemeral(click.escalation_id))
            return
        # The store records the attempt either way: every reveal and every refused reveal is on file.
        values = await self._store.reveal(click.escalation_id, click.user_id, allowed=allowed)
        log.info("escalation reveal", extra={"escalation_id": click.escalation_id, "allowed": allowed})
        if not allowed:
            await self._ephemeral(client, click, self._renderer.reveal_refused_ephemeral(esc))
        elif values is None:
            await self._ephemeral(client, click, self._renderer.not_found_ephemeral(click.escalation_id))
        else:
            # Ephemeral to the clicking lead only: the one place raw identity values go.
            await self._ephemeral(client, click, self._renderer.reveal_ephemeral(esc, values))

    async def _guarded(self, work: Awaitable[None], click: Click, client: AsyncWebClient) -> None:
        """Run the post-ack work; on failure log only the error's type (its text could quote stored
        values) and tell the clicker, since a silently failed acknowledgement could leave a young
        person waiting. Handled here rather than by bolt, whose error path after ack() can turn the
        already-sent acknowledgement into a 404."""
        try:
            await work
        except Exception as error:
            extra = {"error_type": type(error).__name__, "escalation_id": click.escalation_id}
            log.error("slack action failed", extra=extra)
            await self._ephemeral(client, click, self._renderer.error_ephemeral())

    async def _ephemeral(self, client: AsyncWebClient, click: Click, kwargs: ChatKwargs) -> None:
        try:
            await client.chat_postEphemeral(channel=click.channel_id, user=click.user_id, **kwargs)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            # Only Slack's error code: the exception text quotes Slack's whole answer. The click is
            # already recorded, so a lost confirmation is logged rather than raised.
            response = getattr(error, "response", None)
            code: Any = response.get("error") if isinstance(error, SlackApiError) and response else None
            extra = {"escalation_id": click.escalation_id, "slack_error": code}
            log.warning("ephemeral not delivered", extra=extra)
