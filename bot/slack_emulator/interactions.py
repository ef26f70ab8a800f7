"""Requests Slack sends *to* the app: block_actions interactions and slash commands, signed.

The payload shapes follow what Slack actually delivers, field for field where bolt or an app
might read them; anything the emulator cannot know (trigger ids, hashes) is filled plausibly.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from .signing import sign_request
from .state import JsonDict, SlackUser, StoredMessage, Workspace


def trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def action_ts() -> str:
    now = time.time()
    return f"{now:.6f}"


def find_button(blocks: list[JsonDict], action_id: str) -> tuple[str, JsonDict] | None:
    """(block_id, element) of the interactive element with this action_id, if the message has one."""
    for block in blocks:
        elements: list[Any] = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None


def _user(ws: Workspace, user_id: str) -> SlackUser:
    # Clicks can come from people the test never declared; Slack would still know a name.
    return ws.users.get(user_id) or SlackUser(user_id, user_id.lower())


def block_actions_payload(
    ws: Workspace,
    *,
    message: StoredMessage,
    action_id: str,
    value: str,
    user_id: str,
    response_url: str,
    verification_token: str,
) -> JsonDict:
    user = _user(ws, user_id)
    found = find_button(message.blocks, action_id)
    block_id, element = found if found is not None else ("", {})
    button_text = element.get("text") or {"type": "plain_text", "text": action_id, "emoji": True}
    return {
        "type": "block_actions",
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id},
        "api_app_id": ws.app_id,
        "token": verification_token,
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id(),
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message.channel, "name": ws.channel_name(message.channel)},
        "message": message.to_api(include_metadata=True),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": button_text,
                "value": value,
                "type": "button",
                "action_ts": action_ts(),
            }
        ],
    }


def slash_command_form(
    ws: Workspace,
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    verification_token: str,
) -> dict[str, str]:
    user = _user(ws, user_id)
    return {
        "token": verification_token,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel_id,
        "channel_name": ws.channel_name(channel_id),
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id(),
    }


def encode_interaction(payload: JsonDict) -> bytes:
    """Interactivity arrives form-encoded with the JSON in a single `payload` field."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def encode_form(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


async def post_signed(url: str, body: bytes, signing_secret: str) -> tuple[int, str]:
    """POST as Slack does: form content type, signing headers over the exact bytes sent."""
    headers = sign_request(signing_secret, body, int(time.time()))
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()
