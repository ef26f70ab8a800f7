"""Body decoders shared by platform modules: every way bytes can fail becomes one of our error types."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from integrations.errors import InvalidPayload, MalformedPayload

# Far above any real webhook (Twilio sends ~20 fields); bounds the work a hostile body can cause.
MAX_FORM_FIELDS = 1000


def load_json_object(body: bytes) -> dict[str, object]:
    """A UTF-8 JSON object, or MalformedPayload (not JSON) / InvalidPayload (JSON, but not an object)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: deeply nested arrays are valid JSON grammar but exhaust the parser's stack.
        raise MalformedPayload("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayload("<body>: expected a JSON object")
    return data


def load_form(body: bytes) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded pairs, in order, repeats kept (the signature covers them all)."""
    try:
        text = body.decode("ascii")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=bool(text),
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:
        # Covers non-ASCII bytes, percent-escapes that are not UTF-8, fields without "=", too many fields.
        raise MalformedPayload("body is not form-encoded UTF-8") from None


def as_utc(value: datetime, field: str) -> datetime:
    """The time in UTC (a naive time is taken as UTC rather than refused, so the message is kept).

    Times near year 1 or 9999 with an offset cannot be moved to UTC; that is a bad field, not a crash.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidPayload(f"{field}: datetime_out_of_range") from None
