"""The group-commit writer: many submits, one transaction; repeats change nothing; failures fail all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select

from bot.store import GroupCommitWriter, IngestItem, Store, WriterStopped
from bot.store.tables import assessments, escalations, events, identities, messages, outbox
from integrations.model import InboundMessage


async def _count(store: Store, table) -> int:  # noqa: ANN001 - any Table
    async with store.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)))


async def test_many_concurrent_submits_share_few_transactions(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    commits = 0

    def on_commit(_conn: object) -> None:
        nonlocal commits
        commits += 1

    writer = GroupCommitWriter(store)
    await writer.start()
    event.listen(store.engine.sync_engine, "commit", on_commit)
    try:
        items = [make_item(f"m{i}", escalate=i % 4 == 0) for i in range(300)]
        results = await asyncio.gather(*(writer.submit(item) for item in items))
    finally:
        event.remove(store.engine.sync_engine, "commit", on_commit)
        await writer.stop()

    assert all(not r.duplicate for r in results)
    assert [r.escalation_id is not None for r in results] == [i % 4 == 0 for i in range(300)]
    assert len({r.escalation_id for r in results if r.escalation_id}) == 75
    assert await _count(store, messages) == 300
    assert await _count(store, assessments) == 300
    assert await _count(store, escalations) == 75
    assert await _count(store, outbox) == 75  # one 'post' per escalation
    assert await _count(store, identities) == 75 * 2
    # All 300 were waiting when the writer woke: far fewer transactions than messages.
    assert 1 <= commits <= 3


async def test_duplicates_change_nothing_and_return_the_existing_escalation(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        first = await writer.submit(make_item("m1"))
        calm = await writer.submit(make_item("m2", escalate=False))
        before = [await _count(store, t) for t in (messages, escalations, events, outbox, identities)]
        # A repeat, even one whose content now differs, is the same message and changes nothing.
        again, calm_again, in_batch_a, in_batch_b = await asyncio.gather(
            writer.submit(replace(make_item("m1"), redacted_text="different")),
            writer.submit(make_item("m2", escalate=True)),
            writer.submit(make_item("m3")),
            writer.submit(make_item("m3")),
        )
    finally:
        await writer.stop()

    assert not first.duplicate and first.escalation_id
    assert calm.escalation_id is None
    assert again.duplicate and again.escalation_id == first.escalation_id
    assert calm_again.duplicate and calm_again.escalation_id is None
    assert not in_batch_a.duplicate and in_batch_b.duplicate
    assert in_batch_a.escalation_id == in_batch_b.escalation_id is not None
    after = [await _count(store, t) for t in (messages, escalations, events, outbox, identities)]
    assert after == [before[0] + 1, before[1] + 1, before[2] + 1, before[3] + 1, before[4] + 2]
    record = await store.get_escalation(first.escalation_id)
    assert record is not None and record.redacted_text == "help me m1"


async def test_a_failed_batch_fails_every_submit_in_it_and_stores_nothing(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        good = [make_item(f"ok{i}") for i in range(5)]
        # A NOT NULL column left empty: the database refuses the whole transaction.
        broken = replace(good[0], message=replace(good[0].message, message_id="bad", conversation_id=None))
        outcomes = await asyncio.gather(*(writer.submit(i) for i in [*good, broken]), return_exceptions=True)
        assert all(isinstance(o, Exception) for o in outcomes)
        assert await _count(store, messages) == 0
        assert await _count(store, outbox) == 0
        # The writer survives a failed batch; the platform's retry then succeeds.
        retried = await asyncio.gather(*(writer.submit(i) for i in good))
    finally:
        await writer.stop()
    assert all(not r.duplicate and r.escalation_id for r in retried)
    assert await _count(store, messages) == 5


async def test_stop_drains_pending_submits_then_refuses_new_ones(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    writer = GroupCommitWriter(store)
    await writer.start()
    pending = [asyncio.create_task(writer.submit(make_item(f"m{i}", escalate=False))) for i in range(20)]
    await asyncio.sleep(0)  # let every submit enqueue
    await writer.stop()
    results = await asyncio.gather(*pending)
    assert len(results) == 20 and not any(r.duplicate for r in results)
    assert await _count(store, messages) == 20
    with pytest.raises(WriterStopped):
        await writer.submit(make_item("late"))


async def test_renotify_timer_is_set_when_the_escalation_is_created(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    writer = GroupCommitWriter(store, ack_timeout_seconds=42)
    await writer.start()
    try:
        result = await writer.submit(make_item("m1"))
    finally:
        await writer.stop()
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(escalations).where(escalations.c.id == result.escalation_id))).one()
    assert (row.next_renotify_at - row.created_at).total_seconds() == 42
    assert row.subject_key == "webchat:u-77"


async def test_an_inbound_message_can_be_submitted_as_is(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    template = make_item("m1")
    inbound = InboundMessage.model_validate(
        {
            "message_id": "m-123",
            "platform": "webchat",
            "channel": "counselling",
            "conversation_id": "c-9",
            "author": {"id": "u-77", "kind": "young_person"},
            "text": "raw text that must never be stored",
            "sent_at": "2026-11-24T10:00:00Z",
        }
    )
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        result = await writer.submit(replace(template, message=inbound))
    finally:
        await writer.stop()
    record = await store.get_escalation(result.escalation_id or "")
    assert record is not None and record.message_id == "m-123"
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(messages).where(messages.c.message_id == "m-123"))).one()
    assert (row.author_id, row.author_kind) == ("u-77", "young_person")
    assert "raw text" not in repr(tuple(row))
