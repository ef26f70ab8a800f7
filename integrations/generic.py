"""The documented generic JSON webhook (CONTRACT.md §3), signed with Slack's v0 scheme."""
from __future__ import annotations

from collections.abc import Mapping

from pydantic import ConfigDict, ValidationError

from integrations.decoding import as_utc, load_json_object
from integrations.errors import InvalidPayload, SignatureError, describe_validation_error
from integrations.model import Author, Identity, InboundMessage
from integrations.routing import Routing
from integrations.signing import (
    check_timestamp,
    constant_time_equal,
    get_header,
    hmac_sha256_hex,
    require_secret,
)

TIMESTAMP_HEADER = "X-Safeguard-Request-Timestamp"
SIGNATURE_HEADER = "X-Safeguard-Signature"


class GenericBody(InboundMessage):
    """The contract's body: unknown top-level fields are ignored (senders may add their own),
    while `identity` stays strict so a misspelt identity field is an error, not a silent loss."""

    model_config = ConfigDict(extra="ignore")


_KNOWN_FIELDS = frozenset(GenericBody.model_fields) | frozenset(Author.model_fields) | frozenset(
    Identity.model_fields
)


class GenericPlatform:
    name = "generic"

    def __init__(self, secret: str | None, routing: Routing | None = None) -> None:
        self._secret = secret
        self._routing = routing or Routing()

    def verify(self, *, body: bytes, headers: Mapping[str, str], url: str, now: float) -> None:
        key = require_secret(self._secret)
        timestamp = check_timestamp(get_header(headers, TIMESTAMP_HEADER), now=now)
        given = get_header(headers, SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing signature")
        expected = "v0=" + hmac_sha256_hex(key, b"v0:" + timestamp.encode("ascii") + b":" + body)
        if not constant_time_equal(expected, given):
            raise SignatureError("signature mismatch")

    def parse(self, *, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        data = load_json_object(body)
        try:
            parsed = GenericBody.model_validate(data)
        except ValidationError as exc:
            raise InvalidPayload(describe_validation_error(exc.errors(), _KNOWN_FIELDS)) from None
        kind = self._routing.author_kind(
            parsed.platform, [parsed.author.id], default=parsed.author.kind
        )
        fields = {name: getattr(parsed, name) for name in InboundMessage.model_fields}
        fields["author"] = parsed.author.model_copy(update={"kind": kind})
        fields["sent_at"] = as_utc(parsed.sent_at, "sent_at")
        return InboundMessage(**fields)

