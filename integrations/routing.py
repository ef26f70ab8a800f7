"""Which channel a platform's conversation belongs to, and which authors are bots or staff.

Author identities (SAFEGUARD_CHATBOT_AUTHORS and the routing file's lists) are matched exactly:
an entry `"<platform>:<author>"` matches that author on that platform only (e.g. `discourse:helperbot`,
`twilio:bot-1`); an entry without a platform prefix matches that author on every platform
(`helperbot`). No entry is parsed: a Twilio author such as `whatsapp:+44…` is simply the bare entry
`whatsapp:+44…` or the qualified `twilio:whatsapp:+44…`. A match on a chatbot entry always wins, so
chatbot output comes out with `author.kind == bot` and the policy suppresses it.

Optional TOML routing file (all keys optional):

    chatbot_authors = ["discourse:helperbot"]   # added to SAFEGUARD_CHATBOT_AUTHORS
    staff_authors = ["twilio:counsellor-ana"]

    [discourse]
    default_channel = "discussion_board"
    conversations = { "1234" = "group_chat" }    # topic id -> channel
    categories = { "ask-the-bot" = "chatbot" }   # category slug -> channel

    [twilio]
    default_channel = "counselling"
    conversations = { "CH0123…" = "group_chat" } # ConversationSid -> channel

Channel precedence: conversation mapping, then category mapping, then a hint the platform carries in
the message (Twilio `Attributes.channel`), then the platform default. A hint never selects
`chatbot`: message attributes can be set by the sender, and `chatbot` would switch assessment off,
so only the operator's file may route a conversation there.
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from policy.types import AuthorKind, Channel

DEFAULT_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {"discourse": Channel.DISCUSSION_BOARD, "twilio": Channel.COUNSELLING}
)
_FALLBACK_CHANNEL = Channel.COUNSELLING
_PLATFORM_KEYS = frozenset({"default_channel", "conversations", "categories"})
_TOP_LEVEL_LISTS = frozenset({"chatbot_authors", "staff_authors"})


class RoutingConfigError(ValueError):
    """The routing file is unreadable or wrong; the message names the file key in one line."""


@dataclass(frozen=True, slots=True)
class PlatformRoutes:
    default_channel: Channel
    conversations: Mapping[str, Channel] = field(default_factory=dict)
    categories: Mapping[str, Channel] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Routing:
    platforms: Mapping[str, PlatformRoutes] = field(default_factory=dict)
    chatbot_authors: frozenset[str] = frozenset()
    staff_authors: frozenset[str] = frozenset()

    def channel_for(
        self,
        platform: str,
        conversation_id: str,
        *,
        category: str | None = None,
        hint: str | None = None,
    ) -> Channel:
        routes = self.platforms.get(platform) or PlatformRoutes(
            DEFAULT_CHANNELS.get(platform, _FALLBACK_CHANNEL)
        )
        if conversation_id in routes.conversations:
            return routes.conversations[conversation_id]
        if category is not None and category in routes.categories:
            return routes.categories[category]
        if hint is not None:
            try:
                hinted = Channel(hint)
            except ValueError:
                hinted = None
            if hinted is not None and hinted is not Channel.CHATBOT:
                return hinted
        return routes.default_channel

    def author_kind(
        self,
        platform: str,
        author_ids: Iterable[str],
        *,
        default: AuthorKind,
        case_insensitive: bool = False,
    ) -> AuthorKind:
        """Chatbot entries win over staff entries, which win over what the platform said.

        `author_ids` are every name the platform knows the author by (e.g. Discourse username and
        user id); `case_insensitive` is for platforms whose usernames are (Discourse).
        """
        candidates = {c.casefold() if case_insensitive else c for c in author_ids if c}
        if _matches(platform, candidates, self.chatbot_authors, case_insensitive):
            return AuthorKind.BOT
        if _matches(platform, candidates, self.staff_authors, case_insensitive):
            return AuthorKind.STAFF
        return default


def _matches(platform: str, candidates: set[str], entries: frozenset[str], fold: bool) -> bool:
    for entry in entries:
        if fold:
            entry = entry.casefold()
        prefix = f"{platform}:"
        if entry in candidates or (entry.startswith(prefix) and entry[len(prefix) :] in candidates):
            return True
    return False


def load_routing(
    path: str | Path | None = None,
    *,
    chatbot_authors: Iterable[str] = (),
    staff_authors: Iterable[str] = (),
) -> Routing:
    """Build routing from settings values plus an optional TOML file (see the module docstring)."""
    data: dict[str, object] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise RoutingConfigError(f"routing file {path}: cannot read ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise RoutingConfigError(f"routing file {path}: not valid TOML ({exc})") from None
    return routing_from_mapping(data, chatbot_authors=chatbot_authors, staff_authors=staff_authors)


def routing_from_mapping(
    data: Mapping[str, object],
    *,
    chatbot_authors: Iterable[str] = (),
    staff_authors: Iterable[str] = (),
) -> Routing:
    chatbots = set(_clean(chatbot_authors)) | set(_string_list(data, "chatbot_authors"))
    staff = set(_clean(staff_authors)) | set(_string_list(data, "staff_authors"))
    platforms: dict[str, PlatformRoutes] = {}
    for name, table in data.items():
        if name in _TOP_LEVEL_LISTS:
            continue
        if not isinstance(table, Mapping):
            raise RoutingConfigError(f"routing key {name!r}: expected a table")
        unknown = set(table) - _PLATFORM_KEYS
        if unknown:
            raise RoutingConfigError(f"routing key {name}.{sorted(unknown)[0]}: unknown setting")
        default = table.get("default_channel", DEFAULT_CHANNELS.get(name, _FALLBACK_CHANNEL))
        platforms[name] = PlatformRoutes(
            default_channel=_channel(f"{name}.default_channel", default),
            conversations=_channel_map(f"{name}.conversations", table.get("conversations", {})),
            categories=_channel_map(f"{name}.categories", table.get("categories", {})),
        )
    return Routing(
        platforms=MappingProxyType(platforms),
        chatbot_authors=frozenset(chatbots),
        staff_authors=frozenset(staff),
    )


def _clean(values: Iterable[str]) -> Iterable[str]:
    return (v.strip() for v in values if v and v.strip())


def _string_list(data: Mapping[str, object], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RoutingConfigError(f"routing key {key}: expected a list of strings")
    return list(_clean(value))


def _channel(key: str, value: object) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise RoutingConfigError(f"routing key {key}: expected one of {allowed}") from None


def _channel_map(key: str, value: object) -> Mapping[str, Channel]:
    if not isinstance(value, Mapping):
        raise RoutingConfigError(f"routing key {key}: expected a table")
    return MappingProxyType({str(k): _channel(f"{key}.{k}", v) for k, v in value.items()})
