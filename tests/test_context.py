"""Conversation context is read in batches, and decides like live context."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.context import ContextReader
from bot.store import GroupCommitWriter, IngestItem, Store
from policy import Engine


async def test_concurrent_requests_share_one_query_and_get_their_own_turns(
    store: Store, make_item: Callable[..., IngestItem], monkeypatch
) -> None:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        for conv in ("ca", "cb", "cc"):
            await writer.submit(make_item(f"{conv}-m", escalate=False, conversation_id=conv, redacted=f"in {conv}"))
    finally:
        await writer.stop()

    queries = []
    real = store.conversations_turns

    async def counted(keys, limit=10):
        queries.append(list(keys))
        return await real(keys, limit)

    monkeypatch.setattr(store, "conversations_turns", counted)
    reader = ContextReader(store, Engine.default())
    conversations = await asyncio.gather(
        *[reader.conversation("webchat", conv) for conv in ("ca", "cb", "cc", "ca", "none") * 4]
    )
    # The first request starts a read; the 19 that arrive meanwhile share the next one.
    assert 1 <= len(queries) <= 2
    assert sum(len(q) for q in queries) <= 8
    texts = [[t.norm.text for t in c.turns] for c in conversations[:5]]
    assert texts == [["in ca"], ["in cb"], ["in cc"], ["in ca"], []]
