"""Channel routing and author identities: chatbot entries, staff entries, the optional TOML file."""
from __future__ import annotations

from pathlib import Path

import pytest

from integrations.routing import Routing, RoutingConfigError, load_routing, routing_from_mapping
from policy.types import AuthorKind, Channel

ROUTING_TOML = """
chatbot_authors = ["discourse:helperbot"]
staff_authors = ["twilio:counsellor-ana"]

[discourse]
default_channel = "discussion_board"
conversations = { "1234" = "group_chat" }
categories = { "ask-the-bot" = "chatbot" }

[twilio]
default_channel = "group_chat"
conversations = { "CH01" = "counselling" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.toml"
    path.write_text(text)
    return path


def test_no_file_gives_platform_defaults_and_settings_authors() -> None:
    routing = load_routing(None, chatbot_authors=[" twilio:bot-1 ", ""])
    assert routing.chatbot_authors == frozenset({"twilio:bot-1"})
    assert routing.channel_for("discourse", "topic") is Channel.DISCUSSION_BOARD
    assert routing.channel_for("twilio", "CH99") is Channel.COUNSELLING
    assert routing.channel_for("somewhere-new", "c") is Channel.COUNSELLING


def test_file_is_loaded_and_merged_with_settings(tmp_path: Path) -> None:
    routing = load_routing(write(tmp_path, ROUTING_TOML), chatbot_authors=["twilio:bot-1"])
    assert routing.chatbot_authors == frozenset({"twilio:bot-1", "discourse:helperbot"})
    assert routing.staff_authors == frozenset({"twilio:counsellor-ana"})
    assert routing.channel_for("discourse", "1234") is Channel.GROUP_CHAT
    assert routing.channel_for("discourse", "9", category="ask-the-bot") is Channel.CHATBOT
    assert routing.channel_for("twilio", "CH01") is Channel.COUNSELLING
    assert routing.channel_for("twilio", "CH02") is Channel.GROUP_CHAT


def test_conversation_mapping_beats_category_beats_hint_beats_default() -> None:
    routing = routing_from_mapping(
        {"discourse": {"conversations": {"1": "group_chat"}, "categories": {"c": "counselling"}}}
    )
    assert routing.channel_for("discourse", "1", category="c", hint="chatbot") is Channel.GROUP_CHAT
    assert routing.channel_for("discourse", "2", category="c", hint="group_chat") is Channel.COUNSELLING
    assert routing.channel_for("discourse", "2", hint="group_chat") is Channel.GROUP_CHAT
    assert routing.channel_for("discourse", "2", hint="chatbot") is Channel.DISCUSSION_BOARD


@pytest.mark.parametrize(
    ("entry", "platform", "author", "expected"),
    [
        ("discourse:helperbot", "discourse", "helperbot", AuthorKind.BOT),
        ("discourse:helperbot", "twilio", "helperbot", AuthorKind.YOUNG_PERSON),
        ("helperbot", "twilio", "helperbot", AuthorKind.BOT),
        ("helperbot", "webchat", "helperbot", AuthorKind.BOT),
        ("helperbot", "twilio", "helperbot2", AuthorKind.YOUNG_PERSON),
        # Entries are never split: a bare address containing a colon is matched as a whole.
        ("whatsapp:+447700900123", "twilio", "whatsapp:+447700900123", AuthorKind.BOT),
        ("twilio:whatsapp:+447700900123", "twilio", "whatsapp:+447700900123", AuthorKind.BOT),
        ("twilio:whatsapp:+447700900123", "twilio", "+447700900123", AuthorKind.YOUNG_PERSON),
    ],
)
def test_chatbot_author_entries(entry: str, platform: str, author: str, expected: AuthorKind) -> None:
    routing = Routing(chatbot_authors=frozenset({entry}))
    assert routing.author_kind(platform, [author], default=AuthorKind.YOUNG_PERSON) is expected


def test_case_folding_only_when_the_platform_asks_for_it() -> None:
    routing = Routing(chatbot_authors=frozenset({"Discourse:HelperBot"}))
    folded = routing.author_kind("discourse", ["helperbot"], default=AuthorKind.STAFF, case_insensitive=True)
    assert folded is AuthorKind.BOT
    assert routing.author_kind("discourse", ["helperbot"], default=AuthorKind.STAFF) is AuthorKind.STAFF


def test_chatbot_beats_staff_beats_platform_default() -> None:
    routing = Routing(chatbot_authors=frozenset({"bot"}), staff_authors=frozenset({"bot", "ana"}))
    assert routing.author_kind("twilio", ["bot"], default=AuthorKind.YOUNG_PERSON) is AuthorKind.BOT
    assert routing.author_kind("twilio", ["ana"], default=AuthorKind.YOUNG_PERSON) is AuthorKind.STAFF
    assert routing.author_kind("twilio", ["sam"], default=AuthorKind.STAFF) is AuthorKind.STAFF
    assert routing.author_kind("twilio", ["", "sam"], default=AuthorKind.BOT) is AuthorKind.BOT


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[twilio]\ndefault_channel = "the-moon"', "twilio.default_channel"),
        ('[twilio]\nconversations = { "CH1" = "nowhere" }', "twilio.conversations.CH1"),
        ("[twilio]\nconversations = 3", "twilio.conversations"),
        ("[twilio]\ncolour = 3", "twilio.colour"),
        ('twilio = "x"', "'twilio'"),
        ("chatbot_authors = [1, 2]", "chatbot_authors"),
        ('staff_authors = "ana"', "staff_authors"),
        ("[twilio", "not valid TOML"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(RoutingConfigError, match=names.replace(".", r"\.")):
        load_routing(write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="cannot read"):
        load_routing(tmp_path / "absent.toml")
