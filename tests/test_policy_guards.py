"""Guards keep ordinary talk quiet, and only that: each quiet message is paired with a present-tense
version of the same disclosure that must still escalate, so a guard cannot silently swallow everything.

Every message here is made up for this file.
"""
from __future__ import annotations

import pytest

from policy.engine import Engine
from policy.types import Category

LIFE = Category.LIFE_IN_DANGER


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.default()


RECOVERY_POST = (
    "Three years ago I took an overdose and nearly died. It took a long time, but I got help, did "
    "therapy, and I'm in a much better place now. If you're struggling please reach out to someone, "
    "it really does get better."
)
PRESENT_POST = (
    "An hour ago I swallowed a whole packet of paracetamol and I can't stay awake. "
    "Please don't send anyone."
)

# (guard, quiet message, paired message that must escalate, category of the paired message)
PAIRS = [
    ("negation", "I would never kill myself, don't worry about me",
     "I am going to kill myself tonight", LIFE),
    ("negation_intent", "I'm not going to kill myself tonight, I promise",
     "I'm going to kill myself tonight, I promise", LIFE),
    ("figurative_family", "my mum will kill me if I'm late home again",
     "my dad says he will kill my mum, he has a knife", LIFE),
    ("figurative_embarrassed", "I'm so embarrassed I could literally die",
     "I wish I was dead, honestly, everything hurts", LIFE),
    ("past", "I used to want to die", "I want to die", LIFE),
    ("past_goodbye", "Last year I wrote a goodbye letter but I never gave it to anyone",
     "I wrote a goodbye letter to my mum last night and left it on my bed", LIFE),
    ("resolved", RECOVERY_POST, PRESENT_POST, LIFE),
    ("fiction_film", "In the film the main character wants to kill himself", "I want to kill myself", LIFE),
    ("fiction_story", "my story: chapter 3. Jade stood on the bridge and decided to jump tonight",
     "I'm standing on the bridge and I've decided to jump tonight", LIFE),
    ("fiction_poem", "I'm writing a poem where the narrator takes all her pills tonight",
     "I've taken all my pills tonight", LIFE),
    ("question", "What should I do if a friend says they want to kill themselves?",
     "My friend says she wants to kill herself tonight", LIFE),
    ("question_general", "Is it normal to want to die sometimes?", "I just want to die", LIFE),
    ("hypothetical", "Imagine if I jump off the bridge tonight",
     "I'm going to jump off the bridge tonight", LIFE),
    ("hypothetical_if", "If I ever wanted to kill myself I would tell you first",
     "I want to kill myself and I've got the pills in my drawer", LIFE),
    ("laughter", "I'm going to jump off the bridge lol jk", "I'm going to jump off the bridge tonight", LIFE),
    ("tech", "how do I kill a python process that won't stop", "I'm going to kill myself tonight", LIFE),
    ("tech_intent", "I'm going to kill this python process tonight", "I'm going to kill myself tonight", LIFE),
    ("quote", 'She shouted "I want to die" when she saw her exam results', "I want to die tonight", LIFE),
    ("third_person", "He is ready to die for his football club",
     "I'm ready to die, I've written my goodbye letter", LIFE),
    ("looking_back_anniversary",
     "Two years ago today I took an overdose. I'm 21 now, working, and honestly it does get better.",
     "Two years ago I took an overdose and tonight I've taken another one, the whole box", LIFE),
    ("looking_back_conviction",
     "When I was 13 my coach groomed me. He was convicted and he's on the register now.",
     "My coach grooms me, he says it's our secret and he has been sending me messages every night",
     Category.POSITION_OF_TRUST),
    ("notes_are_not_homework", "I'm writing revision notes on Macbeth's suicide for my exam",
     "I've written notes for my family and I'm going to take my life tonight", LIFE),
    ("game_remake", "Any tips for the knife fight in the RE4 remake? I keep getting stabbed in the QTEs",
     "my dad is stabbing my mum right now, she is bleeding", LIFE),
    ("flash_fiction", "Flash fiction: she sat on the ledge of the roof at dawn, the rope in her hand",
     "I'm sitting on the ledge of the roof right now with a rope", LIFE),
    ("ctb_literal", "cant wait to ctb home after this shift my feet are dead",
     "gonna ctb tonight, ive got the pills lined up", LIFE),
    ("exam_hyperbole", "maths exam tomorrow and i'm actually going to die",
     "I'm going to die tonight, I've got the pills ready", LIFE),
    ("looking_back_months",
     "I used to think about jumping off the multistorey. It's been four months and I barely think about it now.",
     "I'm going to jump off the multistorey tonight", LIFE),
    ("writer_is_the_victim", "my ex put a tracker on my car and turns up at my work",
     "I put an airtag in my ex's bag so I can turn up wherever she is", Category.HARMING_OTHERS),
    ("worship_history", "In RE we learned about the attack on the mosque in Christchurch",
     "the mosque on the ring road is going up in flames this friday. white power", Category.TERRORISM),
    ("botnet_story", "Writing a story for English about a hacker who uses a botnet on a charity",
     "got a botnet ready and im taking your whole site down friday night", Category.THREAT_TO_STAFF),
    ("news_trial", "Comment on the verdict in the terror trial: he planned the attack on the concert for months",
     "We are planning an attack on the concert next week, the devices are ready", Category.TERRORISM),
    ("dose_question", "What's the safe maximum of paracetamol in 24 hours? I've taken two for my migraine",
     "I've taken the whole box of paracetamol just now and I feel sick", LIFE),
    ("git_hyperbole", "git rebase ate three weeks of coursework. honestly I want to die",
     "I want to die, the rope is ready for tonight", LIFE),
    ("no_plan", "i've been feeling a bit suicidal on and off but i don't have a plan or anything and i've told my mum",
     "i've been feeling suicidal and i've got the tablets ready for tonight", LIFE),
    ("this_time_last_year",
     "this time last year i had a plan and wrote notes to everyone. this year i'm doing my A levels",
     "i have a plan and i've written notes to everyone, it's tonight", LIFE),
    ("bath_bomb", "I bought a bath bomb for my sister's birthday", "I'm building a pipe bomb in my shed",
     Category.TERRORISM),
]


