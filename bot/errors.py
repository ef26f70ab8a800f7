"""The one place where failures become HTTP answers: JSON `{"error": reason}`, never a stack trace.

Reasons come from integrations/ (which name fields and checks, never values) or are fixed strings
here, so no answer and no log line can carry message text or identity values."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.store import WriterStopped
from integrations.errors import (
    IgnoredEvent,
    IntegrationError,
    InvalidPayload,
    SignatureError,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
RETRY_LATER = "temporarily unavailable, retry"


class BodyTooLarge(Exception):
    """413: the request body is over MAX_BODY_BYTES."""


# Anything that means "the message may not be durable": the platform must retry.
STORE_FAILURES: tuple[type[BaseException], ...] = (WriterStopped, SQLAlchemyError, OSError, TimeoutError)


def error_response(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _status_for(exc: IntegrationError) -> int:
    if isinstance(exc, SignatureError):
        return 401
    if isinstance(exc, InvalidPayload):
        return 422
    # MalformedPayload, and any future IntegrationError nobody mapped yet: the body is at fault.
    return 400


@web.middleware
async def json_errors(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "-"
    try:
        return await handler(request)
    except IgnoredEvent as exc:
        # A genuine delivery we choose not to keep: 2xx, so the platform does not retry it.
        log.info("webhook ignored: route=%s", route)
        return web.json_response({"ignored": exc.reason}, status=200)
    except IntegrationError as exc:
        status = _status_for(exc)
        log.info("webhook refused: route=%s status=%d error=%s", route, status, type(exc).__name__)
        return error_response(status, exc.reason)
    except (BodyTooLarge, web.HTTPRequestEntityTooLarge):
        log.info("webhook refused: route=%s status=413", route)
        return error_response(413, f"body larger than {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason)
    except STORE_FAILURES as exc:
        log.error("request failed, store unavailable: route=%s error=%s", route, type(exc).__name__)
        return error_response(503, RETRY_LATER)
    except Exception as exc:  # the backstop: aiohttp's own handler would log the traceback
        log.error("request failed: route=%s error=%s", route, type(exc).__name__)
        return error_response(500, "internal error")


__all__ = [
    "MAX_BODY_BYTES",
    "RETRY_LATER",
    "BodyTooLarge",
    "error_response",
    "json_errors",
]
