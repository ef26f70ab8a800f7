"""Bolt listener middleware: resolve who clicked what once, and decide on the server who may reveal.

Both run before the listener's ack(), so they do no I/O: parsing and a set lookup only.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

Next = Callable[[], Awaitable[None]]
Middleware = Callable[..., Awaitable[BoltResponse | None]]

_CLICK_KEY = "safeguard_click"
_REVEAL_KEY = "safeguard_reveal_allowed"


@dataclass(frozen=True, slots=True)
class Click:
    """A button click on an escalation message, as the handlers need it."""

    escalation_id: str
    user_id: str
    channel_id: str
    message_ts: str | None


def parse_click(body: dict[str, Any]) -> Click | None:
    """The first action of a block_actions payload, or None when the payload lacks what we need."""
    actions = body.get("actions") or []
    user = body.get("user") or {}
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    if not actions or not isinstance(actions[0], dict):
        return None
    escalation_id = actions[0].get("value")
    user_id = user.get("id")
    channel_id = channel.get("id") or container.get("channel_id")
    if not (isinstance(escalation_id, str) and escalation_id and user_id and channel_id):
        return None
    return Click(escalation_id, str(user_id), str(channel_id), container.get("message_ts"))


async def resolve_click(body: dict[str, Any], context: AsyncBoltContext, next: Next) -> BoltResponse | None:
    click = parse_click(body)
    if click is None:
        # Not something our buttons send; answer so Slack does not retry, and run no handler.
        return BoltResponse(status=400, body="")
    context[_CLICK_KEY] = click
    await next()
    return None


def current_click(context: AsyncBoltContext) -> Click:
    click = context.get(_CLICK_KEY)
    if not isinstance(click, Click):
        raise RuntimeError("resolve_click middleware did not run for this listener")
    return click


def authorise_reveal(leads: Iterable[str]) -> Middleware:
    """Decide from the server's own list of leads (never from the payload) whether this click may reveal.

    The decision is recorded in the context rather than stopping the request: a refused reveal must
    still be acknowledged, recorded and answered, which the handler does after ack()."""
    allowed = frozenset(leads)

    async def authorise(context: AsyncBoltContext, next: Next) -> BoltResponse | None:
        context[_REVEAL_KEY] = current_click(context).user_id in allowed
        await next()
        return None

    return authorise


def reveal_allowed(context: AsyncBoltContext) -> bool:
    # Fail closed: if the authorisation middleware somehow did not run, nobody may reveal.
    return context.get(_REVEAL_KEY) is True
