"""The rules file: the shipped one is valid, and every kind of mistake is reported with its place,
by `check_rules`, by `safeguard policy check` and by `safeguard assess --rules`."""
from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from policy.rules import RulesError, check_rules, default_rules_path, load_rules, parse_rules

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped() -> dict:
    return tomllib.loads(default_rules_path().read_text(encoding="utf-8"))


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True, cwd=ROOT,
        timeout=60,
    )


def test_shipped_rules_file_is_valid(shipped):
    assert check_rules(shipped) == []
    rules = load_rules()
    assert rules.version == shipped["version"]
    assert len(rules.rules) == len(shipped["rules"])
    assert len(rules.signals) == len(shipped["signals"])


def _rule_index(data: dict, family: str) -> int:
    return next(i for i, r in enumerate(data["rules"]) if family in r["all"])


def _missing_version(d):
    del d["version"]
    return "version"


def _unknown_category(d):
    d["rules"][0]["category"] = "bad_vibes"
    return "rules[0]"


def _bad_severity(d):
    d["rules"][1]["severity"] = "urgent"
    return "rules[1]"


def _unknown_family(d):
    d["rules"][2]["all"] = ["intent", "moonphase"]
    return "moonphase"


def _unknown_guard(d):
    d["signals"][0]["guards"] = [*d["signals"][0]["guards"], "sarcasm"]
    return "sarcasm"


def _invalid_regex(d):
    d["signals"][1]["pattern"] = "(?:unclosed"
    return f"signals[1] ({d['signals'][1]['name']})"


def _unknown_lexicon(d):
    d["signals"][2]["pattern"] = "{no_such_entry} now"
    return "no_such_entry"


def _empty_match(d):
    d["signals"][3]["pattern"] = "(?:maybe)?"
    return f"signals[3] ({d['signals'][3]['name']})"


def _missing_why(d):
    del d["rules"][3]["why"]
    return "rules[3]"


def _missing_actions(d):
    d["categories"]["terrorism"]["actions"] = []
    return "categories.terrorism.actions"


def _bad_follow_up_turns(d):
    d["follow_up"]["turns"] = 0
    return "follow_up.turns"


def _bad_follow_up_family(d):
    d["follow_up"]["families"] = [*d["follow_up"]["families"], "gossip"]
    return "gossip"


def _bad_follow_up_veto(d):
    d["follow_up"]["vetoes"] = ["resolved", "good_vibes"]
    return "follow_up.vetoes"


def _bad_follow_up_retraction(d):
    d["follow_up"]["retractions"] = ["changed_my_mind"]
    return "follow_up.retractions"


def _unknown_category_table(d):
    d["categories"]["bad_vibes"] = copy.deepcopy(d["categories"]["terrorism"])
    return "categories.bad_vibes"


def _missing_category_table(d):
    del d["categories"]["position_of_trust"]
    return "categories.position_of_trust"


MISTAKES = {
    "missing version": (_missing_version, "missing"),
    "unknown category": (_unknown_category, "category"),
    "bad severity": (_bad_severity, "severity"),
    "unknown family": (_unknown_family, "family"),
    "unknown guard": (_unknown_guard, "unknown guard"),
    "invalid regex": (_invalid_regex, "regular expression"),
    "unknown lexicon entry": (_unknown_lexicon, "lexicon"),
    "pattern matching empty text": (_empty_match, "empty text"),
    "missing why": (_missing_why, "why"),
    "missing category actions": (_missing_actions, "action"),
    "bad follow_up turns": (_bad_follow_up_turns, "turns"),
    "bad follow_up family": (_bad_follow_up_family, "follow_up.families"),
    "unknown follow_up veto": (_bad_follow_up_veto, "unknown guard 'good_vibes'"),
    "unknown follow_up retraction": (_bad_follow_up_retraction, "unknown guard 'changed_my_mind'"),
    "category that is not a policy trigger": (_unknown_category_table, "not a policy category"),
    "policy category missing": (_missing_category_table, "missing"),
}


