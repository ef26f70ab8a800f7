"""Twilio Conversations onMessageAdded: X-Twilio-Signature, event filtering, ids, channels, authors."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.errors import IgnoredEvent, InvalidPayload, MalformedPayload, SignatureError
from integrations.routing import Routing, routing_from_mapping
from integrations.twilio import TwilioPlatform, twilio_signature
from policy.types import AuthorKind, Channel
from tests.test_integrations_generic import assert_parses_or_declares

TOKEN = "twilio-test-token"
URL = "https://relay.example.org/webhooks/twilio"
SECRET_TEXT = "I'm Zebedee Quux, I live at 4 Privet Drive"

FORM: dict[str, str] = {
    "AccountSid": "AC00000000000000000000000000000001",
    "ChatServiceSid": "IS00000000000000000000000000000001",
    "EventType": "onMessageAdded",
    "ConversationSid": "CH00000000000000000000000000000001",
    "MessageSid": "IM00000000000000000000000000000001",
    "Author": "young-person-17",
    "ParticipantSid": "MB00000000000000000000000000000001",
    "Body": SECRET_TEXT,
    "DateCreated": "2026-11-24T10:00:00.000Z",
    "Index": "4",
    "Source": "SDK",
    "Attributes": "{}",
    "RetryCount": "0",
}


def form(**overrides: str | None) -> dict[str, str]:
    fields = FORM | overrides
    return {k: v for k, v in fields.items() if v is not None}


def encode(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def reference_signature(token: str, url: str, fields: dict[str, str]) -> str:
    # Independent of integrations.twilio: Twilio's documented recipe, one distinct name per field.
    signed = url + "".join(name + fields[name] for name in sorted(fields))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def signed(fields: dict[str, str], url: str = URL, token: str = TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": reference_signature(token, url, fields)}


@pytest.fixture
def platform() -> TwilioPlatform:
    return TwilioPlatform(TOKEN, Routing())


def test_signature_matches_twilios_published_vector() -> None:
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_matches_an_independently_computed_vector() -> None:
    fields = form(Body="naïve café ✓ & = + %")
    assert twilio_signature(TOKEN, URL, list(fields.items())) == reference_signature(TOKEN, URL, fields)


def test_valid_signature_is_accepted(platform: TwilioPlatform) -> None:
    platform.verify(body=encode(FORM), headers=signed(FORM), url=URL, now=0.0)


def test_lower_case_header_is_accepted(platform: TwilioPlatform) -> None:
    headers = {"x-twilio-signature": signed(FORM)["X-Twilio-Signature"]}
    platform.verify(body=encode(FORM), headers=headers, url=URL, now=0.0)


def test_field_order_in_the_body_does_not_matter(platform: TwilioPlatform) -> None:
    shuffled = dict(reversed(list(FORM.items())))
    platform.verify(body=encode(shuffled), headers=signed(FORM), url=URL, now=0.0)


def test_url_signed_with_explicit_default_port_is_accepted(platform: TwilioPlatform) -> None:
    headers = signed(FORM, url="https://relay.example.org:443/webhooks/twilio")
    platform.verify(body=encode(FORM), headers=headers, url=URL, now=0.0)


@pytest.mark.parametrize("signature", [None, "", "not-base64", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_wrong_or_missing_signature_is_rejected(platform: TwilioPlatform, signature: str | None) -> None:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    with pytest.raises(SignatureError):
        platform.verify(body=encode(FORM), headers=headers, url=URL, now=0.0)


def test_tampered_body_is_rejected(platform: TwilioPlatform) -> None:
    tampered = encode(form(Author="system"))
    with pytest.raises(SignatureError, match="mismatch"):
        platform.verify(body=tampered, headers=signed(FORM), url=URL, now=0.0)


def test_added_field_is_rejected(platform: TwilioPlatform) -> None:
    with pytest.raises(SignatureError):
        platform.verify(body=encode(form(Extra="1")), headers=signed(FORM), url=URL, now=0.0)


@pytest.mark.parametrize(
    "url",
    ["https://evil.example.org/webhooks/twilio", URL + "?x=1", "http://relay.example.org/webhooks/twilio"],
)
def test_signature_for_another_url_is_rejected(platform: TwilioPlatform, url: str) -> None:
    with pytest.raises(SignatureError):
        platform.verify(body=encode(FORM), headers=signed(FORM, url=url), url=URL, now=0.0)


def test_wrong_token_is_rejected(platform: TwilioPlatform) -> None:
    with pytest.raises(SignatureError):
        platform.verify(body=encode(FORM), headers=signed(FORM, token="other"), url=URL, now=0.0)


def test_unreadable_body_is_a_signature_error(platform: TwilioPlatform) -> None:
    with pytest.raises(SignatureError):
        platform.verify(body=b"\xff\xfe", headers=signed(FORM), url=URL, now=0.0)


@pytest.mark.parametrize("token", [None, ""])
def test_unconfigured_token_refuses_everything(token: str | None) -> None:
    with pytest.raises(SignatureError, match="not configured"):
        TwilioPlatform(token).verify(body=encode(FORM), headers=signed(FORM, token=""), url=URL, now=0.0)


def test_parse_produces_the_normalised_message(platform: TwilioPlatform) -> None:
    message = platform.parse(body=encode(FORM), headers={})
    assert message.platform == "twilio"
    assert message.message_id == FORM["MessageSid"]
    assert message.conversation_id == FORM["ConversationSid"]
    assert message.channel is Channel.COUNSELLING
    assert message.author.id == "young-person-17"
    assert message.author.kind is AuthorKind.YOUNG_PERSON
    assert message.text == SECRET_TEXT
    assert message.sent_at.isoformat() == "2026-11-24T10:00:00+00:00"


def test_retry_keeps_the_message_id(platform: TwilioPlatform) -> None:
    # No timestamp to check: the MessageSid is the replay/retry protection (the store dedups on it).
    first = platform.parse(body=encode(FORM), headers={})
    retry = platform.parse(body=encode(form(RetryCount="1")), headers={})
    assert first.message_id == retry.message_id


def test_phone_number_author_goes_to_identity_not_the_author_id(platform: TwilioPlatform) -> None:
    body = encode(form(Author="whatsapp:+447700900123", Source="WHATSAPP"))
    message = platform.parse(body=body, headers={})
    assert message.author.id == FORM["ParticipantSid"]
    assert message.author.display_name is None
    assert message.identity.present() == {"phone": "+447700900123"}


def test_media_only_message_has_empty_text(platform: TwilioPlatform) -> None:
    assert platform.parse(body=encode(form(Body=None)), headers={}).text == ""


@pytest.mark.parametrize("event", ["onMessageUpdated", "onConversationAdded", "onParticipantAdded", ""])
def test_other_events_are_ignored(platform: TwilioPlatform, event: str) -> None:
    with pytest.raises(IgnoredEvent):
        platform.parse(body=encode(form(EventType=event)), headers={})


@pytest.mark.parametrize(
    ("author", "routing", "expected"),
    [
        ("system", Routing(), AuthorKind.BOT),
        ("bot-1", Routing(chatbot_authors=frozenset({"twilio:bot-1"})), AuthorKind.BOT),
        ("bot-1", Routing(chatbot_authors=frozenset({"bot-1"})), AuthorKind.BOT),
        ("bot-1", Routing(chatbot_authors=frozenset({"discourse:bot-1"})), AuthorKind.YOUNG_PERSON),
        # Twilio identities are case-sensitive, unlike Discourse usernames.
        ("bot-1", Routing(chatbot_authors=frozenset({"twilio:BOT-1"})), AuthorKind.YOUNG_PERSON),
        ("ana", Routing(staff_authors=frozenset({"twilio:ana"})), AuthorKind.STAFF),
        # A chatbot entry wins over a staff entry for the same identity.
        (
            "ana",
            Routing(staff_authors=frozenset({"ana"}), chatbot_authors=frozenset({"ana"})),
            AuthorKind.BOT,
        ),
        (
            "whatsapp:+447700900123",
            Routing(chatbot_authors=frozenset({"twilio:" + FORM["ParticipantSid"]})),
            AuthorKind.BOT,
        ),
    ],
)
def test_author_kind(author: str, routing: Routing, expected: AuthorKind) -> None:
    message = TwilioPlatform(TOKEN, routing).parse(body=encode(form(Author=author)), headers={})
    assert message.author.kind is expected


@pytest.mark.parametrize(
    ("attributes", "mapping", "expected"),
    [
        ('{"channel": "group_chat"}', {}, Channel.GROUP_CHAT),
        ('{"channel": "nonsense"}', {}, Channel.COUNSELLING),
        ("not json", {}, Channel.COUNSELLING),
        ('["channel"]', {}, Channel.COUNSELLING),
        # Sender-set attributes must not switch assessment off by claiming the chatbot channel.
        ('{"channel": "chatbot"}', {}, Channel.COUNSELLING),
        ("{}", {"twilio": {"default_channel": "group_chat"}}, Channel.GROUP_CHAT),
        (
            '{"channel": "group_chat"}',
            {"twilio": {"conversations": {FORM["ConversationSid"]: "chatbot"}}},
            Channel.CHATBOT,
        ),
    ],
)
def test_channel(attributes: str, mapping: dict[str, object], expected: Channel) -> None:
    platform = TwilioPlatform(TOKEN, routing_from_mapping(mapping))
    assert platform.parse(body=encode(form(Attributes=attributes)), headers={}).channel is expected


@pytest.mark.parametrize("body", [b"\xff=1", b"Body=%ff", b"no-equals-sign", b"a=1&&b=2"])
def test_undecodable_bodies_are_malformed(platform: TwilioPlatform, body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        platform.parse(body=body, headers={})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"MessageSid": None}, "MessageSid: missing"),
        ({"ConversationSid": ""}, "ConversationSid: string_too_short"),
        ({"Author": None}, "Author: missing"),
        ({"DateCreated": SECRET_TEXT}, "DateCreated: datetime"),
        ({"EventType": None}, "EventType: missing"),
        ({"Body": "x" * 100_001}, "text: string_too_long"),
    ],
)
def test_wrong_fields_name_the_field_and_never_echo_input(
    platform: TwilioPlatform, overrides: dict[str, str | None], field: str
) -> None:
    with pytest.raises(InvalidPayload) as caught:
        platform.parse(body=encode(form(**overrides)), headers={})
    assert caught.value.reason.startswith(field)
    assert "Zebedee" not in caught.value.reason and "Privet" not in caught.value.reason


@given(st.binary(max_size=2048))
def test_parse_of_arbitrary_bytes_raises_only_declared_errors(body: bytes) -> None:
    assert_parses_or_declares(TwilioPlatform(TOKEN), body, {})


@given(st.sampled_from(sorted(FORM)), st.text(max_size=60))
def test_parse_of_arbitrary_field_values_raises_only_declared_errors(key: str, value: str) -> None:
    body = urlencode(form(**{key: value}), encoding="utf-8", errors="surrogatepass").encode()
    assert_parses_or_declares(TwilioPlatform(TOKEN), body, {})


@given(st.binary(max_size=512), st.text(max_size=40), st.text(max_size=100))
def test_verify_of_arbitrary_input_raises_only_signature_errors(
    body: bytes, signature: str, url: str
) -> None:
    with pytest.raises(SignatureError):
        TwilioPlatform(TOKEN).verify(body=body, headers={"X-Twilio-Signature": signature}, url=url, now=0.0)


def test_attributes_are_json_text_not_structure() -> None:
    # Twilio sends Attributes as a JSON string inside the form; a nested form key is just a field.
    body = encode(form(Attributes=json.dumps({"channel": "group_chat", "nested": {"a": [1]}})))
    assert TwilioPlatform(TOKEN).parse(body=body, headers={}).channel is Channel.GROUP_CHAT


def test_times_that_cannot_be_moved_to_utc_are_invalid_not_a_crash(platform: TwilioPlatform) -> None:
    with pytest.raises(InvalidPayload, match="^DateCreated: datetime_out_of_range$"):
        platform.parse(body=encode(form(DateCreated="9999-12-31T23:59:59-14:00")), headers={})
