"""The schema as SQLAlchemy Core tables. Alembic (bot/migrations) owns creating and changing it;
these definitions are what the queries are written against and must match the latest revision."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware.

    SQLite keeps no offset, so a naive value read back is UTC by construction; a naive value
    handed in is taken as UTC too, so callers cannot create an hour-shifted timer by accident."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("platform", String(64), nullable=False),
    Column("message_id", String(256), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("conversation_id", String(256), nullable=False),
    Column("author_id", String(256), nullable=False),
    Column("author_kind", String(32), nullable=False),
    # Only ever the redacted text: the raw message is a promise to a child and never stored.
    Column("redacted_text", Text, nullable=False),
    Column("link", Text, nullable=True),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("suppressed", String(32), nullable=True),
    UniqueConstraint("platform", "message_id", name="uq_messages_platform_message_id"),
    Index("ix_messages_conversation", "platform", "conversation_id", "id"),
)

assessments = Table(
    "assessments",
    metadata,
    Column("message_pk", BigId, ForeignKey("messages.id"), primary_key=True),
    Column("escalate", Boolean, nullable=False),
    Column("categories", JSON, nullable=False),
    Column("severity", String(16), nullable=True),
    Column("indicators", JSON, nullable=False),
    Column("policy_version", String(64), nullable=False),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("message_pk", BigId, ForeignKey("messages.id"), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("severity", String(16), nullable=False),
    # platform:author_id, so staff see how often the same young person has needed help.
    Column("subject_key", String(330), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("slack_channel", String(64), nullable=True),
    Column("slack_ts", String(64), nullable=True),
    Column("next_renotify_at", UtcDateTime, nullable=True),
    Column("renotify_count", Integer, nullable=False, default=0),
    Column("link", Text, nullable=True),
    Column("redacted_text", Text, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("masked_identity", JSON, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Index("ix_escalations_subject", "subject_key", "message_pk"),
    Index("ix_escalations_renotify", "status", "next_renotify_at"),
    Index("ix_escalations_created", "created_at"),
)

# Raw identity values, kept only so a safeguarding lead can reveal them; nothing else stores them.
identities = Table(
    "identities",
    metadata,
    Column("escalation_id", String(36), ForeignKey("escalations.id"), primary_key=True),
    Column("field", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("escalation_id", String(36), ForeignKey("escalations.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_events_escalation", "escalation_id", "id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("escalation_id", String(36), ForeignKey("escalations.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    # Set just before a request leaves: a later attempt must first check whether it landed.
    Column("attempted_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Column("error", String(64), nullable=True),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_escalation", "escalation_id"),
)
