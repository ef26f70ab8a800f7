"""The policy engine: decides whether a message meets a confidentiality-policy trigger, and why."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from policy.normalise import Normalised, normalise
from policy.redaction import redact
from policy.rules import Rule, Rules, Signal, load_rules
from policy.types import (
    Assessment,
    AuthorKind,
    Category,
    Channel,
    Indicator,
    Severity,
    SuggestedAction,
    Suppression,
)

# Clause boundaries: guards such as negation and tense apply within one clause, so
# "I used to self-harm but tonight I'm going to end it" keeps the second half.
_CLAUSE = re.compile(r"[.!?;:\n]+|,|\s[-–—]\s|\b(?:but|though|although|however|except|whereas|and then|and now|so now)\b")
_SENTENCE = re.compile(r"[.!?\n]+")
CONTEXT_TURNS = 6


@dataclass(slots=True)
class Hit:
    family: str
    name: str
    start: int  # in normalised text
    end: int
    sentence: int


@dataclass
class Conversation:
    """Signals from the recent turns of one conversation, so risk that builds up is seen.

    Only assessed human messages enter it: a chatbot transcript never does (the chatbot rule).
    """

    turns: deque[frozenset[str]] = field(default_factory=lambda: deque(maxlen=CONTEXT_TURNS))
    # Categories escalated in recent turns, with how many more turns a follow-up still counts.
    active: dict[Category, int] = field(default_factory=dict)

    def families(self) -> frozenset[str]:
        return frozenset().union(*self.turns) if self.turns else frozenset()


class Engine:
    def __init__(self, rules: Rules):
        self.rules = rules
        self.version = rules.version

    @classmethod
    def default(cls) -> Engine:
        return _default_engine()

    @classmethod
    def from_file(cls, path: Path) -> Engine:
        return cls(load_rules(path))

    def actions_for(self, categories: Iterable[Category]) -> tuple[SuggestedAction, ...]:
        seen: dict[str, SuggestedAction] = {}
        for cat in categories:
            for action in self.rules.categories[cat].actions:
                seen.setdefault(action.id, action)
        return tuple(seen.values())

    def assess(
        self,
        text: str,
        *,
        channel: Channel = Channel.COUNSELLING,
        author: AuthorKind = AuthorKind.YOUNG_PERSON,
        conversation: Conversation | None = None,
        known_values: Iterable[str] = (),
    ) -> Assessment:
        redaction = redact(text, known_values)
        suppressed = suppression(channel, author)
        if suppressed is not None:
            # The chatbot rule: never assessed, never escalated, never part of any context.
            return Assessment(False, (), None, (), redaction.text, redaction.identifiers, suppressed, self.version)

        norm = normalise(text)
        hits = self._signals(norm)
        history = conversation.families() if conversation is not None else frozenset()
        fired = self._fire(hits, history)
        categories = tuple(c for c in Category if any(r.category is c for r in fired))
        severities = [r.severity for r in fired]
        used = frozenset().union(*(r.all | r.any for r in fired)) if fired else frozenset()
        follow = self.rules.follow_up
        if conversation is not None and follow is not None:
            here = {h.family for h in hits} & follow.families
            carried = tuple(c for c in Category if conversation.active.get(c, 0) > 0 and c not in categories)
            if carried and here:
                categories = tuple(c for c in Category if c in categories or c in carried)
                severities.append(follow.severity)
                used = used | here
        if conversation is not None and author is AuthorKind.YOUNG_PERSON:
            conversation.turns.append(frozenset(h.family for h in hits))
            conversation.active = {c: n - 1 for c, n in conversation.active.items() if n > 1}
            for c in categories:
                conversation.active[c] = follow.turns if follow is not None else 0

        if not categories:
            return Assessment(False, (), None, (), redaction.text, redaction.identifiers, None, self.version)
        severity = max(severities, key=lambda s: s.rank)
        indicators = _indicators(norm, [h for h in hits if h.family in used])
        return Assessment(
            True, categories, severity, indicators, redaction.text, redaction.identifiers, None,
            self.version, self.actions_for(categories),
        )

    def explain(self, text: str) -> list[tuple[str, str, str, str | None]]:
        """Every signal match with the guard that dropped it, if any: (family, name, words, guard)."""
        norm = normalise(text)
        rows = []
        for signal in self.rules.signals:
            for m in signal.pattern.finditer(norm.text):
                guard = _guarded_by(signal, norm.text, m.start(), m.end())
                rows.append((signal.family, signal.name, m.group(0), guard))
        return rows

    def _signals(self, norm: Normalised) -> list[Hit]:
        text = norm.text
        sentence_starts = [0] + [m.end() for m in _SENTENCE.finditer(text)]
        hits: list[Hit] = []
        for signal in self.rules.signals:
            for m in signal.pattern.finditer(text):
                if _guarded_by(signal, text, m.start(), m.end()) is None:
                    sentence = bisect_right(sentence_starts, m.start()) - 1
                    hits.append(Hit(signal.family, signal.name, m.start(), m.end(), sentence))
        return hits

    def _fire(self, hits: list[Hit], history: frozenset[str]) -> list[Rule]:
        here = frozenset(h.family for h in hits)
        if not here:
            return []
        fired = []
        for rule in self.rules.rules:
            if rule.scope == "sentence":
                ok = any(_satisfied(rule, frozenset(h.family for h in hits if h.sentence == s))
                         for s in {h.sentence for h in hits})
            elif rule.scope == "conversation":
                # The current message must carry part of the rule, so a quiet turn after a
                # disclosure does not raise the same alarm again.
                ok = _satisfied(rule, here | history) and bool((rule.all | rule.any) & here)
            else:
                ok = _satisfied(rule, here)
            if ok:
                fired.append(rule)
        return fired


def _satisfied(rule: Rule, families: frozenset[str]) -> bool:
    return rule.all <= families and (not rule.any or bool(rule.any & families))


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = 0
    for m in _CLAUSE.finditer(text, 0, start):
        left = m.end()
    right_match = _CLAUSE.search(text, end)
    return left, right_match.start() if right_match else len(text)


def _guarded_by(signal: Signal, text: str, start: int, end: int) -> str | None:
    if not signal.guards:
        return None
    left, right = _clause_bounds(text, start, end)
    clause = text[left:right]
    for guard in signal.guards:
        if guard.scope == "before":
            window = text[max(left, start - guard.window):start]
            found = guard.pattern.search(window) is not None
        elif guard.scope == "after":
            found = guard.pattern.search(text[end:end + guard.window]) is not None
        elif guard.scope == "clause":
            found = guard.pattern.search(clause) is not None
        else:
            found = guard.pattern.search(text) is not None
        if found and guard.unless is not None:
            scope_text = text if guard.scope == "message" else clause
            if guard.unless.search(scope_text) is not None:
                found = False
        if found:
            return guard.name
    return None


def _indicators(norm: Normalised, hits: list[Hit]) -> tuple[Indicator, ...]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for h in sorted(hits, key=lambda h: (h.start, h.end)):
        start, end = norm.span(h.start, h.end)
        key = (h.name, start, end)
        if key not in seen:
            seen.add(key)
            out.append(Indicator(h.name, start, end))
    return tuple(out)


def suppression(channel: Channel, author: AuthorKind) -> Suppression | None:
    """The chatbot rule: nothing said to the AI chatbot, or written by a bot, is ever assessed."""
    if channel is Channel.CHATBOT:
        return Suppression.CHATBOT
    if author is AuthorKind.BOT:
        return Suppression.BOT_AUTHOR
    return None


@lru_cache(maxsize=1)
def _default_engine() -> Engine:
    return Engine(load_rules())


__all__ = ["Engine", "Conversation", "Severity", "suppression"]
