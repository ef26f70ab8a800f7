"""The learned second opinion: where it speaks, where it must stay silent, and its file."""
from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from policy.engine import Engine
from policy.learned import LearnedModel, feature_span, features, vector
from policy.normalise import normalise
from policy.rules import check_rules, default_rules_path
from policy.types import AuthorKind, Channel, Severity

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.default()


@pytest.fixture(scope="module")
def model(engine: Engine) -> LearnedModel:
    assert engine.rules.learned is not None
    return engine.rules.learned.model


def test_features_are_words_and_word_pairs():
    assert features("i took them all") == {
        "i": 1, "took": 1, "them": 1, "all": 1, "i took": 1, "took them": 1, "them all": 1}
    x = vector(features("pills pills tonight"), {"pills": 2.0, "tonight": 1.5})
    assert abs(sum(v * v for v in x.values()) - 1.0) < 1e-9  # unit length
    assert x["pills"] > x["tonight"]  # counted twice and rarer


def test_feature_span_points_at_the_words():
    text = "ok so. got the rope, tonight"
    start, end = feature_span(text, "the rope")
    assert text[start:end] == "the rope"


def test_it_catches_what_the_rules_do_not_name_and_says_so(engine):
    text = "bought a rope off the internet, it came today"
    assert not engine.assess(text, learned=False).escalate
    a = engine.assess(text)
    assert a.escalate and a.severity in (Severity.MEDIUM, Severity.HIGH)
    learned = [i for i in a.indicators if i.name == "learned_risk_language"]
    assert learned and all(0 <= i.start < i.end <= len(text) for i in learned)


@pytest.mark.parametrize("text", [
    "Imagine if I jump off the bridge tonight",       # hypothetical: a guard dropped the rules' match
    "I'm going to jump off the bridge lol jk",        # laughter
    "We took the tablets for my hayfever today",      # ordinary medicine
])
def test_a_guard_that_ruled_a_match_harmless_is_not_overruled(engine, model, text):
    from policy.engine import _Turn

    # A guard dropped a risk match here, which on its own stops the model from escalating...
    assert engine._rules_ruled_out(_Turn(normalise(text)))
    # ...so the message stays quiet whatever the model's score.
    assert not engine.assess(text).escalate


def test_ordinary_words_alone_cannot_escalate(engine):
    # No risk word at all: the model is not asked, whatever it would say.
    for text in ("it is ready now", "the date is set", "can't wait for saturday"):
        assert not engine.assess(text).escalate


def test_recovery_stories_and_fiction_veto_the_model(engine):
    story = "Chapter 4. She counted the pills twice, then put them back in the cabinet and rang her sister."
    recovery = "Two years ago I stockpiled pills. I'm in a much better place now and I wanted to share that."
    assert not engine.assess(story).escalate
    assert not engine.assess(recovery).escalate


def test_never_for_chatbot_or_bot_messages(engine):
    text = "bought a rope off the internet, it came today"
    assert not engine.assess(text, channel=Channel.CHATBOT).escalate
    assert not engine.assess(text, author=AuthorKind.BOT).escalate


def test_the_rules_pin_the_model_version(tmp_path):
    rules = default_rules_path().read_text(encoding="utf-8")
    (tmp_path / "rules.toml").write_text(rules.replace('model_version = "', 'model_version = "other-', 1))
    (tmp_path / "learned_model.json").write_bytes((default_rules_path().parent / "learned_model.json").read_bytes())
    result = subprocess.run([sys.executable, "-m", "bot.cli", "assess", "--rules", str(tmp_path / "rules.toml")],
                            input='{"id":"1","text":"hi"}\n', capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "model_version" in result.stderr


@pytest.mark.parametrize("key,value,problem", [
    ("threshold", 1.5, "learned.threshold"),
    ("severity", "urgent", "learned.severity"),
    ("support", ["no_such_family"], "learned.support"),
    ("vetoes", ["no_such_guard"], "learned.vetoes"),
    ("model_version", "", "learned.model_version"),
])
def test_check_rules_names_learned_mistakes(key, value, problem):
    data = tomllib.loads(default_rules_path().read_text(encoding="utf-8"))
    broken = copy.deepcopy(data)
    broken["learned"][key] = value
    assert any(p.startswith(problem) for p in check_rules(broken)), check_rules(broken)


def test_shipped_model_is_the_trained_one():
    """tools/train_learned.py is deterministic: retraining on the same corpora gives the same version."""
    sys.path.insert(0, str(ROOT / "tools"))
    import train_learned

    sets = {p.stem: train_learned.load(p) for p in sorted(train_learned.CORPORA.glob("*.jsonl"))}
    rows = [r for rows in sets.values() for r in rows]
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(train_learned.fit(rows), sort_keys=True).encode()).hexdigest()[:12]
    shipped = json.loads((ROOT / "policy" / "learned_model.json").read_text(encoding="utf-8"))["version"]
    assert shipped == f"lr-{digest}"