@pytest.mark.parametrize(("guard", "quiet", "loud", "category"), PAIRS, ids=[p[0] for p in PAIRS])
def test_guard_keeps_quiet_but_not_the_present_disclosure(engine, guard, quiet, loud, category):
    q = engine.assess(quiet)
    assert not q.escalate, (guard, [(i.name, quiet[i.start:i.end]) for i in q.indicators])
    assert q.categories == () and q.severity is None and q.indicators == ()
    a = engine.assess(loud)
    assert a.escalate, guard
    assert category in a.categories


@pytest.mark.parametrize("text", [
    "lol no I'm not joking, I'm going to kill myself tonight",
    "I got help last year and felt better but tonight I'm going to kill myself",
    "I used to self harm but now I'm going to end my life tonight",
    "I wanted to share my story. Things got bad again and tonight I'm going to take all my tablets",
    "a story i'm writing but it's kind of real. she has a plan to take all her mum's pills on friday. i'm the girl",
    # "use to" is the past only as a misspelt "used to", not inside "she'll use to"
    "my friend says she's going to jump off the school roof at lunch tomorrow and told me which stairwell "
    "she'll use to get up",
])
def test_a_guard_does_not_reach_past_its_clause_or_its_exceptions(engine, text):
    a = engine.assess(text)
    assert a.escalate and LIFE in a.categories, text


def test_watch_her_back_when_is_a_threat_not_the_past(engine):
    a = engine.assess("tell the volunteer called priya she should watch her back when she walks to the tube")
    assert a.escalate and Category.THREAT_TO_STAFF in a.categories


def test_explain_names_the_guard_that_dropped_a_match(engine):
    rows = engine.explain("I would never kill myself")
    assert rows
    assert any(guard == "negation" for _family, _name, _words, guard in rows), rows
    rows = engine.explain("I am going to kill myself tonight")
    assert any(guard is None and family == "intent" for family, _name, _words, guard in rows), rows


def test_ordinary_medicine_is_quiet(engine):
    assert not engine.assess("We took the tablets for my hayfever today").escalate
