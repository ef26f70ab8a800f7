"""Block Kit views are pure: record in, chat kwargs out, always within Slack's limits and never injectable."""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.actions import ESCALATION_EVENT_TYPE, ActionId
from bot.slack.views import (
    CATEGORY_WORDS,
    CHANNEL_WORDS,
    MAX_BLOCKS,
    MAX_SECTION_TEXT,
    SEVERITY_WORDS,
    Renderer,
    escape,
    truncate_escaped,
)
from bot.store.records import EscalationRecord, EscalationStatus
from policy.types import Category, Channel, Indicator, Severity, SuggestedAction

CREATED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def make_record(**changes: Any) -> EscalationRecord:
    base = EscalationRecord(
        id="esc-1",
        status=EscalationStatus.OPEN,
        categories=(Category.LIFE_IN_DANGER,),
        severity=Severity.CRITICAL,
        platform="webchat",
        channel=Channel.COUNSELLING,
        conversation_id="c-9",
        message_id="m-123",
        link="https://chat.example.org/conversations/c-9?a=1&b=2",
        redacted_text="I'm [NAME] and I have taken all my pills, call me on [PHONE]",
        indicators=(Indicator("overdose_taken", 18, 40), Indicator("intent_now", 0, 5)),
        actions=(SuggestedAction("call-999", "Call 999 if there is an immediate risk"),),
        masked_identity={"name": "S•••", "phone": "•••• ••• •123", "ip_address": "•••.•••.•.12"},
        prior_escalations=2,
        policy_version="2026.11",
        created_at=CREATED,
    )
    return dataclasses.replace(base, **changes)


def acknowledged(esc: EscalationRecord) -> EscalationRecord:
    return dataclasses.replace(
        esc,
        status=EscalationStatus.ACKNOWLEDGED,
        acknowledged_by="U0LEAD1",
        acknowledged_at=CREATED + timedelta(minutes=3),
    )


