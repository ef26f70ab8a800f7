"""Every Slack identifier the bot and Slack agree on, in one place (CONTRACT.md section 4)."""
from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """Button action ids; each button's `value` is the escalation id."""

    ESCALATION_ACK = "escalation_ack"
    ESCALATION_REVEAL = "escalation_reveal"


# Message metadata event type, so an escalation message can be traced back to its record
# from Slack alone (e.g. by an auditor reading the channel history).
ESCALATION_EVENT_TYPE = "safeguard_escalation"
