"""Initial schema: messages, assessments, escalations, identities, events, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Mirrors bot/store/tables.py at this revision; written out so later edits there cannot rewrite history.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(256), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(256), nullable=False),
        sa.Column("author_id", sa.String(256), nullable=False),
        sa.Column("author_kind", sa.String(32), nullable=False),
        sa.Column("redacted_text", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=True),
        sa.Column("sent_at", _TS, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("suppressed", sa.String(32), nullable=True),
        sa.UniqueConstraint("platform", "message_id", name="uq_messages_platform_message_id"),
    )
    op.create_index("ix_messages_conversation", "messages", ["platform", "conversation_id", "id"])
    op.create_table(
        "assessments",
        sa.Column("message_pk", _BIG_ID, sa.ForeignKey("messages.id"), primary_key=True),
        sa.Column("escalate", sa.Boolean, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("severity", sa.String(16), nullable=True),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("message_pk", _BIG_ID, sa.ForeignKey("messages.id"), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(330), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("slack_channel", sa.String(64), nullable=True),
        sa.Column("slack_ts", sa.String(64), nullable=True),
        sa.Column("next_renotify_at", _TS, nullable=True),
        sa.Column("renotify_count", sa.Integer, nullable=False),
        sa.Column("link", sa.Text, nullable=True),
        sa.Column("redacted_text", sa.Text, nullable=False),
        sa.Column("indicators", sa.JSON, nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("masked_identity", sa.JSON, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
    )
    op.create_index("ix_escalations_subject", "escalations", ["subject_key", "message_pk"])
    op.create_index("ix_escalations_renotify", "escalations", ["status", "next_renotify_at"])
    op.create_index("ix_escalations_created", "escalations", ["created_at"])
    op.create_table(
        "identities",
        sa.Column("escalation_id", sa.String(36), sa.ForeignKey("escalations.id"), primary_key=True),
        sa.Column("field", sa.String(32), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.String(36), sa.ForeignKey("escalations.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_escalation", "events", ["escalation_id", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.String(36), sa.ForeignKey("escalations.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("attempted_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("done_at", _TS, nullable=True),
        sa.Column("error", sa.String(64), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_escalation", "outbox", ["escalation_id"])


def downgrade() -> None:
    for table in ("outbox", "events", "identities", "escalations", "assessments", "messages"):
        op.drop_table(table)
