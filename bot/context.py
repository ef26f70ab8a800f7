"""Conversation context from the database: risk that builds up over turns is seen, on any instance.

The engine keeps context as signals of recent turns (policy.Conversation). We rebuild it per
message from the stored redacted texts of the conversation's earlier young-person messages; the
store already leaves out chatbot output and suppressed messages, so they never count as context."""

from __future__ import annotations

from bot.store import Store
from policy import Conversation, Engine
from policy.engine import CONTEXT_TURNS
from policy.types import AuthorKind, Channel


async def conversation_context(
    store: Store, engine: Engine, *, platform: str, conversation_id: str, channel: Channel
) -> Conversation:
    conversation = Conversation()
    for text in await store.conversation_history(platform, conversation_id, limit=CONTEXT_TURNS):
        # Re-assessing a redacted text yields the same signal families (placeholders carry no signal);
        # only its effect on `conversation` is kept.
        engine.assess(text, channel=channel, author=AuthorKind.YOUNG_PERSON, conversation=conversation)
    return conversation
