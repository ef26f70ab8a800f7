"""The emulated workspace: users, channels, messages, ephemerals and edits, held in memory.

Everything here is plain synchronous code: the aiohttp handlers run on one event loop, so a
mutation never interleaves with another and no lock is needed.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    is_bot: bool = False

    def to_api(self, team_id: str) -> JsonDict:
        """The `user` object users.info returns (the subset of fields apps actually read)."""
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": real_name,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "display_name": self.display_name or self.name,
                "real_name": real_name,
                "team": team_id,
            },
        }


# Enough people for the demo: a lead (may see identifying details), a second lead, plain staff.
DEFAULT_USERS: tuple[SlackUser, ...] = (
    SlackUser("U0LEAD0001", "lead.alex", "Alex Lead", "Alex (DSL)"),
    SlackUser("U0LEAD0002", "lead.sam", "Sam Lead", "Sam (deputy DSL)"),
    SlackUser("U0STAFF001", "staff.jo", "Jo Staff", "Jo"),
    SlackUser("U0STAFF002", "staff.kim", "Kim Staff", "Kim"),
)


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str
    user: str
    bot_id: str
    app_id: str
    team: str
    blocks: list[JsonDict] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: JsonDict | None = None
    edited: JsonDict | None = None
    reply_broadcast: bool = False
    replies: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, *, include_metadata: bool) -> JsonDict:
        """The message object as Slack serialises it in responses and history."""
        out: JsonDict = {
            "type": "message",
            "user": self.user,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": self.text,
            "ts": self.ts,
            "team": self.team,
        }
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.is_reply:
            out["parent_user_id"] = self.user
        if self.replies:
            out["reply_count"] = len(self.replies)
            out["reply_users_count"] = 1
            out["reply_users"] = [self.user]
            out["latest_reply"] = self.replies[-1]
        if self.edited is not None:
            out["edited"] = dict(self.edited)
        if include_metadata and self.metadata is not None:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


@dataclass(frozen=True)
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None


@dataclass(frozen=True)
class MessageUpdate:
    """One chat.update (or response_url replace_original): what was asked, kept for assertions."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    metadata: JsonDict | None


@dataclass(frozen=True)
class ResponseUrlPost:
    """A body the app POSTed to a response_url the emulator handed out."""

    response_id: str
    payload: JsonDict
    channel: str | None
    user: str | None


class Timestamps:
    """Slack `ts` values: seconds.microseconds, unique and strictly increasing within the workspace."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last_micros = 0

    def next(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_key(ts: str) -> tuple[int, int]:
    """Order timestamps numerically without float rounding (raises ValueError when malformed)."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int((fraction or "0").ljust(6, "0")[:6])


class Workspace:
    """One team's users, channels and messages."""

    def __init__(
        self,
        *,
        team_id: str,
        users: Iterable[SlackUser],
        channels: Mapping[str, str] | None,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        team_domain: str = "safeguard-test",
        bot_name: str = "safeguard-relay",
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_name = bot_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.users: dict[str, SlackUser] = {user.id: user for user in users}
        # None means "any plausible channel id exists", which is what most tests want.
        self.channels: dict[str, str] | None = dict(channels) if channels is not None else None
        self.dm_channels: dict[frozenset[str], str] = {}
        self.timestamps = Timestamps()
        self._messages: dict[tuple[str, str], StoredMessage] = {}
        self.ephemerals: list[Ephemeral] = []
        self.updates: list[MessageUpdate] = []
        self._dm_ids = itertools.count(1)

    # -- channels ---------------------------------------------------------------------------

    def channel_exists(self, channel: str) -> bool:
        if channel in self.dm_channels.values():
            return True
        if self.channels is None:
            return channel[:1] in ("C", "G", "D") and len(channel) > 1
        return channel in self.channels

    def channel_name(self, channel: str) -> str:
        if self.channels is not None and channel in self.channels:
            return self.channels[channel]
        if channel.startswith("D"):
            return "directmessage"
        return channel.lower()

    def open_dm(self, user_ids: Iterable[str]) -> str:
        key = frozenset(user_ids)
        if key not in self.dm_channels:
            self.dm_channels[key] = f"D{next(self._dm_ids):08d}"
        return self.dm_channels[key]

    # -- messages ---------------------------------------------------------------------------

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[JsonDict],
        thread_ts: str | None,
        metadata: JsonDict | None,
        reply_broadcast: bool = False,
    ) -> StoredMessage:
        parent = self.find(channel, thread_ts) if thread_ts else None
        if parent is not None and parent.is_reply:
            # Replying to a reply lands in the same thread, as in Slack.
            parent = self.find(channel, parent.thread_ts or "")
        ts = self.timestamps.next()
        message = StoredMessage(
            channel=channel,
            ts=ts,
            text=text,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            app_id=self.app_id,
            team=self.team_id,
            blocks=blocks,
            thread_ts=parent.ts if parent is not None else None,
            metadata=metadata,
            reply_broadcast=reply_broadcast and parent is not None,
        )
        if parent is not None:
            if parent.thread_ts is None:
                parent.thread_ts = parent.ts
            parent.replies.append(ts)
        self._messages[(channel, ts)] = message
        return message

    def update(
        self,
        *,
        channel: str,
        ts: str,
        text: str | None,
        blocks: list[JsonDict] | None,
        metadata: JsonDict | None,
    ) -> StoredMessage | None:
        message = self.find(channel, ts)
        if message is None:
            return None
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if metadata is not None:
            message.metadata = metadata
        message.edited = {"user": self.bot_user_id, "ts": self.timestamps.next()}
        self.updates.append(
            MessageUpdate(channel, ts, message.text, copy.deepcopy(message.blocks), message.metadata)
        )
        return message

    def delete(self, channel: str, ts: str) -> bool:
        message = self._messages.pop((channel, ts), None)
        if message is None:
            return False
        if message.is_reply and message.thread_ts is not None:
            parent = self.find(channel, message.thread_ts)
            if parent is not None and ts in parent.replies:
                parent.replies.remove(ts)
        return True

    def post_ephemeral(
        self, *, channel: str, user: str, text: str, blocks: list[JsonDict], thread_ts: str | None
    ) -> Ephemeral:
        ephemeral = Ephemeral(channel, user, self.timestamps.next(), text, blocks, thread_ts)
        self.ephemerals.append(ephemeral)
        return ephemeral

    def find(self, channel: str, ts: str) -> StoredMessage | None:
        return self._messages.get((channel, ts))

    def find_by_ts(self, ts: str) -> StoredMessage | None:
        return next((m for (_, m_ts), m in self._messages.items() if m_ts == ts), None)

    def messages(self, channel: str | None = None) -> list[StoredMessage]:
        """Every message (thread replies included), oldest first."""
        selected = [m for m in self._messages.values() if channel is None or m.channel == channel]
        return sorted(selected, key=lambda m: ts_key(m.ts))

    def history(self, channel: str) -> list[StoredMessage]:
        """What conversations.history lists: top-level messages and broadcast replies, newest first."""
        visible = [m for m in self.messages(channel) if not m.is_reply or m.reply_broadcast]
        return list(reversed(visible))

    def thread(self, channel: str, ts: str) -> list[StoredMessage] | None:
        """Parent first, then replies oldest first; None when there is no such message."""
        message = self.find(channel, ts)
        if message is None:
            return None
        parent = self.find(channel, message.thread_ts) if message.is_reply and message.thread_ts else message
        if parent is None:
            return None
        replies = [m for ts_ in parent.replies if (m := self.find(channel, ts_)) is not None]
        return [parent, *replies]
