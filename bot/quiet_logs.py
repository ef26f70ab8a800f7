"""Keep third-party libraries from logging request bodies (escalation text, reveal values).

slack_sdk logs each request's body at DEBUG whenever its logger's *own* level is unset or DEBUG,
whatever the root level. Our own clients use `bot.slack.clients.quiet_client`; pinning slack_sdk's
loggers too covers any client made elsewhere (bolt's internals). Bolt, at DEBUG, logs parts of the
payloads it dispatches. Pinning these loggers at INFO keeps warnings and
errors flowing while a DEBUG root logger (an operator chasing a problem) leaks nothing.

The database drivers are worse: aiosqlite logs every statement *with its parameters* at DEBUG, and
SQLAlchemy's engine logger does at INFO, and those parameters are redacted texts and, for an
escalation, the raw identity values kept for the reveal. They are pinned at WARNING."""

from __future__ import annotations

import logging

QUIET_LOGGERS = (
    "slack_sdk",
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.base_client",
    "slack_bolt",
    "bot.slack.client",
)


# Loggers whose INFO lines already carry statement parameters.
SILENT_BELOW_WARNING = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg")


def quiet_third_party_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in SILENT_BELOW_WARNING:
        logging.getLogger(name).setLevel(logging.WARNING)
