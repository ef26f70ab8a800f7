"""Re-notify timers, kept in the escalations table so they survive restarts and several
instances agree on who fires each one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .escalations import event_row, outbox_row
from .records import EscalationStatus, OutboxKind
from .tables import escalations, events, outbox


@dataclass(frozen=True, slots=True)
class DueRenotify:
    escalation_id: str
    next_renotify_at: datetime
    renotify_count: int
    posted: bool


async def due(engine: AsyncEngine, now: datetime, limit: int) -> list[DueRenotify]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                escalations.c.id,
                escalations.c.next_renotify_at,
                escalations.c.renotify_count,
                escalations.c.slack_ts,
            )
            .where(
                escalations.c.status == EscalationStatus.OPEN.value,
                escalations.c.next_renotify_at.is_not(None),
                escalations.c.next_renotify_at <= now,
            )
            .order_by(escalations.c.next_renotify_at)
            .limit(limit)
        )
        return [DueRenotify(r.id, r.next_renotify_at, r.renotify_count, r.slack_ts is not None) for r in rows]


async def fire(
    engine: AsyncEngine,
    timer: DueRenotify,
    *,
    now: datetime,
    next_at: datetime | None,
    deliveries: list[tuple[OutboxKind, str | None]],
) -> bool:
    """Advance one timer and queue its deliveries atomically. False if another instance fired it
    first or the escalation was acknowledged meanwhile: the update is conditional on the old timer."""
    async with engine.begin() as conn:
        won = await conn.execute(
            update(escalations)
            .where(
                escalations.c.id == timer.escalation_id,
                escalations.c.status == EscalationStatus.OPEN.value,
                escalations.c.next_renotify_at == timer.next_renotify_at,
            )
            .values(next_renotify_at=next_at, renotify_count=escalations.c.renotify_count + 1)
        )
        if won.rowcount != 1:
            return False
        if deliveries:
            await conn.execute(
                insert(outbox),
                [outbox_row(timer.escalation_id, kind, now, target) for kind, target in deliveries],
            )
        detail = {"count": timer.renotify_count + 1, "deliveries": len(deliveries)}
        await conn.execute(insert(events), [event_row(timer.escalation_id, "renotified", now, None, detail)])
        return True
