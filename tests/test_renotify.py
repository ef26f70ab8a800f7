"""The re-notify scheduler: database timers, one firing per step across instances, DMs before the post."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.delivery import DeliveryWorker
from bot.renotify import RenotifyScheduler, chain_step
from bot.slack_emulator import SlackEmulator
from bot.store import GroupCommitWriter, IngestItem, OutboxStatus, Store
from bot.store import outbox as box
from bot.store.tables import escalations
from tests.conftest import CHANNEL, LEADS

TIMEOUT = 10.0


async def _escalate(store: Store, make_item: Callable[..., IngestItem], message_id: str = "m1") -> str:
    writer = GroupCommitWriter(store, ack_timeout_seconds=TIMEOUT)
    await writer.start()
    try:
        result = await writer.submit(make_item(message_id))
    finally:
        await writer.stop()
    assert result.escalation_id is not None
    return result.escalation_id


async def _created_at(store: Store, esc_id: str) -> datetime:
    record = await store.get_escalation(esc_id)
    assert record is not None
    return record.created_at


async def _next_at(store: Store, esc_id: str) -> datetime | None:
    async with store.engine.connect() as conn:
        return await conn.scalar(select(escalations.c.next_renotify_at).where(escalations.c.id == esc_id))


async def _queued(store: Store, esc_id: str) -> list[tuple[str, str | None]]:
    return [(r["kind"], r["target"]) for r in await box.rows_for(store.engine, esc_id) if r["kind"] != "post"]


async def test_nothing_fires_before_the_timeout_then_dms_go_even_before_the_post(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    esc_id = await _escalate(store, make_item)
    created = await _created_at(store, esc_id)
    scheduler = RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS)

    assert await scheduler.run_once(created + timedelta(seconds=TIMEOUT - 1)) == 0
    assert await _queued(store, esc_id) == []

    assert await scheduler.run_once(created + timedelta(seconds=TIMEOUT)) == 1
    # Not posted yet: no thread to reply in, but the leads are told directly.
    assert await _queued(store, esc_id) == [("renotify_dm", LEADS[0]), ("renotify_dm", LEADS[1])]
    record = await store.get_escalation(esc_id)
    assert record is not None and record.renotify_count == 1
    assert await _next_at(store, esc_id) == created + timedelta(seconds=2 * TIMEOUT)
    renotified = [e for e in await store.timeline(esc_id) if e.kind == "renotified"]
    assert renotified[0].detail == {"count": 1, "deliveries": 2}
    # The same instant again: that step already fired.
    assert await scheduler.run_once(created + timedelta(seconds=TIMEOUT)) == 0


async def test_acknowledged_escalations_are_not_renotified(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    esc_id = await _escalate(store, make_item)
    created = await _created_at(store, esc_id)
    assert await store.acknowledge(esc_id, "U0LEAD0001", created + timedelta(seconds=1))
    scheduler = RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS)
    assert await scheduler.run_once(created + timedelta(seconds=10 * TIMEOUT)) == 0
    assert [k for k, _ in await _queued(store, esc_id)] == ["ack_update", "ack_reply"]


async def test_several_instances_fire_each_step_once(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    esc_id = await _escalate(store, make_item)
    due = await _created_at(store, esc_id) + timedelta(seconds=TIMEOUT)
    schedulers = [RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS) for _ in range(4)]
    fired = await asyncio.gather(*(s.run_once(due) for s in schedulers))
    assert sum(fired) == 1
    assert len(await _queued(store, esc_id)) == len(LEADS)


async def test_after_downtime_one_nudge_not_a_burst(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    esc_id = await _escalate(store, make_item)
    later = await _created_at(store, esc_id) + timedelta(seconds=20 * TIMEOUT)
    scheduler = RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS)
    assert await scheduler.run_once(later) == 1
    assert await scheduler.run_once(later) == 0
    assert await _next_at(store, esc_id) == later + timedelta(seconds=TIMEOUT)


async def test_renotify_end_to_end_thread_reply_and_dms(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    esc_id = await _escalate(store, make_item)
    worker = make_worker()
    assert await worker.run_once() == 1
    ts = (await store.get_escalation(esc_id)).slack_ts  # type: ignore[union-attr]
    scheduler = RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS)
    due = await _created_at(store, esc_id) + timedelta(seconds=TIMEOUT)
    assert await scheduler.run_once(due) == 1
    # The deliveries are due at the scheduler's (simulated) now.
    assert await make_worker(clock=lambda: due).run_once() == 3  # one thread reply, one DM per lead

    replies = [m for m in emu.messages(CHANNEL) if m.thread_ts == ts and m.ts != ts]
    assert [r.text for r in replies] == ["still unacknowledged <@U0LEAD0001> <@U0LEAD0002>"]
    opened = sorted(call["users"] for call in emu.calls_to("conversations.open"))
    assert opened == sorted(LEADS)
    dms = [m for m in emu.messages() if m.channel != CHANNEL]
    assert len(dms) == 2 and all("still unacknowledged" in m.text for m in dms)


async def test_nudges_queued_before_an_acknowledgement_are_dropped(
    store: Store,
    emu: SlackEmulator,
    make_worker: Callable[..., DeliveryWorker],
    make_item: Callable[..., IngestItem],
) -> None:
    esc_id = await _escalate(store, make_item)
    due = await _created_at(store, esc_id) + timedelta(seconds=TIMEOUT)
    assert await RenotifyScheduler(store, timeout_seconds=TIMEOUT, leads=LEADS).run_once(due) == 1
    assert await store.acknowledge(esc_id, "U0LEAD0001", datetime.now(UTC))
    worker = make_worker(clock=lambda: due)
    await worker.run_once()
    await worker.run_once()
    rows = {(r["kind"], r["target"]): r for r in await box.rows_for(store.engine, esc_id)}
    for lead in LEADS:
        assert (rows[("renotify_dm", lead)]["status"], rows[("renotify_dm", lead)]["error"]) == (
            OutboxStatus.DONE,
            "superseded",
        )
    assert emu.calls_to("conversations.open") == []
    assert all(r["status"] == OutboxStatus.DONE for r in rows.values())


def test_the_chain_is_one_function_of_the_step() -> None:
    step = chain_step(3, timeout=timedelta(seconds=TIMEOUT), leads=LEADS)
    assert (step.thread_reply, step.dm_leads, step.wait) == (True, LEADS, timedelta(seconds=TIMEOUT))
