"""Keep third-party libraries from logging request bodies (escalation text, reveal values).

slack_sdk logs each request's body at DEBUG whenever its logger's *own* level is unset or DEBUG,
whatever the root level; the delivery worker's client uses slack_sdk's default logger. Bolt, at
DEBUG, logs parts of the payloads it dispatches. Pinning these loggers at INFO keeps warnings and
errors flowing while a DEBUG root logger (an operator chasing a problem) leaks nothing."""

from __future__ import annotations

import logging

QUIET_LOGGERS = (
    "slack_sdk",
    "slack_sdk.web.async_base_client",
    "slack_sdk.web.base_client",
    "slack_bolt",
    "bot.slack.client",
)


def quiet_third_party_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
