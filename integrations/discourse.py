"""Discourse post webhooks (post_created, post_edited), signed `sha256=<hex HMAC-SHA256(secret, body)>`.

Discourse signs the body only and sends no timestamp, so there is no replay window: a replayed
delivery carries the same post id and `updated_at`, hence the same message id, and the store's
dedup makes it a no-op.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from integrations.decoding import as_utc, load_json_object
from integrations.errors import IgnoredEvent, InvalidPayload, SignatureError, describe_validation_error
from integrations.model import Author, Identity, InboundMessage
from integrations.routing import Routing
from integrations.signing import constant_time_equal, get_header, hmac_sha256_hex, require_secret
from policy.types import AuthorKind

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
EVENT_HEADER = "X-Discourse-Event"
EVENT_ID_HEADER = "X-Discourse-Event-Id"
INSTANCE_HEADER = "X-Discourse-Instance"

STORED_EVENTS = frozenset({"post_created", "post_edited"})
# Discourse's built-in system user is -1 and discobot -2; neither name can be registered by a person.
SYSTEM_USERNAMES = frozenset({"system", "discobot"})
# post_type 3 is a "small action" (topic closed, user invited…): generated text, nothing anyone wrote.
SMALL_ACTION_POST_TYPE = 3


class DiscoursePost(BaseModel):
    """The fields we use from Discourse's WebHookPostSerializer output (it sends many more)."""

    model_config = ConfigDict(extra="ignore")

    id: int
    topic_id: int
    post_number: int
    username: str
    user_id: int | None = None
    name: str | None = None
    raw: str | None = None
    cooked: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    version: int | None = None
    post_type: int | None = None
    staff: bool | None = None
    topic_slug: str | None = None
    category_slug: str | None = None


class DiscourseBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    post: DiscoursePost


_KNOWN_FIELDS = (
    frozenset(DiscourseBody.model_fields)
    | frozenset(DiscoursePost.model_fields)
    | frozenset(InboundMessage.model_fields)
    | frozenset(Author.model_fields)
    | frozenset(Identity.model_fields)
)


class DiscoursePlatform:
    name = "discourse"

    def __init__(
        self, secret: str | None, routing: Routing | None = None, *, base_url: str | None = None
    ) -> None:
        """`base_url` pins the forum address used for links; without it the (unsigned)
        X-Discourse-Instance header is used."""
        self._secret = secret
        self._routing = routing or Routing()
        self._base_url = _clean_base_url(base_url)

    def verify(self, *, body: bytes, headers: Mapping[str, str], url: str, now: float) -> None:
        key = require_secret(self._secret)
        given = get_header(headers, SIGNATURE_HEADER)
        if not given:
            raise SignatureError("missing signature")
        if not constant_time_equal("sha256=" + hmac_sha256_hex(key, body), given):
            raise SignatureError("signature mismatch")

    def parse(self, *, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        event = get_header(headers, EVENT_HEADER)
        if not event:
            raise InvalidPayload(f"{EVENT_HEADER} header missing")
        if event not in STORED_EVENTS:
            # The event name is Discourse's vocabulary, but keep it bounded: it is echoed back.
            raise IgnoredEvent(f"discourse event {event[:40]!r} is not stored")
        data = load_json_object(body)
        try:
            post = DiscourseBody.model_validate(data).post
        except ValidationError as exc:
            raise InvalidPayload(describe_validation_error(exc.errors(), _KNOWN_FIELDS)) from None
        if post.post_type == SMALL_ACTION_POST_TYPE:
            raise IgnoredEvent("discourse small-action post is not stored")
        if post.raw is None and post.cooked is None:
            raise InvalidPayload("post.raw: missing")

        edited = event == "post_edited"
        if edited and post.updated_at:
            sent_at = as_utc(post.updated_at, "post.updated_at")
        else:
            sent_at = as_utc(post.created_at, "post.created_at")
        base_url = self._base_url or _clean_base_url(get_header(headers, INSTANCE_HEADER))
        try:
            return InboundMessage(
                platform=self.name,
                message_id=_message_id(post),
                channel=self._routing.channel_for(
                    self.name, str(post.topic_id), category=post.category_slug
                ),
                conversation_id=f"topic:{post.topic_id}",
                author=Author(
                    id=str(post.user_id) if post.user_id is not None else post.username,
                    kind=self._author_kind(post),
                    display_name=post.username,
                ),
                text=post.raw if post.raw is not None else html_to_text(post.cooked or ""),
                sent_at=sent_at,
                identity=Identity(name=post.name or None),
                link=_post_link(base_url, post),
            )
        except ValidationError as exc:
            raise InvalidPayload(describe_validation_error(exc.errors(), _KNOWN_FIELDS)) from None

    def _author_kind(self, post: DiscoursePost) -> AuthorKind:
        if (post.user_id is not None and post.user_id <= 0) or post.username.casefold() in SYSTEM_USERNAMES:
            default = AuthorKind.BOT
        elif post.staff:
            default = AuthorKind.STAFF
        else:
            default = AuthorKind.YOUNG_PERSON
        ids = [post.username] + ([str(post.user_id)] if post.user_id is not None else [])
        # Discourse usernames are unique regardless of case, so match chatbot entries the same way.
        return self._routing.author_kind(self.name, ids, default=default, case_insensitive=True)


def _message_id(post: DiscoursePost) -> str:
    """Same delivery -> same id; any edit -> a new id, so edited text is assessed again.

    `updated_at` is part of the id because `version` does not change for edits inside Discourse's
    grace period ("ninja edits"), and an edit that adds a disclosure must not be deduplicated away.
    """
    changed = as_utc(post.updated_at, "post.updated_at") if post.updated_at else None
    stamp = (changed or as_utc(post.created_at, "post.created_at")).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"post:{post.id}:v{post.version if post.version is not None else 1}:{stamp}"


def _clean_base_url(value: str | None) -> str | None:
    if not value or len(value) > 512 or any(ch.isspace() for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        return None
    return value.rstrip("/")


def _post_link(base_url: str | None, post: DiscoursePost) -> str | None:
    if base_url is None:
        return None
    slug = quote(post.topic_slug, safe="") if post.topic_slug else "-"
    return f"{base_url}/t/{slug}/{post.topic_id}/{post.post_number}"


_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Discourse's `cooked` HTML as plain text, for payloads without `raw`."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
        text = "".join(extractor.chunks)
    except Exception:  # noqa: BLE001 - HTMLParser has raised on odd markup; never lose the message
        text = re.sub(r"<[^>]*>", " ", html)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
