"""Persistence: the schema, the group-commit writer and the repository the service uses."""

from .ingest import IngestItem, IngestResult, MessageFields
from .records import (
    EscalationRecord,
    EscalationStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    TimelineEvent,
)
from .store import Store
from .writer import GroupCommitWriter, WriterStopped

__all__ = [
    "EscalationRecord",
    "EscalationStatus",
    "GroupCommitWriter",
    "IngestItem",
    "IngestResult",
    "MessageFields",
    "OutboxItem",
    "OutboxKind",
    "OutboxStatus",
    "Store",
    "TimelineEvent",
    "WriterStopped",
]
