"""Escalation reads and the audited writes Slack handlers and the CLI use."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from bot.store import EscalationStatus, GroupCommitWriter, IngestItem, OutboxKind, Store
from bot.store.outbox import rows_for
from bot.store.tables import identities, messages
from policy.types import AuthorKind, Category, Severity, Suppression


async def _ingest(store: Store, *items: IngestItem) -> list[str | None]:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        results = [await writer.submit(item) for item in items]
    finally:
        await writer.stop()
    return [r.escalation_id for r in results]


async def test_get_escalation_returns_the_record_staff_see(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    [esc_id] = await _ingest(store, make_item("m1"))
    assert esc_id is not None
    record = await store.get_escalation(esc_id)
    assert record is not None
    assert record.status is EscalationStatus.OPEN
    assert record.categories == (Category.LIFE_IN_DANGER,)
    assert record.severity is Severity.CRITICAL
    assert (record.platform, record.message_id, record.conversation_id) == ("webchat", "m1", "c-9")
    assert record.masked_identity == {"name": "S** E******", "phone": "077** ***123"}
    assert record.created_at.tzinfo is not None
    assert record.prior_escalations == 0 and record.slack_ts is None
    assert await store.get_escalation("no-such-id") is None
    assert [e.kind for e in await store.timeline(esc_id)] == ["created"]


async def test_prior_escalations_count_the_same_young_person_only(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    ids = await _ingest(
        store,
        make_item("m1"),
        make_item("m2", escalate=False),
        make_item("m3", author_id="someone-else"),
        make_item("m4"),
        make_item("m5"),
    )
    priors = {}
    for esc_id in filter(None, ids):
        record = await store.get_escalation(esc_id)
        assert record is not None
        priors[record.message_id] = record.prior_escalations
    assert priors == {"m1": 0, "m3": 0, "m4": 1, "m5": 2}
    listed = await store.list_escalations()
    assert [r.message_id for r in listed] == ["m5", "m4", "m3", "m1"]  # newest first
    assert len(await store.list_escalations(limit=2)) == 2


async def test_raw_identity_is_kept_only_for_escalations(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    await _ingest(store, make_item("calm", escalate=False))
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(identities))).all() == []
        stored = (await conn.execute(select(messages.c.redacted_text))).scalar_one()
    assert stored == "fine calm"


async def test_two_concurrent_acknowledgements_exactly_one_wins(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    [esc_id] = await _ingest(store, make_item("m1"))
    assert esc_id is not None
    at = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)
    outcomes = await asyncio.gather(
        store.acknowledge(esc_id, "U0LEAD0001", at), store.acknowledge(esc_id, "U0LEAD0002", at)
    )
    assert sorted(outcomes) == [False, True]
    winner = "U0LEAD0001" if outcomes[0] else "U0LEAD0002"

    record = await store.get_escalation(esc_id)
    assert record is not None
    assert record.status is EscalationStatus.ACKNOWLEDGED
    assert record.acknowledged_by == winner and record.acknowledged_at == at
    kinds = [e.kind for e in await store.timeline(esc_id)]
    assert kinds == ["created", "acknowledged", "ack_repeat"]
    queued = [r["kind"] for r in await rows_for(store.engine, esc_id)]
    assert queued == [OutboxKind.POST, OutboxKind.ACK_UPDATE, OutboxKind.ACK_REPLY]
    # A later click changes nothing but the record of it.
    assert await store.acknowledge(esc_id, "U0LEAD0003", at) is False
    assert len(await rows_for(store.engine, esc_id)) == 3
    assert (await store.get_escalation(esc_id)).acknowledged_by == winner  # type: ignore[union-attr]
    assert await store.acknowledge("no-such-id", "U0LEAD0001", at) is False


async def test_reveal_is_audited_with_field_names_never_values(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    [esc_id] = await _ingest(store, make_item("m1"))
    assert esc_id is not None
    refused = await store.reveal(esc_id, "U0STAFF001", allowed=False)
    revealed = await store.reveal(esc_id, "U0LEAD0001", allowed=True)
    assert refused is None
    assert revealed == {"name": "Sam Example", "phone": "07700 900123"}

    events = await store.timeline(esc_id)
    assert [(e.kind, e.actor) for e in events] == [
        ("created", None),
        ("reveal_refused", "U0STAFF001"),
        ("reveal", "U0LEAD0001"),
    ]
    assert events[2].detail == {"fields": ["name", "phone"]}
    assert "Sam Example" not in repr(events) and "07700" not in repr(events)
    assert await store.reveal("no-such-id", "U0LEAD0001", allowed=True) is None


async def test_record_event_appends_to_the_timeline(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    [esc_id] = await _ingest(store, make_item("m1"))
    assert esc_id is not None
    await store.record_event(esc_id, "resolved_note", actor="U0LEAD0001", detail={"reason": "handled"})
    last = (await store.timeline(esc_id))[-1]
    assert (last.kind, last.actor, last.detail) == ("resolved_note", "U0LEAD0001", {"reason": "handled"})


async def test_conversation_turns_are_young_people_only_oldest_first_with_outcomes(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    staff = make_item("s1", escalate=False, author_kind=AuthorKind.STAFF, redacted="staff reply")
    bot_line = make_item("b1", escalate=False, redacted="bot says")
    bot_line = replace(bot_line, assessment=replace(bot_line.assessment, suppressed=Suppression.CHATBOT))
    await _ingest(
        store,
        make_item("m1", escalate=False, redacted="one"),
        staff,
        bot_line,
        make_item("m2", escalate=False, redacted="two"),
        make_item("m3", redacted="three"),
        make_item("x1", escalate=False, conversation_id="other", redacted="elsewhere"),
    )
    turns = await store.conversation_turns("webchat", "c-9")
    assert [text for text, _ in turns] == ["one", "two", "three"]
    # Only the escalated turn carries categories: the engine's follow-up window starts there.
    assert [bool(categories) for _, categories in turns] == [False, False, True]
    assert [text for text, _ in await store.conversation_turns("webchat", "c-9", limit=2)] == ["two", "three"]
    assert await store.conversation_turns("webchat", "nope") == []


async def test_ping_reports_readiness(store: Store) -> None:
    assert await store.ping() is True
    await store.close()
    # Nothing listens on port 1: readiness must say so rather than raise.
    closed = await Store.open("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    assert await closed.ping() is False
    await closed.close()


async def test_many_conversations_are_read_in_one_query_each_capped(
    store: Store, make_item: Callable[..., IngestItem]
) -> None:
    await _ingest(
        store,
        *[make_item(f"a{i}", escalate=False, conversation_id="a", redacted=f"a{i}") for i in range(5)],
        *[make_item(f"b{i}", escalate=False, conversation_id="b", redacted=f"b{i}") for i in range(2)],
    )
    turns = await store.conversations_turns([("webchat", "a"), ("webchat", "b"), ("webchat", "none")], limit=3)
    assert [t for t, _ in turns[("webchat", "a")]] == ["a2", "a3", "a4"]
    assert [t for t, _ in turns[("webchat", "b")]] == ["b0", "b1"]
    assert turns[("webchat", "none")] == []
