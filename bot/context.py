"""Conversation context from the database: risk that builds up over turns is seen, on any instance.

The engine keeps context as the recent turns of a conversation (policy.Conversation). We rebuild it
per message from the stored redacted texts of the conversation's earlier young-person messages and
the categories each escalated for; the store leaves out chatbot output and suppressed messages, so
they never count as context."""

from __future__ import annotations

from bot.store import Store
from policy import Conversation, Engine
from policy.engine import CONTEXT_TURNS


async def conversation_context(store: Store, engine: Engine, *, platform: str, conversation_id: str) -> Conversation:
    """The conversation's recent young-person turns with how each was decided, oldest first; the
    engine rebuilds context from them without assessing them again."""
    turns = await store.conversation_turns(platform, conversation_id, limit=CONTEXT_TURNS)
    return engine.conversation_from(turns)
