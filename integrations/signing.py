"""Shared pieces of webhook signature checks: header lookup, HMAC, constant-time compare, clock window."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

from integrations.errors import SignatureError

# Slack's and our generic webhook's replay window; also what CONTRACT.md promises (401 beyond 5 min).
TIMESTAMP_TOLERANCE_SECONDS = 300

# ASCII digits only: int() would also accept "1_700", " 17", "+17" and non-ASCII digits.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")


def get_header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts as well as multidicts."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def require_secret(secret: str | None) -> bytes:
    """An unset or empty secret must never verify anything (an empty HMAC key is guessable)."""
    if not secret:
        raise SignatureError("webhook secret not configured")
    return secret.encode("utf-8")


def hmac_sha256_hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def hmac_sha1_base64(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha1).digest()).decode("ascii")


def constant_time_equal(expected: str, given: str) -> bool:
    # compare_digest refuses non-ASCII str; header values are attacker-controlled, so compare bytes.
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )


def check_timestamp(
    value: str | None, *, now: float, tolerance: float = TIMESTAMP_TOLERANCE_SECONDS
) -> str:
    """Return the timestamp header as sent (it is part of the signed string) if within the window."""
    if value is None or not _TIMESTAMP.fullmatch(value):
        raise SignatureError("missing or malformed timestamp")
    if abs(now - int(value)) > tolerance:
        raise SignatureError("timestamp outside the allowed window")
    return value
