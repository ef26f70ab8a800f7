"""The one repository the rest of the service talks to; each method's SQL lives in a module
named for what it touches (ingest, escalations, outbox, renotify)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from . import escalations as esc
from .engine import create_engine
from .migrate import upgrade_head
from .records import EscalationRecord, EscalationStatus, TimelineEvent

log = logging.getLogger(__name__)


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> Store:
        return cls(create_engine(url))

    async def migrate(self) -> None:
        """Bring the schema to Alembic's head (safe to call on every start)."""
        await upgrade_head(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness must answer, not raise
            log.warning("database ping failed: error=%s", type(exc).__name__)
            return False
        return True

    async def get_escalation(self, escalation_id: str) -> EscalationRecord | None:
        async with self.engine.connect() as conn:
            return await esc.get_escalation(conn, escalation_id)

    async def list_escalations(
        self, status: EscalationStatus | None = None, limit: int = 100
    ) -> list[EscalationRecord]:
        async with self.engine.connect() as conn:
            return await esc.list_escalations(conn, status, limit)

    async def timeline(self, escalation_id: str) -> list[TimelineEvent]:
        async with self.engine.connect() as conn:
            return await esc.timeline(conn, escalation_id)

    async def acknowledge(self, escalation_id: str, user_id: str, at: datetime) -> bool:
        """True if this call acknowledged it; False if it was already acknowledged (or unknown)."""
        return await esc.acknowledge(self.engine, escalation_id, user_id, at)

    async def reveal(self, escalation_id: str, user_id: str, allowed: bool) -> dict[str, str] | None:
        """Audit the request; return raw identity values only when `allowed`."""
        return await esc.reveal(self.engine, escalation_id, user_id, allowed, datetime.now(UTC))

    async def record_event(
        self,
        escalation_id: str,
        kind: str,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await esc.record_event(self.engine, escalation_id, kind, actor, detail)

    async def conversation_turns(
        self, platform: str, conversation_id: str, limit: int = 10
    ) -> list[tuple[str, list[str]]]:
        """(redacted text, escalated categories) of the latest young-person messages, oldest first."""
        key = (platform, conversation_id)
        return (await self.conversations_turns([key], limit))[key]

    async def conversations_turns(
        self, keys: Sequence[tuple[str, str]], limit: int = 10
    ) -> dict[tuple[str, str], list[tuple[str, list[str]]]]:
        """The same for many (platform, conversation id) pairs in one query."""
        async with self.engine.connect() as conn:
            return await esc.conversations_turns(conn, keys, limit)
