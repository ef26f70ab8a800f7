"""Plain records the store hands to the rest of the service (never ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from policy.types import Category, Channel, Indicator, Severity, SuggestedAction


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """Everything staff may see about an escalation. Holds no raw identity value:
    `masked_identity` maps each identity field present (name, phone, ...) to its masked form."""

    id: str
    status: EscalationStatus
    categories: tuple[Category, ...]
    severity: Severity
    platform: str
    channel: Channel
    conversation_id: str
    message_id: str
    link: str | None
    redacted_text: str
    indicators: tuple[Indicator, ...]
    actions: tuple[SuggestedAction, ...]
    masked_identity: dict[str, str]
    prior_escalations: int
    policy_version: str
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    renotify_count: int = 0


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One entry of an escalation's record: created, posted, acknowledged, reveal, reveal_refused, ..."""

    kind: str
    at: datetime
    actor: str | None = None
    detail: dict = field(default_factory=dict)


class OutboxKind(StrEnum):
    """What a queued Slack delivery does (see bot/delivery.py)."""

    POST = "post"
    ACK_UPDATE = "ack_update"
    ACK_REPLY = "ack_reply"
    RENOTIFY_REPLY = "renotify_reply"
    RENOTIFY_DM = "renotify_dm"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One queued Slack delivery, as claimed by a delivery worker."""

    id: int
    escalation_id: str
    kind: OutboxKind
    target: str | None
    attempts: int
    created_at: datetime
    attempted_at: datetime | None
    lease_until: datetime | None
