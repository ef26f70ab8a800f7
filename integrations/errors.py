"""Why a delivery was refused or skipped: one type per HTTP outcome, mapped to status in the bot.

Every `reason` is safe to log and to return to the caller: it names fields and checks, never
message text, identity values or other input values.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


class IntegrationError(Exception):
    """Base of everything a platform's `verify` or `parse` may raise."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(IntegrationError):
    """401: the signature is wrong or missing, or the timestamp is outside the window."""


class MalformedPayload(IntegrationError):
    """400: the body is not JSON / form data at all, or not in the expected encoding."""


class InvalidPayload(IntegrationError):
    """422: the body parses, but fields are missing or have the wrong type or value."""


class IgnoredEvent(IntegrationError):
    """A genuine delivery we deliberately do not store (the bot answers 2xx `{"ignored": reason}`)."""


def describe_validation_error(errors: Sequence[Mapping[str, object]], known_fields: frozenset[str]) -> str:
    """A short, field-naming reason built from pydantic error locations and types only.

    Error messages and unknown keys are never used: both can echo input (an unknown key could be
    a name, a message could quote the value), and reasons end up in logs and HTTP responses.
    """
    parts: list[str] = []
    for error in errors[:5]:
        loc = error.get("loc", ())
        path = ".".join(
            str(item) if isinstance(item, int) or item in known_fields else "<unknown>"
            for item in (loc if isinstance(loc, tuple) else ())
        )
        parts.append(f"{path or '<body>'}: {error.get('type', 'invalid')}")
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more")
    return "; ".join(parts)
