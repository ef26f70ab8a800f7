"""Load, check and compile the rules file (policy/rules.toml).

`check_rules` returns every mistake with its place so a safeguarding lead editing the file gets
one clear line per problem; `load_rules` refuses a file with any mistake.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from policy.learned import LearnedModel
from policy.regex_trie import optimise
from policy.types import Category, Severity, SuggestedAction

GUARD_SCOPES = ("before", "after", "clause", "message")
RULE_SCOPES = ("sentence", "message", "conversation")
_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# A doubled letter also matches a single one, because normalisation folds "killlll" to "kil".
# Not f or o: "off" and "too" must not match "of" and "to".
_DOUBLE = re.compile(r"(?<!\\)([a-eg-np-z])\1(?![?*+{])")


class RulesError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Guard:
    name: str
    scope: str
    pattern: re.Pattern[str]
    window: int
    unless: re.Pattern[str] | None


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    family: str
    pattern: re.Pattern[str]
    guards: tuple[Guard, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    severity: Severity
    all: frozenset[str]
    any: frozenset[str]
    scope: str
    why: str


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A later turn adding to an escalated disclosure escalates again (see rules.toml)."""

    families: frozenset[str]
    turns: int
    severity: Severity
    why: str
    # Guards that, holding anywhere in the later turn, stop it counting (it says the danger is over).
    vetoes: tuple[Guard, ...] = ()
    # Guards for a turn that takes the disclosure back as a joke, a quote, a game: it does not count,
    # and the conversation is no longer treated as escalated.
    retractions: tuple[Guard, ...] = ()


@dataclass(frozen=True, slots=True)
class Learned:
    """The learned second opinion (policy/learned.py) and when its view counts."""

    model: LearnedModel
    threshold: float
    severity: Severity
    strong_threshold: float
    strong_severity: Severity
    vetoes: tuple[Guard, ...]
    support: tuple[str, ...]
    not_a_judgement: frozenset[str]
    indicator: str
    why: str


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    title: str
    description: str
    actions: tuple[SuggestedAction, ...]


@dataclass(frozen=True, slots=True)
class Rules:
    version: str
    categories: dict[Category, CategoryInfo]
    signals: tuple[Signal, ...]
    rules: tuple[Rule, ...]
    families: frozenset[str]
    follow_up: FollowUp | None = None
    learned: Learned | None = None


def default_rules_path() -> Path:
    return Path(str(resources.files("policy").joinpath("rules.toml")))


def expand(pattern: str, lexicon: dict[str, str], *, _depth: int = 0) -> str:
    if _depth > 8:
        raise KeyError("lexicon entries refer to each other in a loop")

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in lexicon:
            raise KeyError(key)
        return "(?:" + expand(lexicon[key], lexicon, _depth=_depth + 1) + ")"

    return _REF.sub(sub, pattern)


def compile_pattern(source: str, lexicon: dict[str, str], *, whole_words: bool = True) -> re.Pattern[str]:
    text = _DOUBLE.sub(r"\1\1?", optimise(expand(source, lexicon)))
    if whole_words:
        # Not inside a word, nor straight after a contraction ("i'll" is not "ll"); an opening
        # quote is fine: "'see you on the other side'".
        text = r"(?<![a-z0-9])(?<![a-z0-9]')(?:" + text + r")(?![a-z0-9])"
    return re.compile(text)


