"""Discourse post webhooks: body signature, event filtering, edit vs repeat ids, bot authors."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.discourse import DiscoursePlatform, html_to_text
from integrations.errors import IgnoredEvent, InvalidPayload, MalformedPayload, SignatureError
from integrations.routing import Routing, routing_from_mapping
from policy.types import AuthorKind, Channel
from tests.test_integrations_generic import assert_parses_or_declares

SECRET = "discourse-test-secret"
SECRET_TEXT = "I'm Zebedee Quux, text me on 07700 900123"

# Shaped like Discourse's WebHookPostSerializer output (trimmed of fields we do not read).
POST: dict[str, object] = {
    "post": {
        "id": 501,
        "name": "Zebedee Quux",
        "username": "sky_blue",
        "avatar_template": "/user_avatar/forum.example.org/sky_blue/{size}/2_2.png",
        "created_at": "2026-11-24T10:00:00.000Z",
        "cooked": "<p>I'm Zebedee Quux, text me on 07700 900123</p>",
        "post_number": 3,
        "post_type": 1,
        "updated_at": "2026-11-24T10:00:00.000Z",
        "reply_count": 0,
        "reply_to_post_number": None,
        "topic_id": 42,
        "topic_slug": "exam-stress",
        "topic_title": "Exam stress",
        "category_id": 5,
        "display_username": "Zebedee Quux",
        "version": 1,
        "raw": SECRET_TEXT,
        "moderator": False,
        "admin": False,
        "staff": False,
        "user_id": 77,
        "hidden": False,
        "trust_level": 1,
        "deleted_at": None,
        "user_deleted": False,
        "wiki": False,
        "topic_posts_count": 3,
        "topic_filtered_posts_count": 3,
        "topic_archetype": "regular",
        "category_slug": "wellbeing",
    }
}


def post(**overrides: object) -> dict[str, object]:
    body = copy.deepcopy(POST)
    body["post"].update(overrides)  # type: ignore[attr-defined]
    return body


def encode(body: object) -> bytes:
    return json.dumps(body).encode()


def headers_for(body: bytes, event: str = "post_created", secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Discourse-Instance": "https://forum.example.org",
        "X-Discourse-Event-Id": "9",
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Event": event,
        "X-Discourse-Event-Signature": f"sha256={digest}",
    }


@pytest.fixture
def platform() -> DiscoursePlatform:
    return DiscoursePlatform(SECRET, Routing())


def test_valid_signature_is_accepted(platform: DiscoursePlatform) -> None:
    body = encode(POST)
    platform.verify(body=body, headers=headers_for(body), url="", now=0.0)


def test_lower_case_headers_are_accepted(platform: DiscoursePlatform) -> None:
    body = encode(POST)
    headers = {k.lower(): v for k, v in headers_for(body).items()}
    platform.verify(body=body, headers=headers, url="", now=0.0)
    assert platform.parse(body=body, headers=headers).message_id.startswith("post:501:")


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=00", "sha1=abc", "e3b0c44298fc1c149afbf4c8996fb924"],
)
def test_wrong_or_missing_signature_is_rejected(platform: DiscoursePlatform, signature: str | None) -> None:
    body = encode(POST)
    headers = headers_for(body)
    if signature is None:
        del headers["X-Discourse-Event-Signature"]
    else:
        headers["X-Discourse-Event-Signature"] = signature
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=headers, url="", now=0.0)


def test_tampered_body_is_rejected(platform: DiscoursePlatform) -> None:
    headers = headers_for(encode(POST))
    with pytest.raises(SignatureError, match="mismatch"):
        platform.verify(body=encode(post(username="system")), headers=headers, url="", now=0.0)


def test_wrong_secret_is_rejected(platform: DiscoursePlatform) -> None:
    body = encode(POST)
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=headers_for(body, secret="other"), url="", now=0.0)


def test_parse_produces_the_normalised_message(platform: DiscoursePlatform) -> None:
    body = encode(POST)
    message = platform.parse(body=body, headers=headers_for(body))
    assert message.platform == "discourse"
    assert message.channel is Channel.DISCUSSION_BOARD
    assert message.conversation_id == "topic:42"
    assert message.author.id == "77"
    assert message.author.display_name == "sky_blue"
    assert message.author.kind is AuthorKind.YOUNG_PERSON
    assert message.text == SECRET_TEXT
    assert message.identity.present() == {"name": "Zebedee Quux"}
    assert message.link == "https://forum.example.org/t/exam-stress/42/3"
    assert message.sent_at.isoformat() == "2026-11-24T10:00:00+00:00"


def test_configured_base_url_wins_over_the_unsigned_instance_header() -> None:
    body = encode(POST)
    platform = DiscoursePlatform(SECRET, base_url="https://talk.example.org/")
    assert platform.parse(body=body, headers=headers_for(body)).link == "https://talk.example.org/t/exam-stress/42/3"


@pytest.mark.parametrize("instance", ["javascript:alert(1)", "https://x.org/?q=1", "not a url", ""])
def test_suspicious_instance_header_gives_no_link(platform: DiscoursePlatform, instance: str) -> None:
    body = encode(POST)
    headers = headers_for(body) | {"X-Discourse-Instance": instance}
    assert platform.parse(body=body, headers=headers).link is None


def test_text_falls_back_to_cooked_without_html(platform: DiscoursePlatform) -> None:
    body = encode(post(raw=None))
    message = platform.parse(body=body, headers=headers_for(body))
    assert message.text == SECRET_TEXT
    assert html_to_text("<p>one</p><p>two &amp; <b>three</b></p>") == "one\ntwo & three"


def test_repeat_delivery_keeps_the_id_and_an_edit_gets_a_new_one(platform: DiscoursePlatform) -> None:
    first = encode(POST)
    repeat = encode(POST)
    ninja_edit = encode(post(raw="edited", updated_at="2026-11-24T10:02:00.000Z"))
    later_edit = encode(post(raw="edited again", version=2, updated_at="2026-11-24T11:00:00.000Z"))
    ids = [
        platform.parse(body=first, headers=headers_for(first)).message_id,
        platform.parse(body=repeat, headers=headers_for(repeat)).message_id,
        platform.parse(body=ninja_edit, headers=headers_for(ninja_edit, "post_edited")).message_id,
        platform.parse(body=later_edit, headers=headers_for(later_edit, "post_edited")).message_id,
    ]
    assert ids[0] == ids[1]
    # A grace-period edit keeps version 1 but must still be a new message to be assessed again.
    assert len({ids[0], ids[2], ids[3]}) == 3
    assert all(i.startswith("post:501:v") for i in ids)


def test_edit_is_dated_when_it_was_made(platform: DiscoursePlatform) -> None:
    body = encode(post(updated_at="2026-11-24T10:30:00.000Z"))
    message = platform.parse(body=body, headers=headers_for(body, "post_edited"))
    assert message.sent_at.isoformat() == "2026-11-24T10:30:00+00:00"


@pytest.mark.parametrize("event", ["topic_created", "post_destroyed", "ping", "user_created"])
def test_other_events_are_ignored(platform: DiscoursePlatform, event: str) -> None:
    body = b'{"ping": "OK"}'
    with pytest.raises(IgnoredEvent, match=event):
        platform.parse(body=body, headers=headers_for(body, event))


def test_missing_event_header_is_invalid(platform: DiscoursePlatform) -> None:
    body = encode(POST)
    headers = headers_for(body)
    del headers["X-Discourse-Event"]
    with pytest.raises(InvalidPayload, match="X-Discourse-Event"):
        platform.parse(body=body, headers=headers)


def test_small_action_posts_are_ignored(platform: DiscoursePlatform) -> None:
    body = encode(post(post_type=3, raw=""))
    with pytest.raises(IgnoredEvent):
        platform.parse(body=body, headers=headers_for(body))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"user_id": -1, "username": "system"}, AuthorKind.BOT),
        ({"user_id": -2, "username": "discobot"}, AuthorKind.BOT),
        ({"user_id": 5, "username": "System"}, AuthorKind.BOT),
        ({"staff": True, "moderator": True}, AuthorKind.STAFF),
        ({}, AuthorKind.YOUNG_PERSON),
    ],
)
def test_author_kind_from_the_post(
    platform: DiscoursePlatform, overrides: dict[str, object], expected: AuthorKind
) -> None:
    body = encode(post(**overrides))
    assert platform.parse(body=body, headers=headers_for(body)).author.kind is expected


@pytest.mark.parametrize("entry", ["discourse:HelperBot", "helperbot", "discourse:91"])
def test_configured_chatbot_author_comes_out_as_bot(entry: str) -> None:
    platform = DiscoursePlatform(SECRET, Routing(chatbot_authors=frozenset({entry})))
    body = encode(post(username="helperbot", user_id=91, staff=True))
    assert platform.parse(body=body, headers=headers_for(body)).author.kind is AuthorKind.BOT


def test_chatbot_entry_for_another_platform_does_not_match() -> None:
    platform = DiscoursePlatform(SECRET, Routing(chatbot_authors=frozenset({"twilio:helperbot"})))
    body = encode(post(username="helperbot"))
    assert platform.parse(body=body, headers=headers_for(body)).author.kind is AuthorKind.YOUNG_PERSON


def test_channel_from_topic_or_category_mapping() -> None:
    routing = routing_from_mapping(
        {"discourse": {"conversations": {"42": "group_chat"}, "categories": {"bot-help": "chatbot"}}}
    )
    platform = DiscoursePlatform(SECRET, routing)
    by_topic = encode(POST)
    by_category = encode(post(topic_id=7, category_slug="bot-help"))
    assert platform.parse(body=by_topic, headers=headers_for(by_topic)).channel is Channel.GROUP_CHAT
    assert platform.parse(body=by_category, headers=headers_for(by_category)).channel is Channel.CHATBOT


@pytest.mark.parametrize(
    ("body", "error"),
    [(b"<html>", MalformedPayload), (b"\xc3\x28", MalformedPayload), (b'"post"', InvalidPayload)],
)
def test_undecodable_bodies(platform: DiscoursePlatform, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        platform.parse(body=body, headers=headers_for(body))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic": {}}, "post: missing"),
        (post(raw=12), "post.raw: string_type"),
        (post(raw=None, cooked=None), "post.raw: missing"),
        (post(topic_id=SECRET_TEXT), "post.topic_id: int_parsing"),
        (post(created_at=SECRET_TEXT), "post.created_at: datetime"),
        (post(username=None), "post.username: string_type"),
        (post(raw="x" * 100_001), "text: string_too_long"),
    ],
)
def test_wrong_fields_name_the_field_and_never_echo_input(
    platform: DiscoursePlatform, body: dict[str, object], field: str
) -> None:
    raw = encode(body)
    with pytest.raises(InvalidPayload) as caught:
        platform.parse(body=raw, headers=headers_for(raw))
    assert caught.value.reason.startswith(field)
    assert "Zebedee" not in caught.value.reason and "07700" not in caught.value.reason


@given(st.binary(max_size=2048), st.sampled_from(["post_created", "post_edited", "ping"]))
def test_parse_of_arbitrary_bytes_raises_only_declared_errors(body: bytes, event: str) -> None:
    assert_parses_or_declares(DiscoursePlatform(SECRET), body, headers_for(body, event))


@given(
    st.sampled_from(sorted(POST["post"])),  # type: ignore[arg-type]
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    | st.lists(st.integers(), max_size=3),
)
def test_parse_of_arbitrary_post_fields_raises_only_declared_errors(key: str, value: object) -> None:
    body = encode(post(**{key: value}))
    assert_parses_or_declares(DiscoursePlatform(SECRET), body, headers_for(body, "post_edited"))


@given(st.text(max_size=300))
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize("event", ["post_created", "post_edited"])
def test_times_that_cannot_be_moved_to_utc_are_invalid_not_a_crash(
    platform: DiscoursePlatform, event: str
) -> None:
    body = encode(post(created_at="9999-12-31T23:59:59-14:00", updated_at="0001-01-01T00:00:00+14:00"))
    with pytest.raises(InvalidPayload, match="datetime_out_of_range"):
        platform.parse(body=body, headers=headers_for(body, event))
