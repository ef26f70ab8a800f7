"""Invented sample conversations for `safeguard demo`, turned into signed platform webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot import webhook_signing as sign

SENT_AT = "2026-11-24T10:00:00Z"


@dataclass(frozen=True)
class SampleMessage:
    conversation: str
    platform: str
    request: sign.SignedRequest
    identity: dict[str, str]
    text: str


def load_conversations() -> list[dict[str, Any]]:
    raw = resources.files("bot.samples").joinpath("conversations.json").read_text("utf-8")
    return list(json.loads(raw)["conversations"])


def signed_messages(
    *, webhook_secret: str, discourse_secret: str, twilio_token: str, public_url: str
) -> list[SampleMessage]:
    """Every sample message as its platform would deliver it, in conversation order."""
    out: list[SampleMessage] = []
    for conv in load_conversations():
        for msg in conv["messages"]:
            identity: dict[str, str] = dict(msg.get("identity", {}))
            if conv["platform"] == "generic":
                payload = {
                    "message_id": msg["id"],
                    "platform": "demo-webchat",
                    "channel": conv["channel"],
                    "conversation_id": conv["conversation_id"],
                    "author": {
                        "id": msg["author"],
                        "kind": msg.get("kind", "young_person"),
                        "display_name": msg.get("display_name"),
                    },
                    "text": msg["text"],
                    "sent_at": SENT_AT,
                    "identity": identity,
                    "link": f"https://chat.example.org/conversations/{conv['conversation_id']}",
                }
                request = sign.generic(webhook_secret, payload)
            elif conv["platform"] == "discourse":
                post = {
                    "id": msg["id"],
                    "topic_id": conv["topic_id"],
                    "post_number": 1,
                    "username": msg["username"],
                    "user_id": msg["user_id"],
                    "name": msg["name"],
                    "raw": msg["text"],
                    "created_at": SENT_AT,
                    "topic_slug": conv["topic_slug"],
                }
                identity = {"name": msg["name"]}
                request = sign.discourse(discourse_secret, {"post": post})
            else:
                params = [
                    ("EventType", "onMessageAdded"),
                    ("MessageSid", msg["id"]),
                    ("ConversationSid", conv["conversation_sid"]),
                    ("Author", msg["author"]),
                    ("ParticipantSid", msg["participant_sid"]),
                    ("DateCreated", SENT_AT),
                    ("Body", msg["text"]),
                ]
                identity = {"phone": msg["author"]}
                request = sign.twilio(twilio_token, public_url, params)
            out.append(SampleMessage(conv["title"], conv["platform"], request, identity, msg["text"]))
    return out
