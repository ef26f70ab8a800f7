"""The escalation buttons end to end: signed clicks from the Slack emulator over loopback HTTP to the
bolt app mounted on aiohttp, answers through the real slack_sdk client back to the emulator."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.actions import ActionId
from bot.slack.app import build_bolt_app, mount
from bot.slack.views import Renderer
from bot.slack_emulator import Ephemeral, SlackEmulator, sign_request
from bot.store.records import EscalationRecord, EscalationStatus, TimelineEvent
from policy.types import Category, Channel, Indicator, Severity, SuggestedAction

SECRET = "s"
CHANNEL = "C0SAFE"
LEAD, OTHER_LEAD, STAFF, OTHER_STAFF = "U0LEAD0001", "U0LEAD0002", "U0STAFF001", "U0STAFF002"
RAW_IDENTITY = {"name": "Robin Example", "phone": "07700 900123"}
NOW = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)


class FakeStore:
    """In-memory stand-in with the same methods, semantics and audit events as bot.store's Store."""

    def __init__(self) -> None:
        self.escalations: dict[str, EscalationRecord] = {}
        self.identities: dict[str, dict[str, str]] = {}
        self.events: dict[str, list[TimelineEvent]] = {}

    def add(self, esc: EscalationRecord, identity: dict[str, str]) -> None:
        self.escalations[esc.id] = esc
        self.identities[esc.id] = dict(identity)
        self.events[esc.id] = [TimelineEvent("created", esc.created_at)]

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        return self.escalations.get(escalation_id)

    async def acknowledge(self, escalation_id: str, user_id: str, at: datetime) -> bool:
        esc = self.escalations.get(escalation_id)
        if esc is None:
            return False
        if esc.status is not EscalationStatus.OPEN:
            await self.record_event(escalation_id, "ack_repeat", user_id)
            return False
        self.escalations[escalation_id] = replace(
            esc, status=EscalationStatus.ACKNOWLEDGED, acknowledged_by=user_id, acknowledged_at=at
        )
        await self.record_event(escalation_id, "acknowledged", user_id)
        return True

    async def reveal(self, escalation_id: str, user_id: str, allowed: bool) -> dict[str, str] | None:
        if escalation_id not in self.escalations:
            return None
        fields = sorted(self.identities[escalation_id])
        await self.record_event(escalation_id, "reveal" if allowed else "reveal_refused", user_id,
                                {"fields": fields})
        return dict(self.identities[escalation_id]) if allowed else None

    async def record_event(
        self, escalation_id: str, kind: str, actor: str | None = None, detail: dict | None = None
    ) -> None:
        self.events[escalation_id].append(TimelineEvent(kind, NOW, actor, detail or {}))

    async def timeline(self, escalation_id: str) -> list[TimelineEvent]:
        return list(self.events.get(escalation_id, []))


def make_record(escalation_id: str = "esc-1") -> EscalationRecord:
    return EscalationRecord(
        id=escalation_id,
        status=EscalationStatus.OPEN,
        categories=(Category.LIFE_IN_DANGER,),
        severity=Severity.CRITICAL,
        platform="webchat",
        channel=Channel.COUNSELLING,
        conversation_id="c-9",
        message_id="m-1",
        link="https://chat.example.org/conversations/c-9",
        redacted_text="I'm [NAME], I have taken all my pills, ring [PHONE] <!channel>",
        indicators=(Indicator("overdose_taken", 10, 30),),
        actions=(SuggestedAction("call-999", "Call 999 if there is an immediate risk"),),
        masked_identity={"name": "R••••", "phone": "•••• ••• •123"},
        prior_escalations=0,
        policy_version="test",
        created_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
    )


@dataclass
class Harness:
    emu: SlackEmulator
    store: FakeStore
    app_url: str
    message_ts: str

    async def click(self, action: ActionId, user_id: str, value: str = "esc-1") -> tuple[int, str]:
        return await self.emu.click_button(
            self.app_url, action_id=action.value, value=value, user_id=user_id,
            channel_id=CHANNEL, message_ts=self.message_ts,
        )

    async def next_ephemeral(self, seen: int) -> Ephemeral:
        """Bolt acks first and answers in the background, so wait for the ephemeral to arrive."""
        await wait_for(lambda: len(self.emu.ephemerals) > seen)
        assert len(self.emu.ephemerals) == seen + 1
        return self.emu.ephemerals[seen]


