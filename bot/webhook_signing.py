"""Build signed webhook requests as each platform would send them (demo, tests, benchmarks).

The signatures come from the same primitives the verifiers use, so a request built here is exactly
what a correctly configured platform delivers."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from integrations.discourse import EVENT_HEADER
from integrations.discourse import SIGNATURE_HEADER as DISCOURSE_SIGNATURE
from integrations.generic import SIGNATURE_HEADER as GENERIC_SIGNATURE
from integrations.generic import TIMESTAMP_HEADER
from integrations.signing import hmac_sha256_hex
from integrations.twilio import SIGNATURE_HEADER as TWILIO_SIGNATURE
from integrations.twilio import twilio_signature


@dataclass(frozen=True)
class SignedRequest:
    path: str
    body: bytes
    headers: dict[str, str]


def generic(secret: str, payload: Mapping[str, Any], *, now: float | None = None) -> SignedRequest:
    body = json.dumps(payload).encode("utf-8")
    timestamp = str(int(now if now is not None else time.time()))
    signature = "v0=" + hmac_sha256_hex(secret.encode(), b"v0:" + timestamp.encode() + b":" + body)
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        GENERIC_SIGNATURE: signature,
    }
    return SignedRequest("/webhooks/generic", body, headers)


def discourse(secret: str, payload: Mapping[str, Any], *, event: str = "post_created") -> SignedRequest:
    body = json.dumps(payload).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        DISCOURSE_SIGNATURE: "sha256=" + hmac_sha256_hex(secret.encode(), body),
    }
    return SignedRequest("/webhooks/discourse", body, headers)


def twilio(auth_token: str, public_url: str, params: Sequence[tuple[str, str]]) -> SignedRequest:
    """`public_url` is SAFEGUARD_PUBLIC_URL: Twilio signs the full URL it was configured with."""
    path = "/webhooks/twilio"
    signature = twilio_signature(auth_token, public_url.rstrip("/") + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", TWILIO_SIGNATURE: signature}
    return SignedRequest(path, urlencode(list(params)).encode("ascii"), headers)
