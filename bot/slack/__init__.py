"""The Slack side of the bot: action ids, Block Kit views, and the bolt app that handles clicks.

Views (`Renderer`) are pure and shared with the delivery worker and re-notify scheduler; the bolt app
(`build_bolt_app`) is mounted on the service's aiohttp app at POST /slack/events with `mount`."""
from __future__ import annotations

from bot.slack.actions import ESCALATION_EVENT_TYPE, ActionId
from bot.slack.app import SLACK_EVENTS_PATH, build_bolt_app, mount, slack_routes
from bot.slack.clients import quiet_client, quiet_client_logger
from bot.slack.handlers import EscalationStore
from bot.slack.views import Renderer

__all__ = [
    "ESCALATION_EVENT_TYPE",
    "SLACK_EVENTS_PATH",
    "ActionId",
    "EscalationStore",
    "Renderer",
    "build_bolt_app",
    "mount",
    "quiet_client",
    "quiet_client_logger",
    "slack_routes",
]
