"""What the webhook hands the store (IngestItem) and the one-transaction batch write behind it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from integrations.model import InboundMessage
from policy.types import Assessment, AuthorKind, Channel

from .records import EscalationStatus, OutboxKind, OutboxStatus
from .tables import assessments, escalations, events, identities, messages, outbox


@dataclass(frozen=True, slots=True)
class MessageFields:
    """The stored facts about a message, for callers that do not hold an InboundMessage."""

    platform: str
    message_id: str
    channel: Channel
    conversation_id: str
    author_id: str
    author_kind: AuthorKind
    sent_at: datetime
    link: str | None = None


@dataclass(frozen=True, slots=True)
class IngestItem:
    """One message to store. `message` is an InboundMessage or MessageFields; its raw text is never read.

    `identity` holds raw identifying values: stored (for the reveal) only when the assessment escalates."""

    message: InboundMessage | MessageFields
    redacted_text: str
    assessment: Assessment
    identity: dict[str, str] = field(default_factory=dict)
    masked_identity: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.message.platform, self.message.message_id)

    @property
    def author_id(self) -> str:
        if isinstance(self.message, InboundMessage):
            return self.message.author.id
        return self.message.author_id

    @property
    def author_kind(self) -> str:
        kind = (
            self.message.author.kind if isinstance(self.message, InboundMessage) else self.message.author_kind
        )
        return str(kind)


@dataclass(frozen=True, slots=True)
class IngestResult:
    duplicate: bool
    escalation_id: str | None


def _insert(conn: AsyncConnection, table: Any) -> Any:
    # Both dialects spell "skip rows that would break a unique constraint" the same way.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _message_row(item: IngestItem, received_at: datetime) -> dict[str, Any]:
    m = item.message
    suppressed = item.assessment.suppressed
    return {
        "platform": m.platform,
        "message_id": m.message_id,
        "channel": str(m.channel),
        "conversation_id": m.conversation_id,
        "author_id": item.author_id,
        "author_kind": item.author_kind,
        "redacted_text": item.redacted_text,
        "link": m.link,
        "sent_at": m.sent_at,
        "received_at": received_at,
        "suppressed": str(suppressed) if suppressed else None,
    }


def _indicators(a: Assessment) -> list[dict[str, Any]]:
    return [{"name": i.name, "start": i.start, "end": i.end} for i in a.indicators]


async def write_batch(
    conn: AsyncConnection,
    items: Sequence[IngestItem],
    *,
    now: datetime,
    renotify_after: timedelta,
) -> list[IngestResult]:
    """Write every item inside the caller's transaction; return one result per item, in order.

    A repeat of a stored message (or of an earlier item in the same batch) changes nothing."""
    first_by_key: dict[tuple[str, str], IngestItem] = {}
    for item in items:
        first_by_key.setdefault(item.key, item)
    unique_items = list(first_by_key.values())

    inserted = await conn.execute(
        _insert(conn, messages)
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(messages.c.id, messages.c.platform, messages.c.message_id),
        [_message_row(item, now) for item in unique_items],
    )
    new_pk = {(row.platform, row.message_id): row.id for row in inserted}

    assessment_rows: list[dict[str, Any]] = []
    escalation_rows: list[dict[str, Any]] = []
    identity_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    escalation_by_key: dict[tuple[str, str], str] = {}
    for item in unique_items:
        pk = new_pk.get(item.key)
        if pk is None:
            continue
        a = item.assessment
        assessment_rows.append(
            {
                "message_pk": pk,
                "escalate": a.escalate,
                "categories": [str(c) for c in a.categories],
                "severity": str(a.severity) if a.severity else None,
                "indicators": _indicators(a),
                "policy_version": a.policy_version,
            }
        )
        if not a.escalate:
            continue
        esc_id = str(uuid.uuid4())
        escalation_by_key[item.key] = esc_id
        escalation_rows.append(
            {
                "id": esc_id,
                "message_pk": pk,
                "status": EscalationStatus.OPEN.value,
                "categories": [str(c) for c in a.categories],
                # An escalation without a severity would be a policy bug; treat it as the most urgent.
                "severity": str(a.severity) if a.severity else "critical",
                "subject_key": f"{item.message.platform}:{item.author_id}",
                "created_at": now,
                "next_renotify_at": now + renotify_after,
                "renotify_count": 0,
                "link": item.message.link,
                "redacted_text": item.redacted_text,
                "indicators": _indicators(a),
                "actions": [{"id": s.id, "text": s.text} for s in a.actions],
                "masked_identity": dict(item.masked_identity),
                "policy_version": a.policy_version,
            }
        )
        identity_rows.extend(
            {"escalation_id": esc_id, "field": f, "value": v} for f, v in item.identity.items() if v
        )
        event_rows.append(
            {"escalation_id": esc_id, "kind": "created", "actor": None, "at": now, "detail": {}}
        )
        outbox_rows.append(
            {
                "escalation_id": esc_id,
                "kind": OutboxKind.POST.value,
                "target": None,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )

    # Parents before children, so foreign keys hold at every statement.
    for table, rows in (
        (assessments, assessment_rows),
        (escalations, escalation_rows),
        (identities, identity_rows),
        (events, event_rows),
        (outbox, outbox_rows),
    ):
        if rows:
            await conn.execute(insert(table), rows)

    duplicate_keys = [key for key in first_by_key if key not in new_pk]
    if duplicate_keys:
        existing = await conn.execute(
            select(messages.c.platform, messages.c.message_id, escalations.c.id)
            .select_from(messages.outerjoin(escalations, escalations.c.message_pk == messages.c.id))
            .where(tuple_(messages.c.platform, messages.c.message_id).in_(duplicate_keys))
        )
        for row in existing:
            if row.id is not None:
                escalation_by_key[(row.platform, row.message_id)] = row.id

    results: list[IngestResult] = []
    claimed: set[tuple[str, str]] = set()
    for item in items:
        fresh = item.key in new_pk and item.key not in claimed
        claimed.add(item.key)
        results.append(IngestResult(duplicate=not fresh, escalation_id=escalation_by_key.get(item.key)))
    return results
