"""The generic webhook: Slack-style v0 signature, 5-minute window, the contract's JSON body."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.errors import (
    IgnoredEvent,
    InvalidPayload,
    MalformedPayload,
    SignatureError,
    describe_validation_error,
)
from integrations.generic import GenericPlatform
from integrations.model import InboundMessage
from integrations.platform import Platform, build_platforms
from integrations.routing import Routing
from integrations.signing import check_timestamp, get_header
from policy.types import AuthorKind, Channel

SECRET = "generic-test-secret"
NOW = 1_800_000_000.0
SECRET_TEXT = "my name is Zebedee Quux and I live at 4 Privet Drive"


def payload(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "message_id": "m-123",
        "platform": "webchat",
        "channel": "counselling",
        "conversation_id": "c-9",
        "author": {"id": "u-77", "kind": "young_person", "display_name": "sky_blue"},
        "text": SECRET_TEXT,
        "sent_at": "2026-11-24T10:00:00Z",
        "identity": {"name": "Zebedee Quux", "phone": "07700 900123"},
        "link": "https://chat.example.org/conversations/c-9",
    }
    body.update(overrides)
    return body


def encode(body: object) -> bytes:
    return json.dumps(body).encode()


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> dict[str, str]:
    # Computed here independently of integrations.signing, straight from CONTRACT.md §3.
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Safeguard-Request-Timestamp": timestamp, "X-Safeguard-Signature": f"v0={digest}"}


def assert_parses_or_declares(platform: Platform, body: bytes, headers: dict[str, str]) -> None:
    """The fuzz invariant: a message, or one of the declared errors with a short reason."""
    try:
        message = platform.parse(body=body, headers=headers)
    except (MalformedPayload, InvalidPayload, IgnoredEvent) as exc:
        assert exc.reason and len(exc.reason) < 500
    else:
        assert isinstance(message, InboundMessage)


@pytest.fixture
def platform() -> GenericPlatform:
    return GenericPlatform(SECRET, Routing())


def test_registry_has_every_route_and_each_satisfies_the_protocol() -> None:
    platforms = build_platforms(webhook_secret="a", discourse_secret="b", twilio_auth_token="c")
    assert sorted(platforms) == ["discourse", "generic", "twilio"]
    for name, platform in platforms.items():
        assert isinstance(platform, Platform)
        assert platform.name == name


def test_valid_signature_is_accepted(platform: GenericPlatform) -> None:
    body = encode(payload())
    platform.verify(body=body, headers=sign(body, str(int(NOW))), url="", now=NOW)


def test_header_names_are_case_insensitive(platform: GenericPlatform) -> None:
    body = encode(payload())
    headers = {k.lower(): v for k, v in sign(body, str(int(NOW))).items()}
    platform.verify(body=body, headers=headers, url="", now=NOW)
    assert get_header({"X-UPPER": "1"}, "x-upper") == "1"


def test_timestamp_within_the_window_either_side_is_accepted(platform: GenericPlatform) -> None:
    body = encode(payload())
    for skew in (-300, 300):
        ts = str(int(NOW) + skew)
        platform.verify(body=body, headers=sign(body, ts), url="", now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -86_400])
def test_stale_or_future_timestamp_is_rejected(platform: GenericPlatform, skew: int) -> None:
    body = encode(payload())
    ts = str(int(NOW) + skew)
    with pytest.raises(SignatureError, match="window"):
        platform.verify(body=body, headers=sign(body, ts), url="", now=NOW)


def test_tampered_body_is_rejected(platform: GenericPlatform) -> None:
    body = encode(payload())
    headers = sign(body, str(int(NOW)))
    tampered = encode(payload(channel="chatbot"))
    with pytest.raises(SignatureError, match="mismatch"):
        platform.verify(body=tampered, headers=headers, url="", now=NOW)


def test_wrong_secret_is_rejected(platform: GenericPlatform) -> None:
    body = encode(payload())
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=sign(body, str(int(NOW)), "other"), url="", now=NOW)


def test_signature_bound_to_its_timestamp(platform: GenericPlatform) -> None:
    body = encode(payload())
    headers = sign(body, str(int(NOW) - 10))
    headers["X-Safeguard-Request-Timestamp"] = str(int(NOW))
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=headers, url="", now=NOW)


@pytest.mark.parametrize("drop", ["X-Safeguard-Request-Timestamp", "X-Safeguard-Signature"])
def test_missing_headers_are_rejected(platform: GenericPlatform, drop: str) -> None:
    body = encode(payload())
    headers = sign(body, str(int(NOW)))
    del headers[drop]
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=headers, url="", now=NOW)


@pytest.mark.parametrize("value", ["", "abc", "1_800_000_000", " 1800000000", "+1800000000", "١٢٣"])
def test_malformed_timestamps_are_rejected(value: str) -> None:
    with pytest.raises(SignatureError):
        check_timestamp(value, now=NOW)


def test_non_ascii_signature_header_is_a_signature_error_not_a_crash(platform: GenericPlatform) -> None:
    body = encode(payload())
    headers = sign(body, str(int(NOW)))
    headers["X-Safeguard-Signature"] = "v0=é"
    with pytest.raises(SignatureError):
        platform.verify(body=body, headers=headers, url="", now=NOW)


@pytest.mark.parametrize("secret", [None, ""])
def test_unconfigured_secret_refuses_everything(secret: str | None) -> None:
    body = encode(payload())
    # An empty key is a known key: a signature made with it must still be refused.
    with pytest.raises(SignatureError, match="not configured"):
        GenericPlatform(secret).verify(body=body, headers=sign(body, str(int(NOW)), ""), url="", now=NOW)


def test_parse_produces_the_normalised_message(platform: GenericPlatform) -> None:
    message = platform.parse(body=encode(payload(extra_field={"x": 1})), headers={})
    assert message.platform == "webchat"
    assert message.message_id == "m-123"
    assert message.channel is Channel.COUNSELLING
    assert message.conversation_id == "c-9"
    assert message.author.kind is AuthorKind.YOUNG_PERSON
    assert message.text == SECRET_TEXT
    assert message.sent_at.utcoffset() is not None
    assert message.identity.present() == {"name": "Zebedee Quux", "phone": "07700 900123"}
    assert message.link == "https://chat.example.org/conversations/c-9"


def test_identity_and_link_are_optional(platform: GenericPlatform) -> None:
    body = payload()
    del body["identity"], body["link"]
    message = platform.parse(body=encode(body), headers={})
    assert message.identity.present() == {}
    assert message.link is None


def test_naive_sent_at_is_taken_as_utc(platform: GenericPlatform) -> None:
    message = platform.parse(body=encode(payload(sent_at="2026-11-24T10:00:00")), headers={})
    assert message.sent_at.utcoffset() is not None and message.sent_at.utcoffset().total_seconds() == 0


def test_chatbot_author_becomes_bot_even_when_the_body_says_otherwise() -> None:
    routing = Routing(chatbot_authors=frozenset({"webchat:helperbot"}))
    body = payload(author={"id": "helperbot", "kind": "young_person"})
    message = GenericPlatform(SECRET, routing).parse(body=encode(body), headers={})
    assert message.author.kind is AuthorKind.BOT


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", MalformedPayload),
        (b"\xff\xfe{}", MalformedPayload),
        (b"[" * 100_000, MalformedPayload),
        (b"[1, 2]", InvalidPayload),
        (b"null", InvalidPayload),
    ],
)
def test_undecodable_bodies(platform: GenericPlatform, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        platform.parse(body=body, headers={})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "the-moon " + SECRET_TEXT}, "channel"),
        ({"text": 12345}, "text"),
        ({"text": [SECRET_TEXT]}, "text"),
        ({"author": {"id": "u-1", "kind": SECRET_TEXT}}, "author.kind"),
        ({"author": "u-77"}, "author"),
        ({"sent_at": SECRET_TEXT}, "sent_at"),
        ({"identity": {"name": 7}}, "identity.name"),
    ],
)
def test_wrong_fields_name_the_field_and_never_echo_input(
    platform: GenericPlatform, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        platform.parse(body=encode(payload(**overrides)), headers={})
    assert caught.value.reason.startswith(field + ":")
    assert "Zebedee" not in caught.value.reason and "Privet" not in caught.value.reason


@pytest.mark.parametrize(
    "missing", ["message_id", "platform", "channel", "conversation_id", "author", "text", "sent_at"]
)
def test_missing_fields_are_named(platform: GenericPlatform, missing: str) -> None:
    body = payload()
    del body[missing]
    with pytest.raises(InvalidPayload, match=f"^{missing}: missing"):
        platform.parse(body=encode(body), headers={})


def test_unknown_identity_field_is_refused_without_echoing_its_key(platform: GenericPlatform) -> None:
    with pytest.raises(InvalidPayload) as caught:
        platform.parse(body=encode(payload(identity={"Zebedee Quux": "x"})), headers={})
    assert caught.value.reason == "identity.<unknown>: extra_forbidden"


def test_validation_reason_is_bounded() -> None:
    errors = [{"loc": ("text",), "type": "string_type", "msg": SECRET_TEXT, "input": SECRET_TEXT}] * 9
    reason = describe_validation_error(errors, frozenset({"text"}))
    assert reason.endswith("and 4 more") and SECRET_TEXT not in reason


@given(st.binary(max_size=2048))
def test_parse_of_arbitrary_bytes_raises_only_declared_errors(body: bytes) -> None:
    assert_parses_or_declares(GenericPlatform(SECRET), body, {})


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
), st.sampled_from(list(payload())))
def test_parse_of_arbitrary_field_values_raises_only_declared_errors(value: object, key: str) -> None:
    assert_parses_or_declares(GenericPlatform(SECRET), encode(payload(**{key: value})), {})


@given(st.binary(max_size=512), st.dictionaries(st.text(max_size=40), st.text(max_size=80), max_size=4))
def test_verify_of_arbitrary_input_raises_only_signature_errors(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        GenericPlatform(SECRET).verify(body=body, headers=headers, url="", now=NOW)


@pytest.mark.parametrize("sent_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_times_that_cannot_be_moved_to_utc_are_invalid_not_a_crash(
    platform: GenericPlatform, sent_at: str
) -> None:
    with pytest.raises(InvalidPayload, match="^sent_at: datetime_out_of_range$"):
        platform.parse(body=encode(payload(sent_at=sent_at)), headers={})


def test_sent_at_is_normalised_to_utc(platform: GenericPlatform) -> None:
    message = platform.parse(body=encode(payload(sent_at="2026-11-24T12:00:00+02:00")), headers={})
    assert message.sent_at.isoformat() == "2026-11-24T10:00:00+00:00"
