"""The Slack side of the bot: action ids, Block Kit views, and the bolt app that handles clicks."""
from __future__ import annotations

from bot.slack.actions import ESCALATION_EVENT_TYPE, ActionId

__all__ = ["ESCALATION_EVENT_TYPE", "ActionId"]
