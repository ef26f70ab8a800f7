"""Slack Web API clients that never log message bodies."""
from __future__ import annotations

import logging

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

CLIENT_LOGGER_NAME = "bot.slack.client"
_KEEP: list[AsyncRetryHandler] = []


def quiet_client_logger() -> logging.Logger:
    """A logger for slack_sdk clients that never logs request or response bodies.

    slack_sdk logs every request body at DEBUG when its logger's *own* level is DEBUG or unset, which
    would put escalation text and, for a reveal, identity values into the logs. An explicit INFO level
    switches that off whatever the root logger's level; warnings and errors still flow."""
    logger = logging.getLogger(CLIENT_LOGGER_NAME)
    logger.setLevel(logging.INFO)
    return logger


def quiet_client(client: AsyncWebClient, *, retry_handlers: list[AsyncRetryHandler] | None = _KEEP) -> AsyncWebClient:
    """The same client settings (token, base URL, session, retries) with `quiet_client_logger()`.

    `retry_handlers=[]` turns off slack_sdk's own retries (the delivery worker does its own, after
    checking whether a post already landed)."""
    if retry_handlers is _KEEP:
        retry_handlers = list(client.retry_handlers) if client.retry_handlers is not None else None
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        session=client.session,
        trust_env_in_session=client.trust_env_in_session,
        headers=client.headers,
        logger=quiet_client_logger(),
        retry_handlers=retry_handlers,
    )