def check_rules(data: dict[str, Any]) -> list[str]:
    """Every mistake in a parsed rules file, each naming its place. Empty when the file is good."""
    problems: list[str] = []
    if not isinstance(data.get("version"), str) or not data.get("version"):
        problems.append("version: missing (a non-empty string, changed on every edit)")
    lexicon = data.get("lexicon", {})
    if not isinstance(lexicon, dict) or not all(isinstance(v, str) for v in lexicon.values()):
        problems.append("lexicon: must be a table of name = 'pattern'")
        lexicon = {}
    for key, value in lexicon.items():
        problems += _pattern_problems(f"lexicon.{key}", value, lexicon, whole_words=False)

    categories = data.get("categories", {})
    for cat in Category:
        info = categories.get(cat.value)
        if not isinstance(info, dict):
            problems.append(f"categories.{cat.value}: missing")
            continue
        for key in ("title", "description"):
            if not isinstance(info.get(key), str) or not info[key]:
                problems.append(f"categories.{cat.value}.{key}: missing")
        actions = info.get("actions")
        if not isinstance(actions, list) or not actions:
            problems.append(f"categories.{cat.value}.actions: at least one suggested action is needed")
        else:
            for i, action in enumerate(actions):
                if not isinstance(action, dict) or not action.get("id") or not action.get("text"):
                    problems.append(f"categories.{cat.value}.actions[{i}]: needs id and text")
    for key in categories:
        if key not in {c.value for c in Category}:
            problems.append(f"categories.{key}: not a policy category ({', '.join(c.value for c in Category)})")

    guards = data.get("guards", [])
    guard_names: set[str] = set()
    for i, guard in enumerate(guards):
        place = f"guards[{i}] ({guard.get('name', '?')})"
        name = guard.get("name")
        if not name:
            problems.append(f"{place}: name missing")
        elif name in guard_names:
            problems.append(f"{place}: name used twice")
        else:
            guard_names.add(name)
        if guard.get("scope") not in GUARD_SCOPES:
            problems.append(f"{place}: scope must be one of {', '.join(GUARD_SCOPES)}")
        if guard.get("scope") in ("before", "after") and not isinstance(guard.get("window"), int):
            problems.append(f"{place}: a '{guard.get('scope')}' guard needs window = <characters>")
        problems += _pattern_problems(f"{place}.pattern", guard.get("pattern"), lexicon, whole_words=True)
        if "unless" in guard:
            problems += _pattern_problems(f"{place}.unless", guard["unless"], lexicon, whole_words=True)

    families: set[str] = set()
    for i, signal in enumerate(data.get("signals", [])):
        place = f"signals[{i}] ({signal.get('name', '?')})"
        for key in ("name", "family"):
            if not isinstance(signal.get(key), str) or not signal.get(key):
                problems.append(f"{place}: {key} missing")
        families.add(signal.get("family", ""))
        problems += _pattern_problems(f"{place}.pattern", signal.get("pattern"), lexicon, whole_words=True)
        for g in signal.get("guards", []):
            if g not in guard_names:
                problems.append(f"{place}: unknown guard '{g}'")

    rules = data.get("rules", [])
    if not rules:
        problems.append("rules: none defined")
    for i, rule in enumerate(rules):
        place = f"rules[{i}]"
        if rule.get("category") not in {c.value for c in Category}:
            problems.append(f"{place}: category must be one of {', '.join(c.value for c in Category)}")
        if rule.get("severity") not in {s.value for s in Severity}:
            problems.append(f"{place}: severity must be critical, high or medium")
        if rule.get("scope", "message") not in RULE_SCOPES:
            problems.append(f"{place}: scope must be one of {', '.join(RULE_SCOPES)}")
        if not rule.get("all"):
            problems.append(f"{place}: 'all' must list at least one signal family")
        for fam in list(rule.get("all", [])) + list(rule.get("any", [])):
            if fam not in families:
                problems.append(f"{place}: no signal has family '{fam}'")
        if not rule.get("why"):
            problems.append(f"{place}: 'why' missing (staff are shown it)")
    follow_up = data.get("follow_up")
    if follow_up is not None:
        if not isinstance(follow_up.get("turns"), int) or follow_up["turns"] < 1:
            problems.append("follow_up.turns: a whole number of turns, at least 1")
        if follow_up.get("severity") not in {s.value for s in Severity}:
            problems.append("follow_up.severity: must be critical, high or medium")
        for fam in follow_up.get("families", []):
            if fam not in families:
                problems.append(f"follow_up.families: no signal has family '{fam}'")
        if not follow_up.get("why"):
            problems.append("follow_up.why: missing (staff are shown it)")
        for key in ("vetoes", "retractions"):
            for g in follow_up.get(key, []):
                if g not in guard_names:
                    problems.append(f"follow_up.{key}: unknown guard '{g}'")
    learned = data.get("learned")
    if learned is not None:
        for key in ("threshold", "strong_threshold"):
            value = learned.get(key)
            if not isinstance(value, (int, float)) or not 0 < value < 1:
                problems.append(f"learned.{key}: a probability between 0 and 1")
        for key in ("severity", "strong_severity"):
            if learned.get(key) not in {s.value for s in Severity}:
                problems.append(f"learned.{key}: must be critical, high or medium")
        if not isinstance(learned.get("model"), str) or not learned.get("model"):
            problems.append("learned.model: the model file's name, beside the rules file")
        if not isinstance(learned.get("model_version"), str) or not learned.get("model_version"):
            problems.append("learned.model_version: the version of the model these rules were reviewed with")
        for g in learned.get("vetoes", []):
            if g not in guard_names:
                problems.append(f"learned.vetoes: unknown guard '{g}'")
        if not learned.get("support"):
            problems.append("learned.support: at least one signal family the model needs to see")
        for key in ("support", "not_a_judgement"):
            for fam in learned.get(key, []):
                if fam not in families:
                    problems.append(f"learned.{key}: no signal has family '{fam}'")
        for key in ("indicator", "why"):
            if not learned.get(key):
                problems.append(f"learned.{key}: missing (staff are shown it)")
    return problems


