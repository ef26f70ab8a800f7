"""The outbox: Slack deliveries queued in the same transaction as the change that needs them.

Rows are claimed with a lease, so several service instances can run workers against one
PostgreSQL database: a row is worked on by one lease holder at a time, and a crashed holder's rows
come back once its lease expires. Every step that matters is fenced on the lease owner."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .escalations import event_row
from .records import OutboxItem, OutboxKind, OutboxStatus
from .tables import escalations, events, outbox


def _item(row: Row[Any]) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        escalation_id=row.escalation_id,
        kind=OutboxKind(row.kind),
        target=row.target,
        attempts=row.attempts,
        created_at=row.created_at,
        attempted_at=row.attempted_at,
        lease_until=row.lease_until,
    )


async def claim(
    engine: AsyncEngine, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[OutboxItem]:
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        # PostgreSQL: concurrent claimers skip each other's rows instead of queueing on them.
        # SQLite ignores this; it is one process with one writer at a time anyway.
        .with_for_update(skip_locked=True)
    )
    async with engine.begin() as conn:
        rows = await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(due.scalar_subquery()))
            .values(lease_owner=worker_id, lease_until=now + lease, attempts=outbox.c.attempts + 1)
            .returning(*outbox.c)
        )
        return sorted((_item(r) for r in rows), key=lambda i: i.id)


def _held(row_id: int, worker_id: str) -> Any:
    return (
        (outbox.c.id == row_id)
        & (outbox.c.status == OutboxStatus.PENDING.value)
        & (outbox.c.lease_owner == worker_id)
    )


async def mark_attempted(
    engine: AsyncEngine, row_id: int, worker_id: str, now: datetime, lease: timedelta
) -> bool:
    """Record that a request may be about to reach Slack, renewing the lease; False if the lease was lost."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(outbox).where(_held(row_id, worker_id)).values(attempted_at=now, lease_until=now + lease)
        )
        return result.rowcount == 1


async def complete(
    engine: AsyncEngine,
    item: OutboxItem,
    now: datetime,
    *,
    posted: tuple[str, str] | None = None,
    event: tuple[str, dict[str, Any]] | None = None,
    error: str | None = None,
) -> bool:
    """Mark the row done; for a post also store where it landed. False if it was already finished."""
    async with engine.begin() as conn:
        # Not fenced on the lease owner: the work is done whoever finishes it, and a holder that is
        # mid-attempt reconciles against Slack before sending anything.
        result = await conn.execute(
            update(outbox)
            .where(outbox.c.id == item.id, outbox.c.status == OutboxStatus.PENDING.value)
            .values(
                status=OutboxStatus.DONE.value, done_at=now, lease_owner=None, lease_until=None, error=error
            )
        )
        if result.rowcount != 1:
            return False
        if posted is not None:
            channel, ts = posted
            await conn.execute(
                update(escalations)
                .where(escalations.c.id == item.escalation_id, escalations.c.slack_ts.is_(None))
                .values(slack_channel=channel, slack_ts=ts)
            )
        if event is not None:
            kind, detail = event
            await conn.execute(insert(events), [event_row(item.escalation_id, kind, now, None, detail)])
        return True


async def retry_later(
    engine: AsyncEngine, item: OutboxItem, worker_id: str, next_attempt_at: datetime, error: str | None
) -> None:
    """Give the row back, due again at `next_attempt_at`."""
    async with engine.begin() as conn:
        await conn.execute(
            update(outbox)
            .where(_held(item.id, worker_id))
            .values(next_attempt_at=next_attempt_at, lease_owner=None, lease_until=None, error=error)
        )


async def fail(engine: AsyncEngine, item: OutboxItem, worker_id: str, now: datetime, error: str) -> bool:
    """A permanent failure: the row stops, and the escalation's timeline says so."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(outbox)
            .where(_held(item.id, worker_id))
            .values(
                status=OutboxStatus.FAILED.value, done_at=now, lease_owner=None, lease_until=None, error=error
            )
        )
        if result.rowcount != 1:
            return False
        detail = {"outbox_id": item.id, "kind": item.kind.value, "error": error}
        await conn.execute(
            insert(events), [event_row(item.escalation_id, "delivery_failed", now, None, detail)]
        )
        return True


async def post_status(engine: AsyncEngine, escalation_id: str) -> OutboxStatus | None:
    async with engine.connect() as conn:
        status = await conn.scalar(
            select(outbox.c.status)
            .where(outbox.c.escalation_id == escalation_id, outbox.c.kind == OutboxKind.POST.value)
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
    return OutboxStatus(status) if status is not None else None


async def rows_for(engine: AsyncEngine, escalation_id: str) -> list[dict[str, Any]]:
    """Every outbox row of an escalation, for operators and tests."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox).where(outbox.c.escalation_id == escalation_id).order_by(outbox.c.id)
        )
        return [dict(r._mapping) for r in rows]
