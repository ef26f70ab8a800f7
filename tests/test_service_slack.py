"""The service and Slack: clicks, reveals, rate limits, outages, a crash between store and post, and
re-notification, all through the real app on loopback and the Slack emulator. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from bot.slack.actions import ActionId
from bot.slack_emulator import SlackEmulator
from bot.store import EscalationStatus, Store
from tests.service_harness import (
    CHANNEL,
    IDENTITY,
    LEAD,
    LEADS,
    STAFF,
    Running,
    running_service,
    tuned,
    wait_for,
    wait_for_async,
)


async def _escalate(svc: Running, message_id: str = "m-1") -> str:
    status, body = await svc.generic(message_id)
    assert status == 202 and body["escalation_id"]
    esc_id: str = body["escalation_id"]
    await wait_for(lambda: any(
        m.metadata and m.metadata["event_payload"]["escalation_id"] == esc_id for m in svc.escalation_posts()
    ))
    return esc_id


async def _click(svc: Running, action: ActionId, user: str, esc_id: str) -> None:
    post = svc.post_for(esc_id)
    status, _ = await svc.emu.click_button(
        svc.slack_events_url, action_id=action.value, value=esc_id, user_id=user,
        channel_id=CHANNEL, message_ts=post.ts,
    )
    assert status == 200


async def test_ack_click_updates_the_store_and_the_same_slack_message(
    store: Store, emu: SlackEmulator
) -> None:
    async with running_service(store, emu) as svc:
        esc_id = await _escalate(svc)
        post = svc.post_for(esc_id)
        await _click(svc, ActionId.ESCALATION_ACK, STAFF, esc_id)
        await wait_for(lambda: bool(emu.updates) and len(post.replies) == 1)
        record = await store.get_escalation(esc_id)
    assert record is not None
    assert record.status is EscalationStatus.ACKNOWLEDGED
    assert record.acknowledged_by == STAFF and record.acknowledged_at is not None
    assert [u.ts for u in emu.updates] == [post.ts]
    [reply] = [m for m in emu.messages(CHANNEL) if m.is_reply]
    assert reply.thread_ts == post.ts and STAFF in reply.text
    assert [e.kind for e in await store.timeline(esc_id)] == ["created", "posted", "acknowledged"]


async def test_reveal_is_shown_to_a_lead_refused_to_others_and_both_recorded(
    store: Store, emu: SlackEmulator
) -> None:
    async with running_service(store, emu) as svc:
        esc_id = await _escalate(svc)
        await _click(svc, ActionId.ESCALATION_REVEAL, LEAD, esc_id)
        await wait_for(lambda: len(emu.ephemerals) == 1)
        await _click(svc, ActionId.ESCALATION_REVEAL, STAFF, esc_id)
        await wait_for(lambda: len(emu.ephemerals) == 2)
    to_lead, to_staff = emu.ephemerals
    assert to_lead.user == LEAD and IDENTITY["phone"] in to_lead.text + repr(to_lead.blocks)
    assert to_staff.user == STAFF
    assert not any(v in to_staff.text + repr(to_staff.blocks) for v in IDENTITY.values())
    events = [(e.kind, e.actor) for e in await store.timeline(esc_id)]
    assert ("reveal", LEAD) in events and ("reveal_refused", STAFF) in events


async def test_slack_rate_limit_then_recovery_posts_exactly_once(store: Store, emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", count=2, retry_after=0)
    async with running_service(store, emu) as svc:
        esc_id = await _escalate(svc)
        await asyncio.sleep(0.3)
    assert len(svc.escalation_posts()) == 1 and svc.post_for(esc_id)
    statuses = [c.status for c in emu.call_log if c.method == "chat.postMessage"]
    assert statuses == [429, 429, 200]


async def test_slack_outage_then_recovery_posts_exactly_once(store: Store, emu: SlackEmulator) -> None:
    emu.outage(True)
    async with running_service(store, emu) as svc:
        status, body = await svc.generic("m-outage")
        assert status == 202  # stored: the outage is the outbox's problem, not the platform's
        await wait_for(lambda: len(emu.call_log) >= 3)  # the worker is trying, and failing
        emu.outage(False)
        await wait_for(lambda: len(svc.escalation_posts()) == 1)
        await asyncio.sleep(0.3)
    assert len(svc.escalation_posts()) == 1
    assert svc.post_for(body["escalation_id"])


async def test_a_crash_between_store_and_post_is_posted_once_by_the_next_instance(
    store: Store, emu: SlackEmulator
) -> None:
    async with running_service(store, emu, tuning=tuned(run_delivery=False)) as svc:
        status, body = await svc.generic("m-crash")
    assert status == 202 and not emu.calls_to("chat.postMessage")
    async with running_service(store, emu) as svc:
        await wait_for(lambda: len(svc.escalation_posts()) == 1)
        await asyncio.sleep(0.3)
    assert len(svc.escalation_posts()) == 1
    assert svc.post_for(body["escalation_id"])


async def test_a_post_whose_answer_was_lost_is_not_posted_again_after_a_restart(
    store: Store, emu: SlackEmulator
) -> None:
    # Slack stores the post, then the connection drops: the first instance cannot know it landed.
    emu.fail_after_commit("chat.postMessage", drop=True, count=5)
    emu.outage(False)
    async with running_service(store, emu, tuning=tuned(lease_seconds=0.5)) as svc:
        status, body = await svc.generic("m-lost")
        await wait_for(lambda: len(emu.calls_to("chat.postMessage")) >= 1)
    emu.clear_faults()
    async with running_service(store, emu, tuning=tuned(lease_seconds=0.5)) as svc:
        await wait_for_async(lambda: _posted(store, body["escalation_id"]))
        await asyncio.sleep(0.3)
    assert len(svc.escalation_posts()) == 1
    assert len(emu.calls_to("chat.postMessage")) == 1


async def _posted(store: Store, esc_id: str) -> bool:
    record = await store.get_escalation(esc_id)
    return record is not None and record.slack_ts is not None


async def test_an_unacknowledged_escalation_is_raised_again_to_the_leads(
    store: Store, emu: SlackEmulator
) -> None:
    async with running_service(store, emu, ack_timeout_seconds=0.4) as svc:
        esc_id = await _escalate(svc)
        post = svc.post_for(esc_id)
        await wait_for(lambda: len(post.replies) >= 1 and len(emu.calls_to("conversations.open")) >= 2)
        await wait_for_async(lambda: _renotified(store, esc_id))
    [reply, *_] = [m for m in emu.messages(CHANNEL) if m.is_reply]
    assert reply.thread_ts == post.ts
    assert all(f"<@{lead}>" in reply.text + repr(reply.blocks) for lead in LEADS)
    opened = {str(params.get("users")) for params in emu.calls_to("conversations.open")}
    assert opened == set(LEADS)


async def _renotified(store: Store, esc_id: str) -> bool:
    record = await store.get_escalation(esc_id)
    return record is not None and record.renotify_count >= 1
