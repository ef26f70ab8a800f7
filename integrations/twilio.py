"""Twilio Conversations `onMessageAdded` post-event webhooks (form-encoded, `X-Twilio-Signature`).

Twilio signs the full public URL plus the POST parameters and sends no timestamp, so there is no
replay window. Replay protection is the MessageSid: it is the message id, and the store treats a
repeat of an already-stored (platform, message id) as a no-op, which also absorbs Twilio's retries.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from integrations.decoding import as_utc, load_form
from integrations.errors import (
    IgnoredEvent,
    IntegrationError,
    InvalidPayload,
    SignatureError,
    describe_validation_error,
)
from integrations.model import Author, Identity, InboundMessage
from integrations.routing import Routing
from integrations.signing import constant_time_equal, get_header, hmac_sha1_base64, require_secret
from policy.types import AuthorKind

SIGNATURE_HEADER = "X-Twilio-Signature"
STORED_EVENT = "onMessageAdded"
# Twilio's own author for messages the platform itself posts.
SYSTEM_AUTHOR = "system"
_DEFAULT_PORTS = {"https": 443, "http": 80}
# SMS / WhatsApp / Messenger participants are named by their address, which is personal data.
_ADDRESS = re.compile(r"^(?:[a-z]+:)?\+?[0-9][0-9 ()-]{5,}$|@", re.IGNORECASE)


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(token, url + name1 + value1 + name2 + value2 …)), names in code-point order.

    A name sent more than once contributes each distinct value, values sorted, as Twilio's own
    validators do.
    """
    signed = [url]
    for name in sorted({name for name, _ in params}):
        for value in sorted({v for n, v in params if n == name}):
            signed.append(name + value)
    return hmac_sha1_base64(auth_token.encode("utf-8"), "".join(signed).encode("utf-8"))


def _url_variants(url: str) -> list[str]:
    """The URL as given, plus with the default port added or removed: Twilio signs the URL as it
    was configured in the console, which may or may not spell out :443."""
    variants = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return variants
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.netloc or "@" in parts.netloc:
        return variants
    if port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif port == default:
        variants.append(urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])))
    return variants


class MessageAdded(BaseModel):
    """The onMessageAdded fields we use; Twilio sends more (Media, ChatServiceSid, RetryCount…)."""

    model_config = ConfigDict(extra="ignore")

    EventType: str
    MessageSid: str = Field(min_length=1, max_length=256)
    ConversationSid: str = Field(min_length=1, max_length=256)
    Author: str = Field(min_length=1, max_length=256)
    DateCreated: datetime
    Body: str = ""
    ParticipantSid: str | None = None
    Source: str | None = None
    Attributes: str | None = None


_KNOWN_FIELDS = (
    frozenset(MessageAdded.model_fields)
    | frozenset(InboundMessage.model_fields)
    | frozenset(Author.model_fields)
    | frozenset(Identity.model_fields)
)


class TwilioPlatform:
    name = "twilio"

    def __init__(self, auth_token: str | None, routing: Routing | None = None) -> None:
        self._auth_token = auth_token
        self._routing = routing or Routing()

    def verify(self, *, body: bytes, headers: Mapping[str, str], url: str, now: float) -> None:
        """`url` is SAFEGUARD_PUBLIC_URL + "/webhooks/twilio" (plus any query string Twilio called)."""
        require_secret(self._auth_token)
        token = self._auth_token or ""
        given = get_header(headers, SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing signature")
        try:
            params = load_form(body)
        except IntegrationError:
            # A body we cannot read cannot be shown to match the signature.
            raise SignatureError("signature mismatch") from None
        for candidate in _url_variants(url):
            if constant_time_equal(twilio_signature(token, candidate, params), given):
                return
        raise SignatureError("signature mismatch")

    def parse(self, *, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        fields: dict[str, str] = {}
        for name, value in load_form(body):
            fields.setdefault(name, value)
        event = fields.get("EventType")
        if event is not None and event != STORED_EVENT:
            raise IgnoredEvent(f"twilio event {event[:40]!r} is not stored")
        try:
            added = MessageAdded.model_validate(fields)
        except ValidationError as exc:
            raise InvalidPayload(describe_validation_error(exc.errors(), _KNOWN_FIELDS)) from None

        is_address = bool(_ADDRESS.search(added.Author))
        try:
            return InboundMessage(
                platform=self.name,
                message_id=added.MessageSid,
                channel=self._routing.channel_for(
                    self.name, added.ConversationSid, hint=_channel_hint(added.Attributes)
                ),
                conversation_id=added.ConversationSid,
                author=Author(
                    id=added.ParticipantSid if is_address and added.ParticipantSid else added.Author,
                    kind=self._author_kind(added),
                    display_name=None if is_address else added.Author,
                ),
                text=added.Body,
                sent_at=as_utc(added.DateCreated, "DateCreated"),
                identity=_identity(added.Author) if is_address else Identity(),
            )
        except ValidationError as exc:
            raise InvalidPayload(describe_validation_error(exc.errors(), _KNOWN_FIELDS)) from None

    def _author_kind(self, added: MessageAdded) -> AuthorKind:
        default = AuthorKind.BOT if added.Author == SYSTEM_AUTHOR else AuthorKind.YOUNG_PERSON
        ids = [added.Author] + ([added.ParticipantSid] if added.ParticipantSid else [])
        return self._routing.author_kind(self.name, ids, default=default)


def _channel_hint(attributes: str | None) -> str | None:
    """`{"channel": "group_chat"}` in the message Attributes; unreadable attributes give no hint
    rather than an error, since they are free-form and must not cost us the message."""
    if not attributes:
        return None
    try:
        data = json.loads(attributes)
    except (ValueError, RecursionError):
        return None
    channel = data.get("channel") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) else None


def _identity(address: str) -> Identity:
    bare = address.split(":", 1)[1] if ":" in address and not address.startswith("+") else address
    if "@" in bare:
        return Identity(email=bare)
    return Identity(phone=bare)
