"""A local Slack Web API emulator speaking the real protocol over loopback HTTP.

Tests and `safeguard demo` point the real slack_sdk AsyncWebClient at `SlackEmulator.api_url`
because Slack itself cannot be reached from here.

    async with SlackEmulator(bot_token="xoxb-test", signing_secret="s3cret") as emu:
        client = AsyncWebClient(token="xoxb-test", base_url=emu.api_url)
        posted = await client.chat_postMessage(channel="C0SAFE", text="hi", blocks=[...])
        status, body = await emu.click_button(
            "http://127.0.0.1:8080/slack/events", action_id="escalation_ack", value="esc-1",
            user_id="U0LEAD0001", channel_id="C0SAFE", message_ts=posted["ts"],
        )
        assert emu.message(posted["ts"]).text == "..."
"""

from .faults import OutageMode
from .server import CallRecord, SlackEmulator
from .signing import sign_request, signature
from .state import DEFAULT_USERS, Ephemeral, MessageUpdate, ResponseUrlPost, SlackUser, StoredMessage

__all__ = [
    "DEFAULT_USERS",
    "CallRecord",
    "Ephemeral",
    "MessageUpdate",
    "OutageMode",
    "ResponseUrlPost",
    "SlackEmulator",
    "SlackUser",
    "StoredMessage",
    "sign_request",
    "signature",
]