def _pattern_problems(place: str, source: Any, lexicon: dict[str, str], *, whole_words: bool) -> list[str]:
    if not isinstance(source, str) or not source:
        return [f"{place}: pattern missing"]
    try:
        pattern = compile_pattern(source, lexicon, whole_words=whole_words)
    except KeyError as exc:
        return [f"{place}: unknown lexicon entry {{{exc.args[0]}}}"]
    except re.error as exc:
        return [f"{place}: not a valid regular expression ({exc.msg} at position {exc.pos})"]
    if pattern.search("") is not None:
        return [f"{place}: matches empty text, so it would match everything"]
    return []


def parse_rules(data: dict[str, Any], base: Path | None = None) -> Rules:
    problems = check_rules(data)
    if problems:
        raise RulesError(problems)
    lexicon = data.get("lexicon", {})
    guards = {
        g["name"]: Guard(
            name=g["name"],
            scope=g["scope"],
            # A 'before' guard must end at the match, so it is searched on the text just before it.
            pattern=compile_pattern(g["pattern"], lexicon, whole_words=g["scope"] not in ("before", "after")),
            window=int(g.get("window", 0)),
            unless=compile_pattern(g["unless"], lexicon) if g.get("unless") else None,
        )
        for g in data.get("guards", [])
    }
    signals = tuple(
        Signal(
            name=s["name"],
            family=s["family"],
            pattern=compile_pattern(s["pattern"], lexicon),
            guards=tuple(guards[g] for g in s.get("guards", [])),
        )
        for s in data["signals"]
    )
    rules = tuple(
        Rule(
            category=Category(r["category"]),
            severity=Severity(r["severity"]),
            all=frozenset(r["all"]),
            any=frozenset(r.get("any", ())),
            scope=r.get("scope", "message"),
            why=r["why"],
        )
        for r in data["rules"]
    )
    categories = {
        Category(key): CategoryInfo(
            title=value["title"],
            description=value["description"],
            actions=tuple(SuggestedAction(a["id"], a["text"]) for a in value["actions"]),
        )
        for key, value in data["categories"].items()
    }
    follow_up = data.get("follow_up")
    learned = data.get("learned")
    learned_cfg = None
    if learned is not None:
        model_path = (base or default_rules_path().parent) / learned["model"]
        if not model_path.is_file():
            raise RulesError([f"learned.model: {learned['model']} not found beside the rules file"])
        model = LearnedModel.load(model_path)
        if model.version != learned["model_version"]:
            raise RulesError([f"learned.model_version: the rules pin {learned['model_version']} but "
                              f"{learned['model']} is {model.version}; review the new model, then update the pin"])
        learned_cfg = Learned(
            model=model,
            threshold=float(learned["threshold"]),
            severity=Severity(learned["severity"]),
            strong_threshold=float(learned["strong_threshold"]),
            strong_severity=Severity(learned["strong_severity"]),
            vetoes=tuple(guards[g] for g in learned.get("vetoes", [])),
            support=tuple(learned.get("support", [])),
            not_a_judgement=frozenset(learned.get("not_a_judgement", [])),
            indicator=learned["indicator"],
            why=learned["why"],
        )
    return Rules(
        learned=learned_cfg,
        follow_up=FollowUp(
            families=frozenset(follow_up["families"]),
            turns=follow_up["turns"],
            severity=Severity(follow_up["severity"]),
            why=follow_up["why"],
            vetoes=tuple(guards[g] for g in follow_up.get("vetoes", [])),
            retractions=tuple(guards[g] for g in follow_up.get("retractions", [])),
        ) if follow_up else None,
        version=data["version"],
        categories=categories,
        signals=signals,
        rules=rules,
        families=frozenset(s.family for s in signals),
    )


def read_rules_file(path: Path) -> dict[str, Any]:
    """Parse TOML; a syntax error becomes a RulesError naming the line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError([f"{path.name}: not valid TOML ({exc})"]) from None


def load_rules(path: Path | None = None) -> Rules:
    path = path or default_rules_path()
    return parse_rules(read_rules_file(path), base=path.parent)
