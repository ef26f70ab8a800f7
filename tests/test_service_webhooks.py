"""The service end to end over loopback HTTP: signed webhooks of every platform in, escalations out
at the Slack emulator; repeats, refusals and store failures; the chatbot rule. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import func, select

from bot import webhook_signing as sign
from bot.delivery import METADATA_EVENT_TYPE
from bot.slack_emulator import SlackEmulator
from bot.store import EscalationStatus, Store
from bot.store.tables import assessments, escalations, messages, outbox
from policy import Conversation, Engine
from tests.service_harness import (
    CHANNEL,
    CRISIS_TEXT,
    DISCOURSE_SECRET,
    PUBLIC_URL,
    TWILIO_TOKEN,
    WEBHOOK_SECRET,
    discourse_payload,
    generic_payload,
    running_service,
    twilio_params,
    wait_for,
)


async def count(store: Store, table, *where) -> int:  # noqa: ANN001 - any Table
    async with store.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def test_every_platform_is_escalated_to_slack_with_the_contract_metadata(
    store: Store, emu: SlackEmulator
) -> None:
    async with running_service(store, emu) as svc:
        answers = [
            await svc.generic("m-1"),
            await svc.post(sign.discourse(DISCOURSE_SECRET, discourse_payload(501))),
            await svc.post(sign.twilio(TWILIO_TOKEN, PUBLIC_URL, twilio_params("IM0001"))),
        ]
        for status, body in answers:
            assert status == 202
            assert body["status"] == "stored" and body["duplicate"] is False and body["escalation_id"]
        ids = [body["escalation_id"] for _, body in answers]
        await wait_for(lambda: len(svc.escalation_posts()) == 3)
        for esc_id in ids:
            post = svc.post_for(esc_id)
            assert post.metadata == {
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"escalation_id": esc_id},
            }
            assert post.channel == CHANNEL
            record = await store.get_escalation(esc_id)
            assert record is not None and record.status is EscalationStatus.OPEN
        platforms = {(await store.get_escalation(i)).platform for i in ids}  # type: ignore[union-attr]
    assert platforms == {"webchat", "discourse", "twilio"}


async def test_a_repeated_delivery_answers_2xx_and_changes_nothing(store: Store, emu: SlackEmulator) -> None:
    async with running_service(store, emu) as svc:
        first = await svc.generic("m-dup")
        await wait_for(lambda: len(svc.escalation_posts()) == 1)
        again = await asyncio.gather(*(svc.generic("m-dup") for _ in range(3)))
        twilio_request = sign.twilio(TWILIO_TOKEN, PUBLIC_URL, twilio_params("IM-dup"))
        tw1, tw2 = await svc.post(twilio_request), await svc.post(twilio_request)
        await wait_for(lambda: len(svc.escalation_posts()) == 2)
        await asyncio.sleep(0.3)  # give a wrongly queued second post the time to appear
    assert first[0] == 202 and first[1]["duplicate"] is False
    for status, body in again:
        assert status == 202
        assert body == {**first[1], "duplicate": True}
    assert tw2[1] == {**tw1[1], "duplicate": True}
    assert await count(store, messages) == 2
    assert await count(store, escalations) == 2
    assert await count(store, outbox) == 2
    assert len(emu.calls_to("chat.postMessage")) == 2


def _stale(payload: dict) -> sign.SignedRequest:
    return sign.generic(WEBHOOK_SECRET, payload, now=time.time() - 600)


def _bad_signature(payload: dict) -> sign.SignedRequest:
    return sign.generic("not-the-secret", payload)


def _unsigned(payload: dict) -> sign.SignedRequest:
    request = sign.generic(WEBHOOK_SECRET, payload)
    headers = {k: v for k, v in request.headers.items() if k != "X-Safeguard-Signature"}
    return sign.SignedRequest(request.path, request.body, headers)


def _signed_body(body: bytes) -> sign.SignedRequest:
    from integrations.signing import hmac_sha256_hex

    ts = str(int(time.time()))
    sig = "v0=" + hmac_sha256_hex(WEBHOOK_SECRET.encode(), b"v0:" + ts.encode() + b":" + body)
    headers = {"X-Safeguard-Request-Timestamp": ts, "X-Safeguard-Signature": sig}
    return sign.SignedRequest("/webhooks/generic", body, headers)


REFUSALS = {
    "bad signature": (_bad_signature, 401),
    "missing signature": (_unsigned, 401),
    "stale timestamp": (_stale, 401),
    "not JSON": (lambda _p: _signed_body(b"{this is not json"), 400),
    "bad fields": (lambda p: _signed_body(json.dumps({**p, "channel": "carrier pigeon"}).encode()), 422),
    "over 1 MiB": (lambda p: _signed_body(json.dumps({**p, "text": "x" * (1024 * 1024 + 10)}).encode()), 413),
}


@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refusals_answer_json_reasons_and_store_nothing(
    store: Store, emu: SlackEmulator, case: str
) -> None:
    build, expected = REFUSALS[case]
    payload = generic_payload("m-refused")
    async with running_service(store, emu) as svc:
        status, body = await svc.post(build(payload))
    assert status == expected
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"]
    assert "Traceback" not in body["error"] and CRISIS_TEXT not in body["error"]
    assert await count(store, messages) == 0


async def test_discourse_and_twilio_refuse_bad_signatures(store: Store, emu: SlackEmulator) -> None:
    async with running_service(store, emu) as svc:
        d = await svc.post(sign.discourse("wrong", discourse_payload(9)))
        t = await svc.post(sign.twilio(TWILIO_TOKEN, "https://elsewhere.example.org", twilio_params("IM9")))
    assert d == (401, {"error": "signature mismatch"})
    assert t == (401, {"error": "signature mismatch"})
    assert await count(store, messages) == 0


async def test_an_ignored_event_answers_2xx_without_storing(store: Store, emu: SlackEmulator) -> None:
    async with running_service(store, emu) as svc:
        status, body = await svc.post(
            sign.discourse(DISCOURSE_SECRET, discourse_payload(10), event="post_destroyed")
        )
    assert status == 200 and "ignored" in body
    assert await count(store, messages) == 0


async def test_a_store_failure_answers_503_to_retry(store: Store, emu: SlackEmulator) -> None:
    async with running_service(store, emu) as svc:
        await svc.service.writer.stop()  # what a shutting-down or failing writer looks like to a handler
        status, body = await svc.generic("m-503")
    assert (status, body) == (503, {"error": "temporarily unavailable, retry"})


async def test_chatbot_messages_are_stored_suppressed_never_posted_never_context(
    store: Store, emu: SlackEmulator
) -> None:
    build_up, follow_up = "everyone would be better off without me", "the date is set"
    engine = Engine.default()
    alone = engine.assess(follow_up)
    conv = Conversation()
    engine.assess(build_up, conversation=conv)
    after_human = engine.assess(follow_up, conversation=conv)

    async with running_service(store, emu) as svc:
        bot_channel = await svc.generic("bot-1", CRISIS_TEXT, channel="chatbot", conversation_id="cb")
        bot_author = await svc.generic(
            "bot-2", build_up, conversation_id="ctx-bot", author={"id": "helperbot", "kind": "young_person"}
        )
        later_after_bot = await svc.generic("yp-1", follow_up, conversation_id="ctx-bot")
        await svc.generic("yp-2", build_up, conversation_id="ctx-human")
        later_after_human = await svc.generic("yp-3", follow_up, conversation_id="ctx-human")
        await asyncio.sleep(0.3)
    assert bot_channel == (202, {"status": "stored", "escalation_id": None, "duplicate": False})
    assert bot_author[1]["escalation_id"] is None
    assert await count(store, messages, messages.c.suppressed == "chatbot") == 1
    assert await count(store, messages, messages.c.suppressed == "bot_author") == 1
    # Stored and assessed rows exist for both, but nothing escalated and nothing reached Slack.
    assert await count(store, assessments) == 5
    human_escalations = {later_after_human[1]["escalation_id"], later_after_bot[1]["escalation_id"]} - {None}
    posts = emu.messages_with_metadata(METADATA_EVENT_TYPE)
    posted = {m.metadata["event_payload"]["escalation_id"] for m in posts if m.metadata}
    assert posted == human_escalations
    assert len(emu.calls_to("chat.postMessage")) == len(human_escalations)
    # The chatbot's words were no context: the human's message is judged as if alone.
    assert (later_after_bot[1]["escalation_id"] is not None) == alone.escalate
    assert (later_after_human[1]["escalation_id"] is not None) == after_human.escalate
    assert [text for text, _ in await store.conversation_turns("webchat", "ctx-bot")] == [follow_up]