def texts(kwargs: dict[str, Any]) -> list[str]:
    """Every text string a Slack client would display from these kwargs (fallback included)."""
    found: list[str] = [kwargs["text"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(kwargs["blocks"])
    return found


def all_text(kwargs: dict[str, Any]) -> str:
    return "\n".join(texts(kwargs))


def buttons(kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in kwargs["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


def assert_valid_shape(kwargs: dict[str, Any]) -> None:
    """The structural rules Slack enforces (chat.* fails with invalid_blocks otherwise)."""
    assert isinstance(kwargs["text"], str) and kwargs["text"]
    blocks = kwargs["blocks"]
    assert 1 <= len(blocks) <= MAX_BLOCKS
    json.dumps(kwargs)  # must be serialisable as sent
    for block in blocks:
        kind = block["type"]
        assert kind in {"header", "section", "context", "actions", "divider"}
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        if kind == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= MAX_SECTION_TEXT
        if kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 2000 for e in block["elements"])
        if kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75
                assert len(element["action_id"]) <= 255
                assert len(element["value"]) <= 2000


RENDERER = Renderer()
ALL_VIEWS = {
    "escalation_message": lambda e: RENDERER.escalation_message(e),
    "acknowledged_message": lambda e: RENDERER.acknowledged_message(acknowledged(e)),
    "ack_thread_reply": lambda e: RENDERER.ack_thread_reply(acknowledged(e)),
    "renotify_thread_reply": lambda e: RENDERER.renotify_thread_reply(
        e, ("U0LEAD1", "U0LEAD2"), now=CREATED + timedelta(minutes=7)
    ),
    "renotify_dm": lambda e: RENDERER.renotify_dm(e, now=CREATED + timedelta(minutes=7)),
    "reveal_refused_ephemeral": lambda e: RENDERER.reveal_refused_ephemeral(e),
    "already_acknowledged_ephemeral": lambda e: RENDERER.already_acknowledged_ephemeral(acknowledged(e)),
    "acknowledged_ephemeral": lambda e: RENDERER.acknowledged_ephemeral(e),
}


@pytest.mark.parametrize("view", sorted(ALL_VIEWS))
def test_every_view_has_a_valid_shape(view: str) -> None:
    assert_valid_shape(ALL_VIEWS[view](make_record()))


def test_views_are_pure() -> None:
    esc = make_record()
    assert RENDERER.escalation_message(esc) == Renderer().escalation_message(esc)


def test_escalation_message_has_both_contract_buttons_carrying_the_id() -> None:
    kwargs = RENDERER.escalation_message(make_record(id="esc-42"))
    found = {b["action_id"]: b for b in buttons(kwargs)}
    assert set(found) == {"escalation_ack", "escalation_reveal"}
    assert {b["value"] for b in found.values()} == {"esc-42"}
    assert found[ActionId.ESCALATION_ACK]["style"] == "primary"
    assert found[ActionId.ESCALATION_REVEAL]["style"] == "danger"
    assert "confirm" in found[ActionId.ESCALATION_REVEAL]


def test_escalation_message_carries_contract_metadata() -> None:
    kwargs = RENDERER.escalation_message(make_record(id="esc-42"))
    assert kwargs["metadata"] == {
        "event_type": ESCALATION_EVENT_TYPE,
        "event_payload": {"escalation_id": "esc-42"},
    }
    assert ESCALATION_EVENT_TYPE == "safeguard_escalation"


def test_escalation_message_content() -> None:
    text = all_text(RENDERER.escalation_message(make_record()))
    assert "Life in danger — CRITICAL" in text
    assert "Counselling chat" in text and "webchat" in text and "c-9" in text
    assert "<https://chat.example.org/conversations/c-9?a=1&amp;b=2|Open conversation>" in text
    assert "Overdose taken" in text and "Intent now" in text
    assert "[NAME]" in text and "[PHONE]" in text
    assert "Call 999 if there is an immediate risk" in text
    assert "Phone: •••• ••• •123" in text and "Name: S•••" in text and "IP address: •••.•••.•.12" in text
    assert "Earlier escalations for this young person: 2" in text
    assert "Try to tell the young person first; share only identifying and locating details" in text


def test_fallback_text_never_carries_the_excerpt() -> None:
    kwargs = RENDERER.escalation_message(make_record(redacted_text="something private"))
    assert "something private" not in kwargs["text"]
    assert "Life in danger — CRITICAL" in kwargs["text"]


def test_no_prior_escalations_and_no_identity_are_said_plainly() -> None:
    text = all_text(RENDERER.escalation_message(make_record(prior_escalations=0, masked_identity={})))
    assert "No earlier escalations" in text
    assert "none provided" in text


@pytest.mark.parametrize("category", list(Category))
def test_every_category_is_worded(category: Category) -> None:
    text = RENDERER.escalation_message(make_record(categories=(category,)))["blocks"][0]["text"]["text"]
    assert CATEGORY_WORDS[category] in text
    assert category.value not in text


@pytest.mark.parametrize("severity", list(Severity))
def test_every_severity_is_worded(severity: Severity) -> None:
    text = RENDERER.escalation_message(make_record(severity=severity))["blocks"][0]["text"]["text"]
    assert f"— {SEVERITY_WORDS[severity]}" in text


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_is_worded(channel: Channel) -> None:
    assert CHANNEL_WORDS[channel] in all_text(RENDERER.escalation_message(make_record(channel=channel)))


def test_several_categories_are_all_named() -> None:
    esc = make_record(categories=(Category.HARMING_OTHERS, Category.TERRORISM), severity=Severity.HIGH)
    assert "Harming others, Terrorism — HIGH" in RENDERER.escalation_message(esc)["text"]


# The only <...> tokens a view may contain: a lead mention, a date, or a checked http(s) link of ours.
OWN_TOKEN = re.compile(r"<(@U0LEAD\d|!date\^\d+\^[^|]+\|[^>]+|https?://[^<>| ]+\|Open conversation)>")
INJECTIONS = "<!channel> <!here> <@U0EVIL> <#C0EVIL> <https://evil.example|click> &lt;"


@pytest.mark.parametrize("view", sorted(ALL_VIEWS))
def test_user_text_cannot_inject_mentions_or_links(view: str) -> None:
    esc = make_record(
        redacted_text=INJECTIONS,
        conversation_id=INJECTIONS,
        platform=INJECTIONS,
        link="https://x.example/<!channel>|evil",
        indicators=(Indicator(INJECTIONS, 0, 1),),
        actions=(SuggestedAction("x", INJECTIONS),),
        masked_identity={INJECTIONS: INJECTIONS},
        policy_version=INJECTIONS,
    )
    text = all_text(ALL_VIEWS[view](esc))
    for forbidden in ("<!channel>", "<!here>", "<@U0EVIL>", "<#C0EVIL>", "<https://evil", "evil>"):
        assert forbidden not in text
    for token in re.findall(r"<[^>]*>", text):
        assert OWN_TOKEN.fullmatch(token), token


def test_escalation_message_escapes_the_excerpt() -> None:
    text = all_text(RENDERER.escalation_message(make_record(redacted_text="a <!channel> & b")))
    assert "a &lt;!channel&gt; &amp; b" in text


def test_non_http_links_are_not_linked() -> None:
    text = all_text(RENDERER.escalation_message(make_record(link="javascript:alert(1)")))
    assert "|Open conversation>" not in text
    assert "javascript:alert(1)" in text


def test_long_excerpt_is_truncated_within_the_section_limit() -> None:
    esc = make_record(redacted_text="&<>" * 5000, actions=tuple(SuggestedAction(str(i), "x" * 400)
                                                                  for i in range(40)))
    kwargs = RENDERER.escalation_message(esc)
    assert_valid_shape(kwargs)
    text = all_text(kwargs)
    assert "…" in text
    assert "and " in text and " more" in text  # dropped suggested actions are counted, not silent


def excerpt_section(kwargs: dict[str, Any]) -> str:
    [text] = [b["text"]["text"] for b in kwargs["blocks"]
              if b["type"] == "section" and b["text"]["text"].startswith("*Message")]
    return text


def test_every_excerpt_line_stays_inside_the_quote() -> None:
    text = excerpt_section(RENDERER.escalation_message(make_record(redacted_text="one\ntwo\r\nthree")))
    assert text.endswith("\n>one\n>two\n>three")


def test_excerpt_of_many_short_lines_is_cut_cleanly_not_by_the_last_resort_slice() -> None:
    text = excerpt_section(RENDERER.escalation_message(make_record(redacted_text="&\n" * 3000)))
    assert len(text) <= MAX_SECTION_TEXT
    assert text.endswith("…") and "&amp;" in text
    assert all(line.startswith((">", "*Message")) for line in text.split("\n"))


def test_many_indicators_and_fields_stay_within_limits() -> None:
    esc = make_record(
        indicators=tuple(Indicator(f"indicator_{i}_" + "y" * 50, 0, 1) for i in range(500)),
        masked_identity={f"field_{i}": "•" * 150 for i in range(200)},
    )
    assert_valid_shape(RENDERER.escalation_message(esc))
    assert_valid_shape(RENDERER.acknowledged_message(acknowledged(esc)))


def test_truncate_escaped_never_splits_an_entity() -> None:
    out = truncate_escaped("&" * 100, 50)
    assert len(out) <= 50
    assert out.endswith("&amp;…")
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_acknowledged_message_names_who_and_when_and_drops_the_ack_button() -> None:
    kwargs = RENDERER.acknowledged_message(acknowledged(make_record()))
    text = all_text(kwargs)
    assert "Acknowledged by <@U0LEAD1> at <!date^" in text
    assert "2026-11-24 10:03 UTC" in text  # the fallback for clients that cannot format dates
    assert [b["action_id"] for b in buttons(kwargs)] == ["escalation_reveal"]
    # Same content as the original message, so chat.update loses nothing.
    assert "Life in danger — CRITICAL" in text and "Phone: •••• ••• •123" in text
    assert kwargs["metadata"]["event_payload"] == {"escalation_id": "esc-1"}


def test_ack_thread_reply_and_already_acknowledged() -> None:
    esc = acknowledged(make_record())
    assert "Acknowledged by <@U0LEAD1>" in RENDERER.ack_thread_reply(esc)["text"]
    assert "Already acknowledged by <@U0LEAD1> at" in RENDERER.already_acknowledged_ephemeral(esc)["text"]


def test_renotify_thread_reply_mentions_each_lead_and_the_wait() -> None:
    esc = make_record()
    kwargs = RENDERER.renotify_thread_reply(esc, ["U0LEAD1", "U0LEAD2"], now=CREATED + timedelta(minutes=65))
    text = kwargs["text"]
    assert "<@U0LEAD1>" in text and "<@U0LEAD2>" in text
    assert "unacknowledged for 1 hour 5 minutes" in text


def test_renotify_dm_points_at_the_channel_without_the_excerpt() -> None:
    esc = make_record(slack_channel="C0SAFE", slack_ts="1.2")
    text = all_text(RENDERER.renotify_dm(esc, now=CREATED + timedelta(minutes=5)))
    assert "<#C0SAFE>" in text and "5 minutes" in text and "Life in danger — CRITICAL" in text
    assert "[NAME]" not in text and "•••" not in text


def test_reveal_ephemeral_shows_values_escaped_with_the_policy_reminder() -> None:
    kwargs = RENDERER.reveal_ephemeral(make_record(), {"name": "Sam <!channel>", "phone": "07700 900123"})
    assert_valid_shape(kwargs)
    text = all_text(kwargs)
    assert "Name:* Sam &lt;!channel&gt;" in text and "Phone:* 07700 900123" in text
    assert "try to tell the young person first" in text and "identifies or locates them" in text
    assert "07700" not in kwargs["text"]  # fallback text can reach notifications


def test_reveal_refused_says_only_leads_and_that_it_was_recorded() -> None:
    text = all_text(RENDERER.reveal_refused_ephemeral(make_record()))
    assert "Only safeguarding leads" in text and "recorded" in text


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("<>&!|@#*_~`\n abc•é😀"), max_size=4000),
    link=st.one_of(st.none(), st.text(max_size=300)),
)
def test_any_user_text_keeps_views_valid_and_uninjectable(text: str, link: str | None) -> None:
    esc = make_record(redacted_text=text, conversation_id=text[:300], platform=text[:50], link=link,
                      masked_identity={"name": text[:40]})
    for view in ALL_VIEWS.values():
        kwargs = view(esc)
        assert_valid_shape(kwargs)
        rendered = all_text(kwargs)
        for token in re.findall(r"<[^>]*>", rendered):
            assert OWN_TOKEN.fullmatch(token), token
