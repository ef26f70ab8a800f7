"""The real service on loopback against the Slack emulator, for the tests/test_service_*.py files.

`running_service` starts `bot.app.build_service` on a database the `store` fixture prepared (SQLite
or PostgreSQL), with every timing shortened; requests go over real HTTP, signed like the platforms."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp

from bot import webhook_signing as sign
from bot.app import Service, Tuning, build_service
from bot.config import Settings
from bot.delivery import METADATA_EVENT_TYPE
from bot.slack_emulator import SlackEmulator, StoredMessage
from bot.store import Store

CHANNEL = "C0SAFE"
LEAD, OTHER_LEAD, STAFF = "U0LEAD0001", "U0LEAD0002", "U0STAFF001"
LEADS = (LEAD, OTHER_LEAD)
SLACK_TOKEN = "xoxb-test"
SLACK_SECRET = "s3cret"  # the conftest `emu` fixture signs with this
WEBHOOK_SECRET = "generic-secret"
DISCOURSE_SECRET = "discourse-secret"
TWILIO_TOKEN = "twilio-token"
PUBLIC_URL = "https://relay.example.org"

FAST = Tuning(
    delivery_idle_seconds=0.05,
    per_channel_interval=0.0,
    retry_wait_seconds=0.01,
    backoff_seconds=0.05,
    defer_seconds=0.05,
    lease_seconds=2.0,
    renotify_interval_seconds=0.05,
    shutdown_timeout_seconds=2.0,
)

# Invented, obviously fictional identity values; tests scan logs and Slack for each of them.
IDENTITY = {
    "name": "Zephyrine Quackenbush",
    "phone": "07700 900461",
    "email": "zephyrine.q@example.org",
    "ip_address": "203.0.113.77",
    "date_of_birth": "2011-02-29",
    "location": "Flat 9 Puddingstone Lane",
}
CRISIS_TEXT = "I have taken all of my pills tonight and I want to die. My number is 07700 900461"


def database_url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def settings_for(store: Store, emu: SlackEmulator, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url(store),
        "host": "127.0.0.1",
        "port": 0,
        "slack_bot_token": SLACK_TOKEN,
        "slack_signing_secret": SLACK_SECRET,
        "slack_api_url": emu.api_url,
        "slack_channel": CHANNEL,
        "slack_leads": LEADS,
        "ack_timeout_seconds": 300,
        "webhook_secret": WEBHOOK_SECRET,
        "discourse_secret": DISCOURSE_SECRET,
        "twilio_auth_token": TWILIO_TOKEN,
        "public_url": PUBLIC_URL,
        "chatbot_authors": ("helperbot",),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def generic_payload(message_id: str, text: str = CRISIS_TEXT, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "message_id": message_id,
        "platform": "webchat",
        "channel": "counselling",
        "conversation_id": "c-9",
        "author": {"id": "u-77", "kind": "young_person", "display_name": "sky_blue"},
        "text": text,
        "sent_at": "2026-11-24T10:00:00Z",
        "identity": dict(IDENTITY),
        "link": "https://chat.example.org/conversations/c-9",
    }
    payload.update(fields)
    return payload


def discourse_payload(post_id: int, text: str = CRISIS_TEXT, username: str = "moonpie") -> dict[str, Any]:
    return {
        "post": {
            "id": post_id,
            "topic_id": 4242,
            "post_number": 3,
            "username": username,
            "user_id": 901,
            "name": IDENTITY["name"],
            "raw": text,
            "created_at": "2026-11-24T10:00:00Z",
            "topic_slug": "a-hard-week",
        }
    }


def twilio_params(sid: str, text: str = CRISIS_TEXT) -> list[tuple[str, str]]:
    return [
        ("EventType", "onMessageAdded"),
        ("MessageSid", sid),
        ("ConversationSid", "CH00000000000000000000000000000001"),
        ("Author", "+447700900461"),
        ("ParticipantSid", "MB00000000000000000000000000000001"),
        ("DateCreated", "2026-11-24T10:00:00Z"),
        ("Body", text),
    ]


@dataclass
class Running:
    service: Service
    emu: SlackEmulator
    http: aiohttp.ClientSession

    @property
    def slack_events_url(self) -> str:
        return self.service.url + "/slack/events"

    async def post(self, request: sign.SignedRequest) -> tuple[int, Any]:
        async with self.http.post(
            self.service.url + request.path, data=request.body, headers=request.headers
        ) as resp:
            body = await resp.text()
            try:
                return resp.status, await resp.json(content_type=None)
            except ValueError:
                return resp.status, body

    async def generic(self, message_id: str, text: str = CRISIS_TEXT, **fields: Any) -> tuple[int, Any]:
        return await self.post(sign.generic(WEBHOOK_SECRET, generic_payload(message_id, text, **fields)))

    def escalation_posts(self) -> list[StoredMessage]:
        return self.emu.messages_with_metadata(METADATA_EVENT_TYPE, CHANNEL)

    def post_for(self, escalation_id: str) -> StoredMessage:
        [message] = [
            m
            for m in self.escalation_posts()
            if m.metadata and m.metadata["event_payload"]["escalation_id"] == escalation_id
        ]
        return message


async def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """The emulator records state but exposes no event to wait on, so poll it."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def wait_for_async(condition: Callable[[], Any], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running_service(
    store: Store, emu: SlackEmulator, *, tuning: Tuning = FAST, **overrides: Any
) -> AsyncIterator[Running]:
    settings = settings_for(store, emu, **overrides)
    async with build_service(settings, tuning=tuning) as service, aiohttp.ClientSession() as http:
        yield Running(service, emu, http)


def tuned(**changes: Any) -> Tuning:
    return replace(FAST, **changes)
