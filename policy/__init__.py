"""The confidentiality policy as code: pure functions and data, no I/O beyond reading its rules file."""
from policy.engine import Conversation, Engine, suppression
from policy.redaction import redact
from policy.types import Assessment, AuthorKind, Category, Channel, Severity, Suppression

__all__ = [
    "Assessment", "AuthorKind", "Category", "Channel", "Conversation", "Engine", "Severity",
    "Suppression", "redact", "suppression",
]
