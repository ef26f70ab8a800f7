"""The policy engine's decisions: each signal family the rules use, severities, indicators with
spans in the original text, conversation context, follow-up turns and suggested actions.

Every message here is made up for this file (not taken from tests/corpus or the shared eval set).
"""
from __future__ import annotations

import tomllib

import pytest

from policy.engine import Conversation, Engine
from policy.rules import default_rules_path
from policy.types import Assessment, AuthorKind, Category, Channel, Severity

LIFE = Category.LIFE_IN_DANGER
OTHERS = Category.HARMING_OTHERS
STAFF = Category.THREAT_TO_STAFF
TRUST = Category.POSITION_OF_TRUST
TERROR = Category.TERRORISM

CONTRACT_KEYS = {
    "id", "escalate", "categories", "severity", "indicators", "redacted_text", "suppressed", "policy_version",
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.default()


def covered(text: str, a: Assessment, name: str, words: str) -> bool:
    """An indicator called `name` whose span of the ORIGINAL text contains `words` exactly."""
    return any(i.name == name and words in text[i.start:i.end] for i in a.indicators)


def spans_valid(text: str, a: Assessment) -> None:
    for i in a.indicators:
        assert 0 <= i.start < i.end <= len(text), (i, len(text))


# (family under test, message, category, severity, indicator name, words the indicator must cover)
FAMILY_CASES = [
    ("intent", "Honestly I'm going to kill myself on Saturday", LIFE, Severity.CRITICAL,
     "suicidal_intent", "going to kill myself"),
    ("self_kill", "killing myself tonight, can't do this", LIFE, Severity.CRITICAL,
     "self_harm_or_suicide_words", "killing myself"),
    ("resolve", "I've made my decision and the rope is ready", LIFE, Severity.CRITICAL,
     "resolve_to_act", "made my decision"),
    ("ideation", "I've been feeling really suicidal lately", LIFE, Severity.MEDIUM,
     "active_suicidal_thoughts", "suicidal"),
    ("wish", "I just want to die", LIFE, Severity.MEDIUM, "wish_to_die", "want to die"),
    ("hopeless", "Nobody would even notice if I was gone, I've got a rope under my bed", LIFE, Severity.HIGH,
     "hopelessness", "Nobody would even notice"),
    ("method", "I want to die and I've bought a rope", LIFE, Severity.HIGH, "means_ready", "bought a rope"),
    ("method_strong", "I've got sixty paracetamol saved in a sock", LIFE, Severity.HIGH,
     "lethal_means_ready", "sixty paracetamol"),
    ("method_mention", "I'm thinking of stepping in front of a train tonight", LIFE, Severity.HIGH,
     "method_named", "stepping in front of a train"),
    ("place", "I'm sitting on the pier by the sea and I don't want to be here anymore", LIFE,
     Severity.CRITICAL, "dangerous_place", "on the pier"),
    ("high_place", "I'm standing on the roof of the multi storey right now", LIFE, Severity.HIGH,
     "high_place", "on the roof"),
    ("soon", "I am going to kill myself tonight", LIFE, Severity.CRITICAL, "timing", "tonight"),
    ("plan", "I want to die and I have worked out how", LIFE, Severity.HIGH, "plan", "worked out how"),
    ("prep", "I wrote my goodbye letters and gave my cat to my cousin, it happens tonight", LIFE,
     Severity.CRITICAL, "preparation_or_goodbye", "goodbye letters"),
    ("ingested", "I took a load of my mum's pills and I feel really dizzy", LIFE, Severity.CRITICAL,
     "took_substance", "took a load of my mum's pills"),
    ("quantity", "I took a load of my mum's pills and I feel really dizzy", LIFE, Severity.CRITICAL,
     "large_amount", "a load of"),
    ("symptom", "I took a load of my mum's pills and I feel really dizzy", LIFE, Severity.CRITICAL,
     "physical_symptoms", "dizzy"),
    ("act", "I'm bleeding really badly from my wrist and it won't stop", LIFE, Severity.CRITICAL,
     "act_in_progress", "bleeding really badly"),
    ("other_intent", "My girlfriend keeps saying she's going to kill herself", LIFE, Severity.HIGH,
     "someone_else_suicidal", "kill herself"),
    ("unreachable", "My mate said he's going to end his life and now he's not answering his phone", LIFE,
     Severity.CRITICAL, "cannot_reach_them", "not answering"),
    ("threat_to_life", "My stepdad has a gun and he says he's going to kill us all tonight", LIFE,
     Severity.CRITICAL, "threat_to_someones_life", "going to kill us"),
    ("weapon", "My stepdad has a gun and he says he's going to kill us all tonight", LIFE, Severity.CRITICAL,
     "weapon", "has a gun"),
    ("violence_now", "My uncle is strangling my aunt right now", LIFE, Severity.CRITICAL,
     "violence_in_progress", "strangling my aunt"),
    ("assault", "My stepdad is beating my mum up with a bat right now", LIFE, Severity.CRITICAL,
     "assault_under_way", "beating my"),
    ("armed_approach", "There's a man outside our house with a machete", LIFE, Severity.CRITICAL,
     "armed_approach", "with a machete"),
    ("violent_intent", "I'm gonna kill that bully tomorrow, I've hidden a knife in my bag", OTHERS, Severity.HIGH,
     "intent_to_kill_someone", "kill that bully"),
    ("harm_by_writer", "I keep hitting my little brother when mum is at work", OTHERS, Severity.HIGH,
     "hurting_someone", "hitting my little brother"),
    ("harm_past", "I punched my little brother yesterday and now he's got a black eye", OTHERS, Severity.HIGH,
     "hurt_someone_recently", "punched my little brother"),
    ("harm_severity", "I punched my little brother yesterday and now he's got a black eye", OTHERS,
     Severity.HIGH, "injury_or_repeated", "black eye"),
    ("staff_target", "I'm going to burn down your office tomorrow", STAFF, Severity.CRITICAL,
     "staff_or_service_named", "your office"),
    ("threat", "I'm going to burn down your office tomorrow", STAFF, Severity.CRITICAL,
     "threat_of_violence", "burn down"),
    ("dox", "I know where your counsellor lives and I'm going to post her address online", STAFF, Severity.HIGH,
     "doxxing_or_exposure", "post her address"),
    ("service_attack", "I'm going to ddos your website tonight", STAFF, Severity.HIGH,
     "cyber_attack_on_service", "ddos your website"),
    ("trusted_role", "My football coach touches me when I'm alone with him", TRUST, Severity.HIGH,
     "position_of_trust_role", "coach"),
    ("trust_harm", "My football coach touches me when I'm alone with him", TRUST, Severity.HIGH,
     "abuse_by_trusted_adult", "touches"),
    ("attack", "We are planning to bomb the synagogue next week", TERROR, Severity.CRITICAL,
     "attack_planning", "bomb the synagogue"),
    ("attack_intent", "We are planning to bomb the synagogue next week", TERROR, Severity.CRITICAL,
     "terror_intent_or_planning", "planning"),
    ("ideology", "My brother keeps going on about the race war and he's bought a rifle", TERROR, Severity.HIGH,
     "extremist_ideology", "race war"),
    ("explosives", "I'm building a pipe bomb in my shed", TERROR, Severity.HIGH,
     "explosives_or_weapons_making", "pipe bomb"),
    ("joining", "Isis recruiters are messaging me on telegram and I want to join them", TERROR, Severity.HIGH,
     "joining_extremist_group", "join them"),
    ("attack_plan", "Target picked, the festival has no bag checks. Saturday is the day, for the movement.",
     TERROR, Severity.CRITICAL, "attack_planning", "has no bag checks"),
    ("medical", "my mate collapsed at the party and we can't wake him up, he took something", LIFE,
     Severity.CRITICAL, "medical_emergency", "collapsed"),
    ("emergency", "there is a fire in our flat and my little brother is still inside", LIFE, Severity.CRITICAL,
     "emergency", "still inside"),
    ("distress", "my stepdad is beating my mum right now and she is screaming", LIFE, Severity.CRITICAL,
     "distress_or_injury", "is screaming"),
    ("deliberate", "I took all my mum's tablets on purpose about an hour ago", LIFE, Severity.CRITICAL,
     "deliberate", "on purpose"),
    ("for_self", "I bought a rope for myself and I know where I will go", LIFE, Severity.HIGH,
     "means_for_self", "for myself"),
    ("urgent", "my friend collapsed and is not breathing, please call 999", LIFE, Severity.CRITICAL,
     "urgent_help", "999"),
    ("attack_part", "I drove the van for the lads who firebombed the temple in 2022. I have never told anyone.",
     TERROR, Severity.HIGH, "took_part_in_an_attack", "drove the van for the lads who firebombed"),
    ("self_harm_intent", "I'm going to cut myself really deep tonight", LIFE, Severity.CRITICAL,
     "self_harm_intent", "cut myself"),
]


@pytest.mark.parametrize(
    ("family", "text", "category", "severity", "name", "words"),
    FAMILY_CASES, ids=[c[0] for c in FAMILY_CASES],
)
def test_each_family_escalates_with_its_category(engine, family, text, category, severity, name, words):
    a = engine.assess(text)
    assert a.escalate
    assert category in a.categories
    assert a.severity is severity
    assert covered(text, a, name, words), [(i.name, text[i.start:i.end]) for i in a.indicators]
    spans_valid(text, a)


def test_every_family_a_rule_uses_has_a_case_here(engine):
    """A family added to the rules file without a case here fails, so each one is shown to work."""
    used = set()
    for rule in engine.rules.rules:
        used |= rule.all | rule.any
    assert used - {c[0] for c in FAMILY_CASES} == set()


def test_every_family_tested_here_is_still_used_by_a_rule(engine):
    """A renamed or retired family must not leave these cases silently testing nothing."""
    used = set()
    for rule in engine.rules.rules:
        used |= rule.all | rule.any
    assert {c[0] for c in FAMILY_CASES} <= used


def test_self_harm_intent_with_means_escalates(engine):
    text = "I'm going to cut myself really deep tonight"
    a = engine.assess(text)
    assert a.escalate and LIFE in a.categories
    assert covered(text, a, "self_harm_intent", "cut myself")


def test_choking_with_cannot_breathe_escalates(engine):
    a = engine.assess("He's choking my mum and she can't breathe")
    assert a.escalate and LIFE in a.categories and a.severity is Severity.CRITICAL


def test_violent_intent_also_means_life_in_danger(engine):
    a = engine.assess("I'm gonna kill that bully tomorrow, I've hidden a knife in my bag")
    assert set(a.categories) == {LIFE, OTHERS}


def test_categories_come_in_policy_order(engine):
    a = engine.assess("I'm gonna kill that bully tomorrow, I've hidden a knife in my bag")
    assert list(a.categories) == [c for c in Category if c in a.categories]


# -- severity

def test_act_in_progress_is_critical(engine):
    for text in ("I'm bleeding really badly from my wrist and it won't stop",
                 "I took a load of my mum's pills and I feel really dizzy",
                 "My uncle is strangling my aunt right now"):
        assert engine.assess(text).severity is Severity.CRITICAL, text


def test_bare_wish_to_die_is_medium(engine):
    a = engine.assess("I wish I was dead")
    assert a.escalate and a.categories == (LIFE,) and a.severity is Severity.MEDIUM


def test_quiet_message_has_no_category_no_severity_no_indicators(engine):
    a = engine.assess("Had a good day at college, we watched a film in history")
    assert not a.escalate
    assert a.categories == () and a.severity is None and a.indicators == ()
    assert a.suppressed is None and a.actions == ()


# -- offsets map back to the original text

@pytest.mark.parametrize(("text", "name", "words"), [
    ("k1lling mys3lf t0night", "self_harm_or_suicide_words", "k1lling mys3lf"),
    ("k1lling mys3lf t0night", "timing", "t0night"),
    ("I'm g0nna k1lllll myyyself tonite", "suicidal_intent", "k1lllll myyyself"),
    ("I'm g0nna k1lllll myyyself tonite", "timing", "tonite"),
    ("Hiya, I'm baaack and I want to diiiie", "wish_to_die", "want to diiiie"),
    ("I\u2019m going to end my life tomorrow", "suicidal_intent", "I\u2019m going to end my life"),
    ("\U0001f62d\U0001f62d I am GOING TO KILL MYSELF TONIGHT", "suicidal_intent", "GOING TO KILL MYSELF"),
])
def test_indicator_spans_point_at_the_original_words(engine, text, name, words):
    a = engine.assess(text)
    assert a.escalate
    spans_valid(text, a)
    assert covered(text, a, name, words), [(i.name, text[i.start:i.end]) for i in a.indicators]


def test_indicator_spans_are_valid_for_every_family_case(engine):
    for _family, text, *_ in FAMILY_CASES:
        a = engine.assess(text)
        assert a.indicators
        spans_valid(text, a)


# -- conversation context

def test_risk_building_across_turns_escalates_on_the_turn_it_becomes_clear(engine):
    # The rules alone (learned=False): the conversation is what makes the second turn a case.
    conv = Conversation()
    first = engine.assess("everyone would be better off without me", conversation=conv, learned=False)
    second = engine.assess("i've bought a rope", conversation=conv, learned=False)
    assert not first.escalate
    assert second.escalate and LIFE in second.categories
    assert covered("i've bought a rope", second, "means_ready", "bought a rope")
    # Alone, the second turn is not enough for the rules...
    assert not engine.assess("i've bought a rope", learned=False).escalate
    # ...but the learned second opinion flags it for staff to read, at medium, saying so.
    alone = engine.assess("i've bought a rope")
    assert alone.escalate and alone.severity is Severity.MEDIUM
    assert {i.name for i in alone.indicators} == {"learned_risk_language"}


def test_follow_up_turn_after_an_escalation_escalates(engine):
    conv = Conversation()
    assert engine.assess("I took a load of my mum's pills and I feel really dizzy", conversation=conv).escalate
    text = "I live at 14 Elm Road, please help"
    a = engine.assess(text, conversation=conv)
    assert a.escalate and LIFE in a.categories
    assert a.severity is not None
    spans_valid(text, a)
    # The same words with no escalated conversation behind them are quiet.
    assert not engine.assess(text).escalate
    assert not engine.assess(text, conversation=Conversation()).escalate


def test_quiet_turns_after_an_escalation_do_not_re_escalate(engine):
    conv = Conversation()
    assert engine.assess("I am going to kill myself tonight", conversation=conv).escalate
    for text in ("ok", "thanks for listening", "can we talk about something else"):
        assert not engine.assess(text, conversation=conv).escalate, text


def test_a_later_turn_saying_the_danger_is_over_does_not_re_escalate(engine):
    conv = Conversation()
    assert engine.assess("my dad held a knife to my mum's throat", conversation=conv).escalate
    # The same conversation, later: a look back from safety, then an ordinary "now".
    for text in ("that was years ago. he's in prison now and the police took the knife",
                 "my mum's fine now, she's remarried and actually happy"):
        a = engine.assess(text, conversation=conv)
        assert not a.escalate, (text, a.indicators)


def test_a_later_turn_adding_danger_still_escalates_after_a_quiet_one(engine):
    conv = Conversation()
    assert engine.assess("I took a load of my mum's pills and I feel really dizzy", conversation=conv).escalate
    assert not engine.assess("ok", conversation=conv).escalate
    a = engine.assess("still here. took the rest of them", conversation=conv)
    assert a.escalate and LIFE in a.categories


def test_a_turn_taking_the_disclosure_back_ends_the_escalation(engine):
    conv = Conversation()
    assert engine.assess("i'll stab the next mod who deletes my post", conversation=conv).escalate
    assert not engine.assess("obviously im not stabbing anyone, im just raging my art got taken down",
                             conversation=conv).escalate
    # Read afresh: the mod and "tomorrow" no longer join the threat taken back two turns ago.
    assert not engine.assess("ok a mod messaged me, they said its fine if i tag it and they'll put it back "
                             "tomorrow", conversation=conv).escalate
    assert conv.active == {}


def test_a_retraction_with_a_present_act_does_not_end_it(engine):
    conv = Conversation()
    assert engine.assess("I took a load of my mum's pills and I feel really dizzy", conversation=conv).escalate
    a = engine.assess("i was only joking about the pills but i've taken the rest now and im bleeding",
                      conversation=conv)
    assert a.escalate and LIFE in a.categories


def test_a_later_turn_with_a_childs_age_adds_to_the_disclosure(engine):
    conv = Conversation()
    assert engine.assess("my mate showed me a zombie knife and says he is gonna stab the lad who jumped him "
                         "tomorrow after school", conversation=conv).escalate
    assert engine.assess("he's 15. he asked me to come and be lookout", conversation=conv).escalate
    assert not engine.assess("ok", conversation=conv).escalate


def test_plain_crisis_details_after_an_escalation_count(engine):
    conv = Conversation()
    assert engine.assess("I've taken all my mum's sleeping tablets, about an hour ago", conversation=conv).escalate
    for text in ("flat 6 marlowe house", "feel very heavy now, typing is hard", "please dont call an ambulance"):
        assert engine.assess(text, conversation=conv).escalate, text
    # The same details with no escalation behind them are quiet.
    assert not engine.assess("flat 6 marlowe house", conversation=Conversation()).escalate


def test_context_is_per_conversation_object(engine):
    one, two = Conversation(), Conversation()
    engine.assess("everyone would be better off without me", conversation=one, learned=False)
    assert not engine.assess("i've bought a rope", conversation=two, learned=False).escalate
    assert engine.assess("i've bought a rope", conversation=one, learned=False).escalate


def test_escalated_conversation_does_not_leak_follow_up_to_another(engine):
    one, two = Conversation(), Conversation()
    assert engine.assess("I am going to kill myself tonight", conversation=one).escalate
    assert not engine.assess("I live at 14 Elm Road, please help", conversation=two).escalate


def test_staff_message_never_enters_context(engine):
    conv = Conversation()
    engine.assess("everyone would be better off without me", conversation=conv)
    before = len(conv.turns)
    engine.assess("Have you got anything you could hurt yourself with, like a rope?",
                  author=AuthorKind.STAFF, conversation=conv)
    assert len(conv.turns) == before


# -- version, actions, contract

def test_policy_version_is_the_rules_file_version(engine):
    data = tomllib.loads(default_rules_path().read_text(encoding="utf-8"))
    assert engine.assess("hello").policy_version == data["version"]
    assert engine.assess("I am going to kill myself tonight").policy_version == data["version"]


@pytest.mark.parametrize(("text", "category", "needle"), [
    ("I am going to kill myself tonight", LIFE, "999"),
    ("My football coach touches me when I'm alone with him", TRUST, "LADO"),
    ("We are planning to bomb the synagogue next week", TERROR, "Counter Terrorism Policing"),
    ("I keep hitting my little brother when mum is at work", OTHERS, "safeguarding lead"),
    ("I'm going to burn down your office tomorrow", STAFF, "duty manager"),
])
def test_suggested_actions_for_each_category(engine, text, category, needle):
    a = engine.assess(text)
    assert category in a.categories
    assert any(needle in action.text for action in a.actions), [x.text for x in a.actions]
    expected = {x.id for x in engine.rules.categories[category].actions}
    assert expected <= {x.id for x in a.actions}


def test_actions_are_not_repeated_across_categories(engine):
    a = engine.assess("I'm gonna kill that bully tomorrow, I've hidden a knife in my bag")
    ids = [x.id for x in a.actions]
    assert len(ids) == len(set(ids))


def test_to_contract_has_exactly_the_contract_keys(engine):
    text = "I am going to kill myself tonight, ring me on 07700 900123"
    out = engine.assess(text).to_contract("m-1")
    assert set(out) == CONTRACT_KEYS
    assert out["id"] == "m-1" and out["escalate"] is True
    assert out["categories"] == ["life_in_danger"] and out["severity"] == "critical"
    assert all(set(i) == {"name", "start", "end"} for i in out["indicators"])
    assert "07700 900123" not in out["redacted_text"] and "[PHONE]" in out["redacted_text"]
    quiet = engine.assess("see you tomorrow").to_contract("m-2")
    assert set(quiet) == CONTRACT_KEYS and quiet["severity"] is None and quiet["categories"] == []


def test_chatbot_channel_is_never_assessed(engine):
    a = engine.assess("I am going to kill myself tonight", channel=Channel.CHATBOT)
    assert not a.escalate and a.suppressed is not None


@pytest.mark.parametrize(
    "turns",
    [
        # risk that builds: the plan comes first, the means later
        ["things have been bad at home", "i've decided, friday after school", "got the rope from the shed"],
        # a follow-up after an escalation: where she is
        ["my friend says she's taken all her pills", "she lives on the estate by the park"],
        # quiet throughout
        ["had a rubbish day", "maths was hard", "see you tomorrow"],
    ],
)
def test_context_rebuilt_from_stored_outcomes_decides_like_live_context(engine, turns):
    """The service rebuilds context from stored (text, categories) instead of re-assessing history;
    the next message must be decided exactly as with live context."""
    *history, last = turns
    live = Conversation()
    stored = []
    for text in history:
        a = engine.assess(text, conversation=live)
        stored.append((a.redacted_text, [c.value for c in a.categories]))
    expected = engine.assess(last, conversation=live)
    rebuilt = engine.assess(last, conversation=engine.conversation_from(stored))
    assert (rebuilt.escalate, rebuilt.categories, rebuilt.severity) == (
        expected.escalate, expected.categories, expected.severity)
