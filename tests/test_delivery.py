"""The outbox worker against the Slack emulator (never a mocked client): every escalation reaches
the channel exactly once, through rate limits, outages, ambiguous failures and crashes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery import METADATA_EVENT_TYPE, DeliveryWorker
from bot.slack.views import Renderer
from bot.slack_emulator import SlackEmulator
from bot.store import GroupCommitWriter, IngestItem, OutboxStatus, Store
from bot.store import outbox as box
from tests.conftest import CHANNEL, SLACK_TOKEN


async def _escalate(store: Store, make_item: Callable[..., IngestItem], *ids: str) -> list[str]:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        results = [await writer.submit(make_item(i)) for i in ids]
    finally:
        await writer.stop()
    return [r.escalation_id for r in results if r.escalation_id]


def _posts(emu: SlackEmulator, esc_id: str) -> list:
    return [
        m
        for m in emu.messages_with_metadata(METADATA_EVENT_TYPE, CHANNEL)
        if m.metadata["event_payload"]["escalation_id"] == esc_id
    ]


async def _assert_posted_once(store: Store, emu: SlackEmulator, esc_id: str) -> None:
    posts = _posts(emu, esc_id)
    assert len(posts) == 1
    record = await store.get_escalation(esc_id)
    assert record is not None
    assert (record.slack_channel, record.slack_ts) == (CHANNEL, posts[0].ts)
    assert [e.kind for e in await store.timeline(esc_id)].count("posted") == 1
    [row] = [r for r in await box.rows_for(store.engine, esc_id) if r["kind"] == "post"]
    assert row["status"] == OutboxStatus.DONE


async def test_post_end_to_end_with_contract_metadata(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    assert await make_worker().run_once() == 1
    await _assert_posted_once(store, emu, esc_id)
    [post] = _posts(emu, esc_id)
    assert post.metadata == {"event_type": "safeguard_escalation", "event_payload": {"escalation_id": esc_id}}
    assert post.text.startswith(f"escalation {esc_id}")
    assert await make_worker().run_once() == 0  # nothing left to do


async def test_rate_limited_then_success_posts_once_honouring_retry_after(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    emu.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert await make_worker().run_once() == 1
    assert time.monotonic() - started >= 0.9  # waited as Slack asked
    assert len(emu.calls_to("chat.postMessage")) == 2
    await _assert_posted_once(store, emu, esc_id)


@pytest.mark.parametrize("mode", ["503", "drop"])
async def test_outage_then_recovery_loses_nothing_and_duplicates_nothing(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
    mode: str,
) -> None:
    ids = await _escalate(store, make_item, "m1", "m2")
    worker = make_worker(max_tries=2)
    emu.outage(True, mode=mode)
    assert await worker.run_once() == 0
    rows = [r for i in ids for r in await box.rows_for(store.engine, i)]
    assert all(r["status"] == OutboxStatus.PENDING and r["attempted_at"] is not None for r in rows)
    emu.outage(False)
    assert await worker.run_once() == 2
    for esc_id in ids:
        await _assert_posted_once(store, emu, esc_id)


@pytest.mark.parametrize("drop", [False, True])
async def test_ambiguous_failure_is_reconciled_not_reposted(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
    drop: bool,
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    emu.fail_after_commit("chat.postMessage", drop=drop)
    assert await make_worker().run_once() == 1
    await _assert_posted_once(store, emu, esc_id)
    assert len(emu.calls_to("chat.postMessage")) == 1
    assert emu.calls_to("conversations.history")
    posted = [e for e in await store.timeline(esc_id) if e.kind == "posted"]
    assert posted[0].detail["reconciled"] is True


async def test_crash_after_claim_a_new_worker_posts_once_after_the_lease_expires(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    now = datetime.now(UTC)
    # Worker A claims, then dies before doing anything else.
    claimed = await box.claim(store.engine, "A", now, timedelta(seconds=30), 10)
    assert [c.escalation_id for c in claimed] == [esc_id]

    assert await make_worker("B", clock=lambda: now + timedelta(seconds=5)).run_once() == 0  # still leased
    assert _posts(emu, esc_id) == []
    assert await make_worker("B", clock=lambda: now + timedelta(seconds=31)).run_once() == 1
    await _assert_posted_once(store, emu, esc_id)


async def test_crash_after_the_post_left_is_adopted_not_reposted(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    now = datetime.now(UTC)
    lease = timedelta(seconds=30)
    [item] = await box.claim(store.engine, "A", now, lease, 10)
    assert await box.mark_attempted(store.engine, item.id, "A", now, lease)
    # A's request reaches Slack, then A dies before recording the ts.
    client = AsyncWebClient(token=SLACK_TOKEN, base_url=emu.api_url)
    landed = await client.chat_postMessage(
        channel=CHANNEL,
        text="escalation",
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"escalation_id": esc_id}},
    )
    assert await make_worker("B", clock=lambda: now + timedelta(seconds=31)).run_once() == 1
    await _assert_posted_once(store, emu, esc_id)
    assert (await store.get_escalation(esc_id)).slack_ts == landed["ts"]  # type: ignore[union-attr]


async def test_acknowledgement_updates_the_same_message_and_replies_in_thread(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    worker = make_worker()
    assert await worker.run_once() == 1
    ts = (await store.get_escalation(esc_id)).slack_ts  # type: ignore[union-attr]
    assert await store.acknowledge(esc_id, "U0LEAD0001", datetime.now(UTC))
    assert await worker.run_once() == 2

    [update] = [u for u in emu.updates if u.channel == CHANNEL]
    assert update.ts == ts and "acknowledged by U0LEAD0001" in update.text
    replies = [m for m in emu.messages(CHANNEL) if m.thread_ts == ts and m.ts != ts]
    assert [r.text for r in replies] == ["acknowledged by <@U0LEAD0001>"]
    await _assert_posted_once(store, emu, esc_id)


async def test_acknowledged_before_posting_still_updates_after_the_post(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    assert await store.acknowledge(esc_id, "U0LEAD0002", datetime.now(UTC))
    emu.outage(True)
    worker = make_worker(max_tries=1)
    assert await worker.run_once() == 0
    emu.outage(False)
    delivered = 0
    for _ in range(3):  # the thread rows wait for the post's ts, then go
        delivered += await worker.run_once()
    assert delivered == 3
    ts = (await store.get_escalation(esc_id)).slack_ts  # type: ignore[union-attr]
    assert [u.ts for u in emu.updates] == [ts]
    await _assert_posted_once(store, emu, esc_id)


async def test_permanent_error_fails_the_row_and_records_it(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    assert await make_worker(channel="C0NOPE").run_once() == 0
    [row] = await box.rows_for(store.engine, esc_id)
    assert (row["status"], row["error"]) == (OutboxStatus.FAILED, "channel_not_found")
    failed = [e for e in await store.timeline(esc_id) if e.kind == "delivery_failed"]
    assert failed[0].detail == {"outbox_id": row["id"], "kind": "post", "error": "channel_not_found"}


async def test_posts_to_one_channel_are_paced(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    await _escalate(store, make_item, "m1", "m2", "m3")
    started = time.monotonic()
    assert await make_worker(per_channel_interval=0.25).run_once() == 3
    assert time.monotonic() - started >= 0.5


async def test_concurrent_workers_never_post_the_same_escalation_twice(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    ids = await _escalate(store, make_item, *(f"m{i}" for i in range(8)))
    workers = [make_worker(f"w{i}", batch_size=3) for i in range(3)]
    delivered = 0
    for _ in range(4):
        delivered += sum(await asyncio.gather(*(w.run_once() for w in workers)))
    assert delivered == 8
    for esc_id in ids:
        await _assert_posted_once(store, emu, esc_id)


async def test_the_real_slack_views_render_through_the_worker(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    [esc_id] = await _escalate(store, make_item, "m1")
    worker = make_worker(renderer=Renderer())
    assert await worker.run_once() == 1
    assert await store.acknowledge(esc_id, "U0LEAD0001", datetime.now(UTC))
    assert await worker.run_once() == 2
    await _assert_posted_once(store, emu, esc_id)
    [post] = _posts(emu, esc_id)
    assert post.blocks and "Sam Example" not in repr(post.blocks)
    assert [u.ts for u in emu.updates] == [post.ts]
