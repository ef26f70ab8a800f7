"""The chatbot rule (policy footnote): nothing said on the AI chatbot, and nothing written by a bot,
is ever assessed, escalated or remembered as conversation context."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.engine import Conversation, Engine
from policy.types import AuthorKind, Channel, Suppression

ENGINE = Engine.default()

# Written for this file: the most alarming things a message could say, one per policy trigger.
ALARMING = [
    "I am going to kill myself tonight, the rope is tied",
    "I took forty paracetamol an hour ago and I can't stay awake",
    "My dad has a knife to my mum's throat right now",
    "I'm going to stab my stepdad tomorrow, I've hidden a knife",
    "I'm going to burn down your office tomorrow with petrol",
    "My swimming coach touches me and says I mustn't tell anyone",
    "We are planning to bomb the cathedral next Sunday, the device is ready",
    "I keep hitting my baby sister when nobody is home",
]
EMOJI = ["", "\U0001f62d", "\U0001f52a", "\U0001f494", "\u2764\ufe0f", "\U0001f64f"]


def _recase(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flips[i % len(flips)] else c.lower() for i, c in enumerate(text))


@st.composite
def alarming_text(draw) -> str:
    text = _recase(draw(st.sampled_from(ALARMING)), draw(st.lists(st.booleans(), min_size=1, max_size=8)))
    pad = st.text(alphabet=" \t\n.!?", max_size=4)
    return draw(pad) + draw(st.sampled_from(EMOJI)) + text + draw(st.sampled_from(EMOJI)) + draw(pad)


ANY_TEXT = st.one_of(st.text(max_size=200), alarming_text())


def _assert_suppressed(a, reason: Suppression) -> None:
    assert a.escalate is False
    assert a.suppressed is reason
    assert a.categories == ()
    assert a.indicators == ()
    assert a.severity is None
    assert a.actions == ()
    assert a.policy_version == ENGINE.version


def test_the_alarming_list_escalates_outside_the_chatbot():
    # Otherwise the properties below would prove nothing.
    for text in ALARMING:
        assert ENGINE.assess(text).escalate, text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, author=st.sampled_from(list(AuthorKind)))
def test_chatbot_channel_never_escalates(text, author):
    _assert_suppressed(ENGINE.assess(text, channel=Channel.CHATBOT, author=author), Suppression.CHATBOT)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, channel=st.sampled_from([c for c in Channel if c is not Channel.CHATBOT]))
def test_bot_author_never_escalates(text, channel):
    _assert_suppressed(ENGINE.assess(text, channel=channel, author=AuthorKind.BOT), Suppression.BOT_AUTHOR)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.sampled_from(["everyone would be better off without me", "I've been so low this week", "hi"]),
    bot_text=ANY_TEXT,
    channel=st.sampled_from(list(Channel)),
    author=st.sampled_from(list(AuthorKind)),
    after=st.sampled_from(["i've bought a rope", "I live at 3 Mill Lane, please help", "ok thanks"]),
)
def test_a_suppressed_turn_never_changes_the_conversation(before, bot_text, channel, author, after):
    if channel is not Channel.CHATBOT and author is not AuthorKind.BOT:
        author = AuthorKind.BOT
    with_bot, without_bot = Conversation(), Conversation()
    ENGINE.assess(before, conversation=with_bot)
    ENGINE.assess(before, conversation=without_bot)
    turns, active = len(with_bot.turns), dict(with_bot.active)

    ENGINE.assess(bot_text, channel=channel, author=author, conversation=with_bot)
    assert len(with_bot.turns) == turns
    assert with_bot.active == active

    later = ENGINE.assess(after, conversation=with_bot)
    expected = ENGINE.assess(after, conversation=without_bot)
    assert later.escalate == expected.escalate
    assert later.categories == expected.categories
    assert later.severity == expected.severity
    assert later.indicators == expected.indicators


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(text=alarming_text())
def test_a_chatbot_disclosure_starts_no_follow_up(text):
    conv = Conversation()
    ENGINE.assess(text, channel=Channel.CHATBOT, conversation=conv)
    assert not conv.turns and not conv.active
    assert not ENGINE.assess("I live at 3 Mill Lane, please help", conversation=conv).escalate


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, channel=st.sampled_from([c for c in Channel if c is not Channel.CHATBOT]))
def test_a_staff_message_never_enters_context(text, channel):
    conv = Conversation()
    ENGINE.assess("everyone would be better off without me", conversation=conv)
    turns, active = len(conv.turns), dict(conv.active)
    ENGINE.assess(text, channel=channel, author=AuthorKind.STAFF, conversation=conv)
    assert len(conv.turns) == turns
    assert conv.active == active