async def wait_for(condition: Callable[[], bool]) -> None:
    # Polling: the emulator records state but exposes no event to wait on.
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    store = FakeStore()
    store.add(make_record(), RAW_IDENTITY)
    async with SlackEmulator(bot_token="xoxb-test", signing_secret=SECRET) as emu:
        client = AsyncWebClient(token="xoxb-test", base_url=emu.api_url)
        bolt_app = build_bolt_app(signing_secret=SECRET, client=client, store=store,
                                  leads=(LEAD, OTHER_LEAD), clock=lambda: NOW)
        app = web.Application()
        mount(app, bolt_app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        # Post the escalation as the delivery worker would, so the buttons exist on a real message.
        message = Renderer().escalation_message(make_record())
        posted = await client.chat_postMessage(channel=CHANNEL, **message)
        try:
            yield Harness(emu, store, f"http://{host}:{port}/slack/events", posted["ts"])
        finally:
            await runner.cleanup()


def ephemeral_text(e: Ephemeral) -> str:
    return e.text + "\n" + repr(e.blocks)


async def test_ack_click_records_the_acknowledgement_and_confirms_ephemerally(harness: Harness) -> None:
    status, _ = await harness.click(ActionId.ESCALATION_ACK, STAFF)
    assert status == 200
    confirmation = await harness.next_ephemeral(0)
    assert (confirmation.user, confirmation.channel) == (STAFF, CHANNEL)
    assert "Acknowledged" in confirmation.text
    esc = harness.store.escalations["esc-1"]
    assert esc.status is EscalationStatus.ACKNOWLEDGED
    assert (esc.acknowledged_by, esc.acknowledged_at) == (STAFF, NOW)
    assert [e.kind for e in await harness.store.timeline("esc-1")] == ["created", "acknowledged"]


async def test_second_ack_changes_nothing_and_says_who_acknowledged(harness: Harness) -> None:
    await harness.click(ActionId.ESCALATION_ACK, STAFF)
    await harness.next_ephemeral(0)
    status, _ = await harness.click(ActionId.ESCALATION_ACK, OTHER_STAFF)
    assert status == 200
    answer = await harness.next_ephemeral(1)
    assert answer.user == OTHER_STAFF
    assert f"Already acknowledged by <@{STAFF}>" in answer.text
    assert harness.store.escalations["esc-1"].acknowledged_by == STAFF
    # The click handler never edits the channel message itself: the store's outbox does that.
    assert harness.emu.updates == []


async def test_reveal_by_a_lead_shows_values_to_that_lead_only(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    status, body = await harness.click(ActionId.ESCALATION_REVEAL, LEAD)
    assert status == 200
    reveal = await harness.next_ephemeral(0)
    assert (reveal.user, reveal.channel) == (LEAD, CHANNEL)
    assert "Robin Example" in ephemeral_text(reveal) and "07700 900123" in ephemeral_text(reveal)
    events = await harness.store.timeline("esc-1")
    assert (events[-1].kind, events[-1].actor) == ("reveal", LEAD)
    # Nowhere else: not in the HTTP answer, any channel message, or any log line.
    assert "07700" not in body
    for message in harness.emu.messages():
        assert "07700" not in message.text + repr(message.blocks)
    assert "07700" not in caplog.text and "Robin" not in caplog.text


async def test_reveal_by_a_non_lead_is_refused_and_recorded(harness: Harness) -> None:
    status, _ = await harness.click(ActionId.ESCALATION_REVEAL, STAFF)
    assert status == 200
    refusal = await harness.next_ephemeral(0)
    assert refusal.user == STAFF
    assert "Only safeguarding leads" in refusal.text
    assert "07700" not in ephemeral_text(refusal) and "Robin" not in ephemeral_text(refusal)
    events = await harness.store.timeline("esc-1")
    assert (events[-1].kind, events[-1].actor) == ("reveal_refused", STAFF)


async def test_both_reveals_and_refusals_are_recorded_in_order(harness: Harness) -> None:
    await harness.click(ActionId.ESCALATION_REVEAL, STAFF)
    await harness.next_ephemeral(0)
    await harness.click(ActionId.ESCALATION_REVEAL, OTHER_LEAD)
    await harness.next_ephemeral(1)
    events = [(e.kind, e.actor) for e in await harness.store.timeline("esc-1")]
    assert events[1:] == [("reveal_refused", STAFF), ("reveal", OTHER_LEAD)]


@pytest.mark.parametrize("action", list(ActionId))
async def test_unknown_escalation_gets_not_found(harness: Harness, action: ActionId) -> None:
    status, _ = await harness.click(action, LEAD, value="esc-missing")
    assert status == 200
    answer = await harness.next_ephemeral(0)
    assert "was not found" in answer.text and "esc-missing" in answer.text
    assert [e.kind for e in await harness.store.timeline("esc-1")] == ["created"]


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status


def click_body(user_id: str) -> bytes:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id},
        "team": {"id": "T0001"},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "actions": [{"action_id": "escalation_reveal", "value": "esc-1", "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "missing_headers", "stale_timestamp", "altered_body"],
)
async def test_badly_signed_requests_get_401_and_do_nothing(harness: Harness, tamper: str) -> None:
    body = click_body(LEAD)
    now = int(time.time())
    headers = {
        "wrong_secret": sign_request("not-the-secret", body, now),
        "missing_headers": {},
        "stale_timestamp": sign_request(SECRET, body, now - 600),
        "altered_body": sign_request(SECRET, body, now),
    }[tamper]
    sent = body.replace(b"esc-1", b"esc-2") if tamper == "altered_body" else body
    assert await post_raw(harness.app_url, sent, headers) == 401
    await asyncio.sleep(0.05)  # give a (wrongly) started background handler a chance to show itself
    assert harness.emu.ephemerals == []
    assert [e.kind for e in await harness.store.timeline("esc-1")] == ["created"]


async def test_a_correctly_signed_raw_request_is_accepted(harness: Harness) -> None:
    """Control for the 401 test: the same body, rightly signed, is handled."""
    body = click_body(LEAD)
    assert await post_raw(harness.app_url, body, sign_request(SECRET, body, int(time.time()))) == 200
    reveal = await harness.next_ephemeral(0)
    assert reveal.user == LEAD
