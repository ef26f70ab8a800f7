"""Low-rate reads and writes of escalations, for Slack handlers and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from policy.types import AuthorKind, Category, Channel, Indicator, Severity, SuggestedAction

from .records import EscalationRecord, EscalationStatus, OutboxKind, OutboxStatus, TimelineEvent
from .tables import assessments, escalations, events, identities, messages, outbox

_prior = escalations.alias("prior")
_PRIOR_COUNT = (
    select(func.count())
    .where(_prior.c.subject_key == escalations.c.subject_key, _prior.c.message_pk < escalations.c.message_pk)
    .scalar_subquery()
    .label("prior_escalations")
)
_RECORD_QUERY = select(
    escalations,
    messages.c.platform,
    messages.c.channel,
    messages.c.conversation_id,
    messages.c.message_id,
    _PRIOR_COUNT,
).select_from(escalations.join(messages, messages.c.id == escalations.c.message_pk))


def _record(row: Row[Any]) -> EscalationRecord:
    m = row._mapping
    return EscalationRecord(
        id=m["id"],
        status=EscalationStatus(m["status"]),
        categories=tuple(Category(c) for c in m["categories"]),
        severity=Severity(m["severity"]),
        platform=m["platform"],
        channel=Channel(m["channel"]),
        conversation_id=m["conversation_id"],
        message_id=m["message_id"],
        link=m["link"],
        redacted_text=m["redacted_text"],
        indicators=tuple(Indicator(i["name"], i["start"], i["end"]) for i in m["indicators"]),
        actions=tuple(SuggestedAction(a["id"], a["text"]) for a in m["actions"]),
        masked_identity=dict(m["masked_identity"]),
        prior_escalations=int(m["prior_escalations"]),
        policy_version=m["policy_version"],
        created_at=m["created_at"],
        acknowledged_by=m["acknowledged_by"],
        acknowledged_at=m["acknowledged_at"],
        slack_channel=m["slack_channel"],
        slack_ts=m["slack_ts"],
        renotify_count=m["renotify_count"],
    )


def event_row(
    escalation_id: str,
    kind: str,
    at: datetime,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"escalation_id": escalation_id, "kind": kind, "actor": actor, "at": at, "detail": detail or {}}


def outbox_row(
    escalation_id: str, kind: OutboxKind, now: datetime, target: str | None = None
) -> dict[str, Any]:
    return {
        "escalation_id": escalation_id,
        "kind": kind.value,
        "target": target,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def get_escalation(conn: AsyncConnection, escalation_id: str) -> EscalationRecord | None:
    row = (await conn.execute(_RECORD_QUERY.where(escalations.c.id == escalation_id))).first()
    return _record(row) if row is not None else None


async def list_escalations(
    conn: AsyncConnection, status: EscalationStatus | None, limit: int
) -> list[EscalationRecord]:
    query = _RECORD_QUERY.order_by(escalations.c.created_at.desc(), escalations.c.message_pk.desc()).limit(
        limit
    )
    if status is not None:
        query = query.where(escalations.c.status == status.value)
    return [_record(row) for row in await conn.execute(query)]


async def timeline(conn: AsyncConnection, escalation_id: str) -> list[TimelineEvent]:
    rows = await conn.execute(
        select(events.c.kind, events.c.at, events.c.actor, events.c.detail)
        .where(events.c.escalation_id == escalation_id)
        .order_by(events.c.id)
    )
    return [TimelineEvent(kind=r.kind, at=r.at, actor=r.actor, detail=dict(r.detail or {})) for r in rows]


async def acknowledge(engine: AsyncEngine, escalation_id: str, user_id: str, at: datetime) -> bool:
    async with engine.begin() as conn:
        # The WHERE status='open' makes two simultaneous clicks race safely: one row update wins.
        won = await conn.execute(
            update(escalations)
            .where(escalations.c.id == escalation_id, escalations.c.status == EscalationStatus.OPEN.value)
            .values(
                status=EscalationStatus.ACKNOWLEDGED.value,
                acknowledged_by=user_id,
                acknowledged_at=at,
                next_renotify_at=None,  # stops the re-notify chain
            )
        )
        if won.rowcount == 1:
            await conn.execute(insert(events), [event_row(escalation_id, "acknowledged", at, user_id)])
            await conn.execute(
                insert(outbox),
                [
                    outbox_row(escalation_id, OutboxKind.ACK_UPDATE, at),
                    outbox_row(escalation_id, OutboxKind.ACK_REPLY, at),
                ],
            )
            return True
        exists = await conn.scalar(select(escalations.c.id).where(escalations.c.id == escalation_id))
        if exists is not None:
            await conn.execute(insert(events), [event_row(escalation_id, "ack_repeat", at, user_id)])
        return False


async def reveal(
    engine: AsyncEngine, escalation_id: str, user_id: str, allowed: bool, at: datetime
) -> dict[str, str] | None:
    async with engine.begin() as conn:
        exists = await conn.scalar(select(escalations.c.id).where(escalations.c.id == escalation_id))
        if exists is None:
            return None
        rows = (
            await conn.execute(
                select(identities.c.field, identities.c.value)
                .where(identities.c.escalation_id == escalation_id)
                .order_by(identities.c.field)
            )
        ).all()
        # The audit names the fields, never their values.
        detail = {"fields": [r.field for r in rows]}
        kind = "reveal" if allowed else "reveal_refused"
        await conn.execute(insert(events), [event_row(escalation_id, kind, at, user_id, detail)])
    return {r.field: r.value for r in rows} if allowed else None


async def record_event(
    engine: AsyncEngine,
    escalation_id: str,
    kind: str,
    actor: str | None,
    detail: dict[str, Any] | None,
    at: datetime | None = None,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(events), [event_row(escalation_id, kind, at or datetime.now(UTC), actor, detail)]
        )


async def conversations_turns(
    conn: AsyncConnection, keys: Sequence[tuple[str, str]], limit: int
) -> dict[tuple[str, str], list[tuple[str, list[str]]]]:
    """For each (platform, conversation id): (redacted text, escalated categories) of its latest
    `limit` assessed young-person messages, oldest first — what the policy engine needs to rebuild a
    conversation's context without re-assessing. One query for any number of conversations."""
    if not keys:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=(messages.c.platform, messages.c.conversation_id), order_by=messages.c.id.desc())
        .label("rank")
    )
    recent = (
        select(
            messages.c.platform,
            messages.c.conversation_id,
            messages.c.id,
            messages.c.redacted_text,
            assessments.c.escalate,
            assessments.c.categories,
            rank,
        )
        .select_from(messages.outerjoin(assessments, assessments.c.message_pk == messages.c.id))
        .where(
            tuple_(messages.c.platform, messages.c.conversation_id).in_(list(keys)),
            messages.c.author_kind == AuthorKind.YOUNG_PERSON.value,
            messages.c.suppressed.is_(None),
        )
        .subquery()
    )
    rows: Sequence[Row[Any]] = (
        await conn.execute(select(recent).where(recent.c.rank <= limit).order_by(recent.c.id))
    ).all()
    turns: dict[tuple[str, str], list[tuple[str, list[str]]]] = {key: [] for key in keys}
    for r in rows:
        categories = list(r.categories or []) if r.escalate else []
        turns[(r.platform, r.conversation_id)].append((r.redacted_text, categories))
    return turns
