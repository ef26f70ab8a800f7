"""Conversation context from the database: risk that builds up over turns is seen, on any instance.

The engine keeps context as the recent turns of a conversation (policy.Conversation). We rebuild it
per message from the stored redacted texts of the conversation's earlier young-person messages and
the categories each escalated for; the store leaves out chatbot output and suppressed messages, so
they never count as context.

Reads are batched like the group-commit writes (PERF-NOTES): whoever asks while no read is running
starts one, and every request that arrives meanwhile is answered by the next single query."""

from __future__ import annotations

import asyncio

from bot.store import Store
from policy import Conversation, Engine
from policy.engine import CONTEXT_TURNS

_Key = tuple[str, str]
_Turns = list[tuple[str, list[str]]]


class ContextReader:
    def __init__(self, store: Store, engine: Engine, *, limit: int = CONTEXT_TURNS) -> None:
        self._store = store
        self._engine = engine
        self._limit = limit
        self._pending: dict[_Key, list[asyncio.Future[_Turns]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def conversation(self, platform: str, conversation_id: str) -> Conversation:
        future: asyncio.Future[_Turns] = asyncio.get_running_loop().create_future()
        self._pending.setdefault((platform, conversation_id), []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._drain())
        return self._engine.conversation_from(await future)

    async def _drain(self) -> None:
        # Each pass takes everything pending: the first request pays one query, and requests that
        # arrive during it share the next one.
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                turns = await self._store.conversations_turns(list(batch), self._limit)
            except Exception as exc:  # every waiter gets the failure; the webhook answers 503
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(turns.get(key, []))
