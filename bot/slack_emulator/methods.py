"""Slack Web API methods: request parameters in, Slack's JSON shape out.

Each method is a plain function over the Workspace, so the HTTP layer only decodes, authenticates
and dispatches. Validation mirrors the errors Slack documents for each method, because clients
branch on those strings.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from itertools import count
from typing import Any

from .state import JsonDict, StoredMessage, Workspace, ts_key

Params = dict[str, Any]
Method = Callable[[Workspace, Params], JsonDict]

_block_ids = count(1)


class ApiError(Exception):
    """An `ok: false` answer (HTTP 200) with Slack's error string."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


# -- parameter decoding ----------------------------------------------------------------------


def truthy(value: Any) -> bool:
    # slack_sdk sends booleans as "1"/"0" in forms and query strings; JSON bodies carry real bools.
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _json_field(params: Params, name: str, error: str) -> Any:
    """Fields like blocks/metadata arrive as objects in JSON bodies but as JSON strings in forms."""
    value = params.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(error) from None
    return value


def _blocks(params: Params) -> list[JsonDict] | None:
    blocks = _json_field(params, "blocks", "invalid_blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
        raise ApiError("invalid_blocks")
    # Slack assigns a block_id to blocks that lack one; interactions then report it.
    copied: list[JsonDict] = json.loads(json.dumps(blocks))
    for block in copied:
        block.setdefault("block_id", f"b{next(_block_ids):05d}")
    return copied


def _metadata(params: Params) -> JsonDict | None:
    metadata = _json_field(params, "metadata", "invalid_metadata_format")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise ApiError("invalid_metadata_format")
    if not isinstance(metadata.get("event_type"), str) or not isinstance(
        metadata.get("event_payload", {}), dict
    ):
        raise ApiError("invalid_metadata_schema")
    return {"event_type": metadata["event_type"], "event_payload": metadata.get("event_payload", {})}


def _text(params: Params) -> str | None:
    text = params.get("text")
    return None if text is None else str(text)


def _limit(params: Params, default: int, maximum: int) -> int:
    try:
        limit = int(params.get("limit") or default)
    except (TypeError, ValueError):
        raise ApiError("invalid_limit") from None
    return default if limit <= 0 else min(limit, maximum)


def _channel(ws: Workspace, params: Params) -> str:
    channel = str(params.get("channel") or "")
    if not channel or not ws.channel_exists(channel):
        raise ApiError("channel_not_found")
    return channel


def _optional_ts(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        ts_key(str(value))
    except ValueError:
        raise ApiError("invalid_ts_" + name) from None
    return str(value)


# -- pagination ------------------------------------------------------------------------------


def _encode_cursor(ts: str) -> str:
    # Slack's cursors are opaque base64 of "next_ts:<ts>"; clients must echo them back unchanged.
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None
    prefix, _, ts = decoded.partition(":")
    if prefix != "next_ts":
        raise ApiError("invalid_cursor")
    try:
        ts_key(ts)
    except ValueError:
        raise ApiError("invalid_cursor") from None
    return ts


def _page(
    messages: list[StoredMessage], params: Params, *, newest_first: bool, default_limit: int
) -> JsonDict:
    """Filter by oldest/latest (exclusive unless inclusive=true), then cut one page."""
    oldest = _optional_ts(params, "oldest")
    latest = _optional_ts(params, "latest")
    inclusive = truthy(params.get("inclusive", False))

    def in_window(message: StoredMessage) -> bool:
        key = ts_key(message.ts)
        if oldest is not None and (key < ts_key(oldest) or (key == ts_key(oldest) and not inclusive)):
            return False
        if latest is not None and (key > ts_key(latest) or (key == ts_key(latest) and not inclusive)):
            return False
        return True

    window = [m for m in messages if in_window(m)]
    cursor = params.get("cursor")
    if cursor:
        start_ts = ts_key(_decode_cursor(str(cursor)))
        if newest_first:
            window = [m for m in window if ts_key(m.ts) <= start_ts]
        else:
            window = [m for m in window if ts_key(m.ts) >= start_ts]
    limit = _limit(params, default_limit, 999)
    page, rest = window[:limit], window[limit:]
    include_metadata = truthy(params.get("include_all_metadata", False))
    return {
        "ok": True,
        "messages": [m.to_api(include_metadata=include_metadata) for m in page],
        "has_more": bool(rest),
        "response_metadata": {"next_cursor": _encode_cursor(rest[0].ts) if rest else ""},
    }


# -- methods ---------------------------------------------------------------------------------


def auth_test(ws: Workspace, params: Params) -> JsonDict:
    return {
        "ok": True,
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_domain,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    text, blocks = _text(params), _blocks(params)
    if not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    message = ws.post(
        channel=channel,
        text=text or "",
        blocks=blocks or [],
        thread_ts=_optional_ts(params, "thread_ts"),
        metadata=_metadata(params),
        reply_broadcast=truthy(params.get("reply_broadcast", False)),
    )
    return {
        "ok": True,
        "channel": channel,
        "ts": message.ts,
        "message": message.to_api(include_metadata=True),
    }


def chat_update(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    ts = _optional_ts(params, "ts")
    if ts is None:
        raise ApiError("message_not_found")
    text, blocks = _text(params), _blocks(params)
    if text is None and blocks is None and not params.get("attachments"):
        raise ApiError("no_text")
    message = ws.update(channel=channel, ts=ts, text=text, blocks=blocks, metadata=_metadata(params))
    if message is None:
        raise ApiError("message_not_found")
    return {
        "ok": True,
        "channel": channel,
        "ts": ts,
        "text": message.text,
        "message": message.to_api(include_metadata=True),
    }


def chat_delete(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    ts = str(params.get("ts") or "")
    if not ws.delete(channel, ts):
        raise ApiError("message_not_found")
    return {"ok": True, "channel": channel, "ts": ts}


def chat_post_ephemeral(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    user = str(params.get("user") or "")
    # Slack answers user_not_in_channel for anyone it cannot show the message to.
    if user not in ws.users:
        raise ApiError("user_not_in_channel")
    text, blocks = _text(params), _blocks(params)
    if not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    ephemeral = ws.post_ephemeral(
        channel=channel,
        user=user,
        text=text or "",
        blocks=blocks or [],
        thread_ts=_optional_ts(params, "thread_ts"),
    )
    return {"ok": True, "message_ts": ephemeral.message_ts}


def conversations_history(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    return _page(ws.history(channel), params, newest_first=True, default_limit=100)


def conversations_replies(ws: Workspace, params: Params) -> JsonDict:
    channel = _channel(ws, params)
    ts = _optional_ts(params, "ts")
    thread = ws.thread(channel, ts) if ts else None
    if thread is None:
        raise ApiError("thread_not_found")
    return _page(thread, params, newest_first=False, default_limit=1000)


def conversations_open(ws: Workspace, params: Params) -> JsonDict:
    raw = params.get("users") or ""
    user_ids = raw if isinstance(raw, list) else [u.strip() for u in str(raw).split(",") if u.strip()]
    if not user_ids:
        raise ApiError("users_list_not_supplied")
    if len(user_ids) > 8:
        raise ApiError("too_many_users")
    if any(user_id not in ws.users for user_id in user_ids):
        raise ApiError("user_not_found")
    channel = ws.open_dm(user_ids)
    return {"ok": True, "no_op": True, "already_open": False, "channel": {"id": channel}}


def users_info(ws: Workspace, params: Params) -> JsonDict:
    user = ws.users.get(str(params.get("user") or ""))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": user.to_api(ws.team_id)}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.postEphemeral": chat_post_ephemeral,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.open": conversations_open,
    "users.info": users_info,
}
