"""The escalation buttons end to end: signed clicks from the Slack emulator over loopback HTTP to the
bolt app mounted on aiohttp, answers through the real slack_sdk client back to the emulator."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
from bot.store import EscalationRecord, EscalationStatus, GroupCommitWriter, IngestItem, MessageFields, Store
from policy.types import Assessment, AuthorKind, Category, Channel, Indicator, Severity

SECRET = "s"
CHANNEL = "C0SAFE"
LEAD, OTHER_LEAD, STAFF, OTHER_STAFF = "U0LEAD0001", "U0LEAD0002", "U0STAFF001", "U0STAFF002"
RAW_IDENTITY = {"name": "Robin Example", "phone": "07700 900123"}
NOW = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)


def escalating_item() -> IngestItem:
    assessment = Assessment(
        escalate=True,
        categories=(Category.LIFE_IN_DANGER,),
        severity=Severity.CRITICAL,
        indicators=(Indicator("overdose_taken", 10, 30),),
        redacted_text="I'm [NAME], I have taken all my pills, ring [PHONE] <!channel>",
        identifiers=(),
        suppressed=None,
        policy_version="test",
    )
    return IngestItem(
        message=MessageFields(
            platform="webchat",
            message_id="m-1",
            channel=Channel.COUNSELLING,
            conversation_id="c-9",
            author_id="u-77",
            author_kind=AuthorKind.YOUNG_PERSON,
            sent_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
            link="https://chat.example.org/conversations/c-9",
        ),
        redacted_text=assessment.redacted_text,
        assessment=assessment,
        identity=RAW_IDENTITY,
        masked_identity={"name": "R•••• E••••••", "phone": "•••• ••• •123"},
    )


@dataclass
class Harness:
    emu: SlackEmulator
    store: Store
    app_url: str
    message_ts: str
    escalation_id: str

    async def click(self, action: ActionId, user_id: str, value: str | None = None) -> tuple[int, str]:
        return await self.emu.click_button(
            self.app_url, action_id=action.value, value=value or self.escalation_id, user_id=user_id,
            channel_id=CHANNEL, message_ts=self.message_ts,
        )

    async def record(self) -> EscalationRecord:
        esc = await self.store.get_escalation(self.escalation_id)
        assert esc is not None
        return esc

    async def events(self) -> list[tuple[str, str | None]]:
        return [(e.kind, e.actor) for e in await self.store.timeline(self.escalation_id)]

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
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'safeguard.db'}")
    await store.migrate()
    writer = GroupCommitWriter(store)
    await writer.start()
    escalation_id = (await writer.submit(escalating_item())).escalation_id
    await writer.stop()
    assert escalation_id is not None
    esc = await store.get_escalation(escalation_id)
    assert esc is not None
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
        posted = await client.chat_postMessage(channel=CHANNEL, **Renderer().escalation_message(esc))
        try:
            yield Harness(emu, store, f"http://{host}:{port}/slack/events", posted["ts"], escalation_id)
        finally:
            await runner.cleanup()
            await store.close()


def ephemeral_text(e: Ephemeral) -> str:
    return e.text + "\n" + repr(e.blocks)


async def test_ack_click_records_the_acknowledgement_and_confirms_ephemerally(harness: Harness) -> None:
    before = await harness.events()
    status, _ = await harness.click(ActionId.ESCALATION_ACK, STAFF)
    assert status == 200
    confirmation = await harness.next_ephemeral(0)
    assert (confirmation.user, confirmation.channel) == (STAFF, CHANNEL)
    assert "Acknowledged" in confirmation.text
    esc = await harness.record()
    assert esc.status is EscalationStatus.ACKNOWLEDGED
    assert esc.acknowledged_by == STAFF
    assert esc.acknowledged_at is not None and esc.acknowledged_at.replace(tzinfo=UTC) == NOW
    assert await harness.events() == [*before, ("acknowledged", STAFF)]


async def test_second_ack_changes_nothing_and_says_who_acknowledged(harness: Harness) -> None:
    await harness.click(ActionId.ESCALATION_ACK, STAFF)
    await harness.next_ephemeral(0)
    first = await harness.record()
    status, _ = await harness.click(ActionId.ESCALATION_ACK, OTHER_STAFF)
    assert status == 200
    answer = await harness.next_ephemeral(1)
    assert answer.user == OTHER_STAFF
    assert f"Already acknowledged by <@{STAFF}>" in answer.text
    second = await harness.record()
    assert (second.status, second.acknowledged_by, second.acknowledged_at) == (
        first.status, first.acknowledged_by, first.acknowledged_at)
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
    assert (await harness.events())[-1] == ("reveal", LEAD)
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
    assert (await harness.events())[-1] == ("reveal_refused", STAFF)


async def test_both_reveals_and_refusals_are_recorded_in_order(harness: Harness) -> None:
    before = await harness.events()
    await harness.click(ActionId.ESCALATION_REVEAL, STAFF)
    await harness.next_ephemeral(0)
    await harness.click(ActionId.ESCALATION_REVEAL, OTHER_LEAD)
    await harness.next_ephemeral(1)
    assert await harness.events() == [*before, ("reveal_refused", STAFF), ("reveal", OTHER_LEAD)]


@pytest.mark.parametrize("action", list(ActionId))
async def test_unknown_escalation_gets_not_found(harness: Harness, action: ActionId) -> None:
    before = await harness.events()
    status, _ = await harness.click(action, LEAD, value="esc-missing")
    assert status == 200
    answer = await harness.next_ephemeral(0)
    assert "was not found" in answer.text and "esc-missing" in answer.text
    assert await harness.events() == before


async def post_raw(url: str, body: bytes, headers: dict[str, str]) -> int:
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status


def click_body(user_id: str, escalation_id: str) -> bytes:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id},
        "team": {"id": "T0001"},
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "actions": [{"action_id": "escalation_reveal", "value": escalation_id, "type": "button"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "missing_headers", "stale_timestamp", "altered_body"],
)
async def test_badly_signed_requests_get_401_and_do_nothing(harness: Harness, tamper: str) -> None:
    before = await harness.events()
    body = click_body(LEAD, harness.escalation_id)
    now = int(time.time())
    headers = {
        "wrong_secret": sign_request("not-the-secret", body, now),
        "missing_headers": {},
        "stale_timestamp": sign_request(SECRET, body, now - 600),
        "altered_body": sign_request(SECRET, body, now),
    }[tamper]
    sent = body.replace(b"U0LEAD0001", b"U0LEAD0002") if tamper == "altered_body" else body
    assert await post_raw(harness.app_url, sent, headers) == 401
    await asyncio.sleep(0.05)  # give a (wrongly) started background handler a chance to show itself
    assert harness.emu.ephemerals == []
    assert await harness.events() == before


async def test_a_correctly_signed_raw_request_is_accepted(harness: Harness) -> None:
    """Control for the 401 test: the same body, rightly signed, is handled."""
    body = click_body(LEAD, harness.escalation_id)
    assert await post_raw(harness.app_url, body, sign_request(SECRET, body, int(time.time()))) == 200
    reveal = await harness.next_ephemeral(0)
    assert reveal.user == LEAD


async def test_simultaneous_ack_clicks_acknowledge_exactly_once(harness: Harness) -> None:
    before = await harness.events()
    results = await asyncio.gather(*(harness.click(ActionId.ESCALATION_ACK, u) for u in (STAFF, OTHER_STAFF)))
    assert [status for status, _ in results] == [200, 200]
    await wait_for(lambda: len(harness.emu.ephemerals) == 2)
    winner = (await harness.record()).acknowledged_by
    assert winner in (STAFF, OTHER_STAFF)
    answers = {e.user: e.text for e in harness.emu.ephemerals}
    loser = OTHER_STAFF if winner == STAFF else STAFF
    assert f"Already acknowledged by <@{winner}>" in answers[loser]
    assert "Already" not in answers[winner]
    assert [kind for kind, _ in await harness.events()].count("acknowledged") == 1
    assert (await harness.events())[: len(before)] == before


async def test_posted_message_carries_contract_metadata(harness: Harness) -> None:
    [message] = harness.emu.messages_with_metadata("safeguard_escalation", CHANNEL)
    assert message.ts == harness.message_ts
    assert message.metadata == {
        "event_type": "safeguard_escalation",
        "event_payload": {"escalation_id": harness.escalation_id},
    }


class FailingStore(Store):
    """The real store, except that reading an escalation fails with sensitive text in the error."""

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        raise RuntimeError("database said: Robin Example 07700 900123")


async def test_a_failing_click_tells_the_user_and_logs_no_error_text(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.store.__class__ = FailingStore  # in place: the running bolt app holds this very object
    status, _ = await harness.click(ActionId.ESCALATION_ACK, STAFF)
    assert status == 200  # already acknowledged to Slack before the work failed
    answer = await harness.next_ephemeral(0)
    assert answer.user == STAFF and "Something went wrong" in answer.text
    assert "slack action failed" in caplog.text
    assert "07700" not in caplog.text and "Robin" not in caplog.text