@pytest.mark.parametrize("kind", list(MISTAKES))
def test_each_mistake_is_reported_with_its_place(shipped, kind):
    break_it, words = MISTAKES[kind]
    data = copy.deepcopy(shipped)
    place = break_it(data)
    problems = check_rules(data)
    assert problems, kind
    assert any(place in p and words in p for p in problems), problems
    with pytest.raises(RulesError) as exc:
        parse_rules(data)
    assert exc.value.problems == problems


def test_several_mistakes_are_all_reported(shipped):
    data = copy.deepcopy(shipped)
    _missing_version(data)
    _bad_severity(data)
    _unknown_guard(data)
    problems = check_rules(data)
    assert len(problems) == 3, problems


def test_shipped_file_is_not_changed_by_checking(shipped):
    before = copy.deepcopy(shipped)
    check_rules(shipped)
    assert shipped == before


# -- command line

def test_policy_check_on_the_shipped_file(shipped):
    result = _cli("policy", "check")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert shipped["version"] in result.stdout
    assert result.stderr == ""


def _broken_file(tmp_path: Path) -> Path:
    text = default_rules_path().read_text(encoding="utf-8")
    text = text.replace('severity = "medium"', 'severity = "mild"', 1)
    text = text.replace('version = "', 'version_was = "', 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_policy_check_on_a_broken_file_lists_one_line_per_problem(tmp_path):
    path = _broken_file(tmp_path)
    result = _cli("policy", "check", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    problems = [line for line in lines if line.startswith("broken.toml: ")]
    assert len(problems) == 2, lines
    assert any("version" in line for line in problems)
    assert any("severity" in line and "rules[" in line for line in problems)
    assert "OK" not in result.stdout


def test_policy_check_on_invalid_toml(tmp_path):
    path = tmp_path / "garbled.toml"
    path.write_text('version = "1"\n[[rules]\ncategory = \n', encoding="utf-8")
    result = _cli("policy", "check", str(path))
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr
    assert "garbled.toml" in result.stderr


def test_policy_check_refuses_a_model_that_is_not_the_pinned_one(tmp_path):
    shutil.copy(default_rules_path(), tmp_path / "rules.toml")
    model = json.loads((default_rules_path().parent / "learned_model.json").read_text(encoding="utf-8"))
    model["version"] = "lr-unreviewed"
    (tmp_path / "learned_model.json").write_text(json.dumps(model), encoding="utf-8")
    result = _cli("policy", "check", str(tmp_path / "rules.toml"))
    assert result.returncode == 1
    assert "model_version" in result.stderr and "lr-unreviewed" in result.stderr
    assert "OK" not in result.stdout


def test_policy_check_on_a_missing_file(tmp_path):
    result = _cli("policy", "check", str(tmp_path / "nowhere.toml"))
    assert result.returncode == 1
    assert "cannot be read" in result.stderr


def test_assess_refuses_a_broken_rules_file(tmp_path):
    path = _broken_file(tmp_path)
    result = _cli("assess", "--rules", str(path), stdin='{"id": "1", "text": "hello"}\n')
    assert result.returncode == 2
    assert result.stdout == ""
    assert "rules file unusable" in result.stderr
    assert "version" in result.stderr


def test_assess_uses_a_given_valid_rules_file(tmp_path):
    text = default_rules_path().read_text(encoding="utf-8")
    path = tmp_path / "copy.toml"
    path.write_text(text.replace('version = "', 'version = "test-', 1), encoding="utf-8")
    # The rules name their learned model file, which must sit beside them.
    missing = _cli("assess", "--rules", str(path), stdin='{"id": "1", "text": "hello"}\n')
    assert missing.returncode == 2 and "learned_model.json not found" in missing.stderr
    (tmp_path / "learned_model.json").write_bytes((default_rules_path().parent / "learned_model.json").read_bytes())
    result = _cli("assess", "--rules", str(path), stdin='{"id": "1", "text": "hello"}\n')
    assert result.returncode == 0, result.stderr
    assert '"policy_version": "test-' in result.stdout
