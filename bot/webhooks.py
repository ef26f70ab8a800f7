"""POST /webhooks/{generic,discourse,twilio}: verify, parse, assess, store durably, then answer.

The answer is 2xx only once the group-commit writer has committed the message (and any escalation
with its outbox row), so a platform that sees 2xx may forget the message. Every failure is raised
and turned into a JSON answer by bot/errors.py."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from aiohttp import web

from bot.context import ContextReader
from bot.errors import MAX_BODY_BYTES, BodyTooLarge
from bot.store import GroupCommitWriter, IngestItem, IngestResult, Store
from integrations.model import InboundMessage
from integrations.platform import Platform
from policy import Engine, suppression
from policy.masking import mask

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/{platform}"


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body (signatures cover its exact bytes), refused early when declared too large.

    aiohttp's client_max_size also stops chunked bodies; the length check after reading is the
    last guard should the app be built without it."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge()
    body = await request.read()
    if len(body) > limit:
        raise BodyTooLarge()
    return body


def masked_identity(identity: Mapping[str, str]) -> dict[str, str]:
    return {field: mask(field, value) for field, value in identity.items()}


class WebhookHandler:
    """One handler for every platform route; the platform is picked from the path."""

    def __init__(
        self,
        *,
        platforms: Mapping[str, Platform],
        engine: Engine,
        store: Store,
        writer: GroupCommitWriter,
        public_url: str | None,
        on_escalation: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._platforms = platforms
        self._engine = engine
        self._store = store
        self._writer = writer
        self._context = ContextReader(store, engine)
        self._public_url = public_url.rstrip("/") if public_url else None
        self._on_escalation = on_escalation
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.post(f"/webhooks/{name}", self.handle) for name in self._platforms]

    def signed_url(self, request: web.Request) -> str:
        """The URL the platform signed (Twilio): the public base URL, as configured there, plus our
        path and query; behind a proxy the URL we were reached on is not it."""
        if self._public_url is None:
            return str(request.url)
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{self._public_url}{request.path}{query}"

    async def handle(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        platform = self._platforms.get(name)
        if platform is None:
            raise web.HTTPNotFound()
        body = await read_body(request)
        platform.verify(body=body, headers=request.headers, url=self.signed_url(request), now=self._clock())
        message = platform.parse(body=body, headers=request.headers)
        result = await self.ingest(message)
        log.info(
            "webhook stored: platform=%s escalation=%s duplicate=%s",
            name,
            result.escalation_id,
            result.duplicate,
        )
        return web.json_response(
            {"status": "stored", "escalation_id": result.escalation_id, "duplicate": result.duplicate},
            status=202,
        )

    async def ingest(self, message: InboundMessage) -> IngestResult:
        identity = message.identity.present()
        conversation = None
        # Chatbot output is never assessed, so its conversation's history need not be read.
        if suppression(message.channel, message.author.kind) is None:
            conversation = await self._context.conversation(message.platform, message.conversation_id)
        assessment = self._engine.assess(
            message.text,
            channel=message.channel,
            author=message.author.kind,
            conversation=conversation,
            known_values=identity.values(),
        )
        item = IngestItem(
            message=message,
            redacted_text=assessment.redacted_text,
            assessment=assessment,
            identity=identity,
            masked_identity=masked_identity(identity),
        )
        # shield: a platform hanging up must not cancel our wait half-way; the write goes on anyway.
        result = await asyncio.shield(self._writer.submit(item))
        if result.escalation_id is not None and not result.duplicate and self._on_escalation is not None:
            self._on_escalation(result.escalation_id)
        return result
