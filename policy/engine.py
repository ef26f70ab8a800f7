"""The policy engine: decides whether a message meets a confidentiality-policy trigger, and why."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from policy.normalise import Normalised, normalise
from policy.redaction import redact
from policy.regex_gate import GateIndex, gate_for, needs_for
from policy.rules import Guard, Rule, Rules, Signal, load_rules
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
_CLAUSE = re.compile(
    r"[.!?;:\n]+|,|\s[-–—]\s|\b(?:but|though|although|however|except|whereas|and then|and now|so now)\b"
)
_SENTENCE = re.compile(r"[.!?\n]+")
CONTEXT_TURNS = 6


@dataclass(slots=True)
class Hit:
    family: str
    name: str
    start: int  # in normalised text
    end: int
    sentence: int


class _Turn:
    """One message's text, with its signal families found on demand and remembered.

    Rules ask for families one by one and stop at the first one missing, so a quiet message costs
    a few patterns, not all of them; a turn kept as conversation context is only searched again for
    a family a later rule needs, once."""

    __slots__ = ("norm", "_guards", "_sentence_starts", "_candidates", "_possible", "found")

    def __init__(self, norm: Normalised):
        self.norm = norm
        self._guards: _GuardContext | None = None
        self._sentence_starts: list[int] | None = None
        self._candidates: dict[int, list[int]] | None = None
        self._possible: frozenset[str] | None = None
        self.found: dict[str, list[Hit]] = {}

    def candidates(self, signals: _Signals) -> dict[int, list[int]]:
        if self._candidates is None:
            self._candidates = signals.index.lookup(self.norm.text)
        return self._candidates

    def possible(self, signals: _Signals) -> frozenset[str]:
        """The families that could have a hit here: a signal's gate found one of its prefixes, or
        the signal has no gate. Every other family has none, without trying a pattern."""
        if self._possible is None:
            gate_family = signals.gate_family
            self._possible = frozenset([gate_family[g] for g in self.candidates(signals)]) | signals.ungated
        return self._possible

    @property
    def guards(self) -> _GuardContext:
        if self._guards is None:
            self._guards = _GuardContext(self.norm.text)
        return self._guards

    @property
    def sentence_starts(self) -> list[int]:
        if self._sentence_starts is None:
            self._sentence_starts = [0] + [m.end() for m in _SENTENCE.finditer(self.norm.text)]
        return self._sentence_starts

    def hits(self, family: str, signals: _Signals) -> list[Hit]:
        found = self.found.get(family)
        if found is None:
            found = []
            text = self.norm.text
            for signal, m in _gated_matches(signals.by_family.get(family, ()), text, self.candidates(signals)):
                if not signal.guards or self.guards.guarded_by(signal, m.start(), m.end()) is None:
                    sentence = bisect_right(self.sentence_starts, m.start()) - 1
                    found.append(Hit(family, signal.name, m.start(), m.end(), sentence))
            self.found[family] = found
        return found


class _Signals:
    """The rules' signals by family, each with its gate number (None: ungated) in `index`, whether
    the gate gives every position a match can start at (so only those are tried), and for an
    ungated signal a search for strings every match contains (policy.regex_gate.needs_for)."""

    __slots__ = ("by_family", "entries", "index", "gate_family", "ungated")

    def __init__(self, signals: Iterable[Signal]):
        gates = []
        gate_family: list[str] = []
        ungated: set[str] = set()
        by_family: dict[str, list[_Entry]] = {}
        entries: list[_Entry] = []
        for signal in signals:
            gate = gate_for(signal.pattern)
            if gate is None:
                entry = (signal, None, False, needs_for(signal.pattern))
                ungated.add(signal.family)
            else:
                entry = (signal, len(gates), gate.anchored, None)
                gates.append(gate)
                gate_family.append(signal.family)
            by_family.setdefault(signal.family, []).append(entry)
            entries.append(entry)
        self.by_family = {family: tuple(group) for family, group in by_family.items()}
        self.entries = tuple(entries)  # in the rules file's order
        self.index = GateIndex(gates)
        self.gate_family = tuple(gate_family)
        self.ungated = frozenset(ungated)


_Entry = tuple[Signal, int | None, bool, "re.Pattern[str] | None"]


def _gated_matches(
    entries: Iterable[_Entry], text: str, candidates: dict[int, list[int]]
) -> Iterator[tuple[Signal, re.Match[str]]]:
    """Every match of these signals, as ``finditer`` gives them, trying only where their gates allow."""
    for signal, gate, anchored, needs in entries:
        if gate is None:
            if needs is not None and needs.search(text) is None:
                continue  # lacks every string a match needs
            matches: Iterable[re.Match[str]] = signal.pattern.finditer(text)
        else:
            where = candidates.get(gate)
            if where is None:
                continue  # no string every match needs is here: it cannot match
            matches = _anchored(signal.pattern, text, where) if anchored else signal.pattern.finditer(text)
        for m in matches:
            yield signal, m


def _anchored(pattern: re.Pattern[str], text: str, candidates: list[int]) -> list[re.Match[str]]:
    """What ``pattern.finditer(text)`` yields, trying only the candidate start positions (in order),
    which the signal's gate guarantees include every position a match can start at."""
    out = []
    end = 0
    match = pattern.match
    for i in candidates:
        if i >= end:
            m = match(text, i)
            if m is not None:
                out.append(m)
                end = m.end()
    return out


@dataclass
class Conversation:
    """The recent turns of one conversation, so risk that builds up over turns is seen.

    Only assessed young-person messages enter it: a chatbot transcript never does (the chatbot rule).
    """

    turns: deque[_Turn] = field(default_factory=lambda: deque(maxlen=CONTEXT_TURNS))
    # Categories escalated in recent turns, with how many more turns a follow-up still counts.
    active: dict[Category, int] = field(default_factory=dict)


class Engine:
    def __init__(self, rules: Rules):
        self.rules = rules
        self.version = rules.version
        # Each signal with its gate: where in a message a match could start (policy.regex_gate).
        self._signals = _Signals(rules.signals)
        # Each rule with its families in a fixed order, the rarest in the rules first (a family few
        # rules need is usually absent, so the pass over a rule stops at it).
        uses: dict[str, int] = {}
        for rule in rules.rules:
            for f in rule.all:
                uses[f] = uses.get(f, 0) + 1
        self._plans = tuple((rule, tuple(sorted(rule.all, key=lambda f: (uses[f], f)))) for rule in rules.rules)

    @classmethod
    def default(cls) -> Engine:
        return _default_engine()

    @classmethod
    def from_file(cls, path: Path) -> Engine:
        return cls(load_rules(path))

    def conversation_from(self, history: Iterable[tuple[str, Iterable[Category | str]]]) -> Conversation:
        """Context rebuilt from stored turns, oldest first: each young-person message's (redacted) text
        and the categories it escalated for.

        Nothing is assessed again: the turns' signals are found only if a later rule asks for them,
        and the follow-up window comes from the stored outcomes, so a service can rebuild context
        from its database for every message cheaply."""
        conversation = Conversation()
        follow = self.rules.follow_up
        for text, categories in history:
            conversation.turns.append(_Turn(normalise(text)))
            conversation.active = {c: n - 1 for c, n in conversation.active.items() if n > 1}
            for category in categories:
                conversation.active[Category(category)] = follow.turns if follow is not None else 0
        return conversation

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
        learned: bool = True,
    ) -> Assessment:
        """`learned=False` decides by the rules alone (used to measure what the model adds)."""
        redaction = redact(text, known_values)
        suppressed = suppression(channel, author)
        if suppressed is not None:
            # The chatbot rule: never assessed, never escalated, never part of any context.
            return Assessment(False, (), None, (), redaction.text, redaction.identifiers, suppressed, self.version)

        turn = _Turn(normalise(text))
        history = tuple(conversation.turns) if conversation is not None else ()
        follow = self.rules.follow_up
        over = retracted = False
        if history and follow is not None:
            holds = turn.guards.holds_in_message
            over = any(holds(g) for g in follow.vetoes)
            retracted = any(holds(g) for g in follow.retractions)
            if over or retracted:
                # The turn says the danger is over, long past, or was never real (a joke, a quote, a
                # game): it is read alone, not joined to earlier turns.
                history = ()
        fired = []
        found = turn.found
        signals = self._signals
        possible = turn.possible(signals)
        for rule, order in self._plans:
            if rule.scope != "conversation" or not history:
                # Most rules fail on a family absent here: tell that without trying a pattern when
                # no gate saw a way for it to match, else without a call per rule.
                if not rule.all <= possible:
                    continue
                for f in order:
                    hits = found.get(f)
                    if hits is None:
                        hits = turn.hits(f, signals)
                    if not hits:
                        break
                else:
                    if self._fires(rule, turn, history):
                        fired.append(rule)
            elif self._fires(rule, turn, history):
                fired.append(rule)
        categories = tuple(c for c in Category if any(r.category is c for r in fired)) if fired else ()
        severities = [r.severity for r in fired]
        used: set[str] = set()
        for rule in fired:
            used |= rule.all | rule.any
        if conversation is not None and follow is not None:
            carried = tuple(c for c in Category if conversation.active.get(c, 0) > 0 and c not in categories)
            if carried and not over and not retracted:
                here = {f for f in follow.families if turn.hits(f, self._signals)}
                if here:
                    categories = tuple(c for c in Category if c in categories or c in carried)
                    severities.append(follow.severity)
                    used |= here
        extra: list[Indicator] = []
        if not categories and learned and self.rules.learned is not None:
            categories, severity_learned, extra = self._second_opinion(turn)
            if categories:
                severities.append(severity_learned)
        if conversation is not None and author is AuthorKind.YOUNG_PERSON:
            if retracted:
                conversation.turns.clear()  # what was taken back is not joined to later turns either
            conversation.turns.append(turn)
            conversation.active = {} if retracted else {
                c: n - 1 for c, n in conversation.active.items() if n > 1}
            for c in categories:
                conversation.active[c] = follow.turns if follow is not None else 0

        if not categories:
            return Assessment(False, (), None, (), redaction.text, redaction.identifiers, None, self.version)
        severity = max(severities, key=lambda s: s.rank)
        hits = [h for family in sorted(used) for h in turn.hits(family, self._signals)]
        indicators = tuple(sorted(_indicators(turn.norm, hits) + tuple(extra), key=lambda i: (i.start, i.end)))
        return Assessment(
            True, categories, severity, indicators, redaction.text,
            redaction.identifiers, None, self.version, self.actions_for(categories),
        )

    def _second_opinion(self, turn: _Turn) -> tuple[tuple[Category, ...], Severity, list[Indicator]]:
        """The learned model's view of a message the rules left quiet (see rules.toml [learned])."""
        cfg = self.rules.learned
        assert cfg is not None
        text = turn.norm.text
        # The model's view counts only with some risk language the rules recognise (rules.toml
        # [learned] support), so ordinary words the model leans on cannot escalate alone; never
        # in a recovery story, fiction or a past account; never against a guard's judgement.
        # Cheapest tests first: the support words, then the model's own probability.
        if not any(turn.hits(f, self._signals) for f in cfg.support):
            return (), cfg.severity, []
        if cfg.model.probability(text) < cfg.threshold:
            return (), cfg.severity, []
        if any(turn.guards.holds_in_message(g) for g in cfg.vetoes) or self._rules_ruled_out(turn):
            return (), cfg.severity, []
        score = cfg.model.score(text)
        named = [c for c in Category if score.categories.get(c.value, 0.0) >= 0.5]
        if not named:
            named = [max(Category, key=lambda c: score.categories.get(c.value, 0.0))]
        severity = cfg.strong_severity if score.probability >= cfg.strong_threshold else cfg.severity
        indicators = [
            Indicator(cfg.indicator, *turn.norm.span(start, end)) for _feature, start, end in score.evidence
        ]
        return tuple(named), severity, indicators

    def _rules_ruled_out(self, turn: _Turn) -> bool:
        """Whether a guard dropped a risk signal here (a joke, a hypothetical, a story, ordinary
        medicine...): the rules looked and judged it harmless, and the model must not overrule that."""
        assert self.rules.learned is not None
        generic = self.rules.learned.not_a_judgement
        return any(
            guard is not None
            for signal, _m, guard in self._every_match(turn)
            if signal.family not in generic
        )

    def _every_match(self, turn: _Turn) -> Iterator[tuple[Signal, re.Match[str], str | None]]:
        """Every signal match in the text, not just those of the families the rules asked for, with
        the guard that dropped it, if any."""
        text, guards, signals = turn.norm.text, turn.guards, self._signals
        for signal, m in _gated_matches(signals.entries, text, turn.candidates(signals)):
            yield signal, m, guards.guarded_by(signal, m.start(), m.end())

    def explain(self, text: str) -> list[tuple[str, str, str, str | None]]:
        """Every signal match with the guard that dropped it, if any: (family, name, words, guard)."""
        norm = normalise(text)
        return [
            (signal.family, signal.name, m.group(0), guard)
            for signal, m, guard in self._every_match(_Turn(norm))
        ]

    def _fires(self, rule: Rule, turn: _Turn, history: tuple[_Turn, ...]) -> bool:
        signals = self._signals
        if rule.scope == "conversation" and history:
            # The last test below first, as it only reads this turn: usually it settles the rule.
            here = turn.possible(signals) & (rule.all | rule.any)
            if not here or not any(turn.hits(f, signals) for f in here):
                return False

            def present(family: str) -> bool:
                return bool(turn.hits(family, signals)) or any(t.hits(family, signals) for t in history)

            if not all(present(f) for f in rule.all):
                return False
            if rule.any and not any(present(f) for f in rule.any):
                return False
            # The current message must carry part of the rule, so a quiet turn after a
            # disclosure does not raise the same alarm again (checked first, above).
            return True
        found = turn.found
        for f in rule.all:  # the same test as all(turn.hits(...)), without a generator per rule
            hits = found.get(f)
            if hits is None:
                hits = turn.hits(f, signals)
            if not hits:
                return False
        if rule.scope == "sentence":
            shared = set.intersection(*({h.sentence for h in turn.hits(f, signals)} for f in rule.all))
            if rule.any:
                shared &= {h.sentence for f in rule.any for h in turn.hits(f, signals)}
            return bool(shared)
        return not rule.any or any(turn.hits(f, signals) for f in rule.any)


class _GuardContext:
    """Guard checks for one message, caching what every match in it shares (clauses, and the
    message-wide guards), so a guard is evaluated once per clause or message, not per match."""

    def __init__(self, text: str):
        self.text = text
        clauses = list(_CLAUSE.finditer(text))
        self.clause_starts = [0] + [m.end() for m in clauses]
        self.clause_ends = [m.start() for m in clauses] + [len(text)]
        self.cache: dict[tuple[str, int], bool] = {}

    def _clause(self, start: int) -> tuple[int, int]:
        i = bisect_right(self.clause_starts, start) - 1
        return self.clause_starts[i], max(self.clause_ends[i], self.clause_starts[i])

    def _holds(self, guard: Guard, key: int, scope_text: str) -> bool:
        cached = self.cache.get((guard.name, key))
        if cached is None:
            cached = guard.pattern.search(scope_text) is not None and not (
                guard.unless is not None and guard.unless.search(scope_text) is not None)
            self.cache[(guard.name, key)] = cached
        return cached

    def holds_in_message(self, guard: Guard) -> bool:
        return self._holds(guard, -1, self.text)

    def guarded_by(self, signal: Signal, start: int, end: int) -> str | None:
        guards = signal.guards
        if not guards:
            return None
        text = self.text
        cache = self.cache
        i = bisect_right(self.clause_starts, start) - 1
        left = self.clause_starts[i]
        right = max(self.clause_ends[i], left)
        for guard in guards:
            scope = guard.scope
            if scope == "before":
                found = guard.pattern.search(text[max(left, start - guard.window):start]) is not None
                if found and guard.unless is not None:
                    found = guard.unless.search(text[left:right]) is None
            elif scope == "after":
                found = guard.pattern.search(text[end:end + guard.window]) is not None
            else:
                # Clause- and message-wide guards are the same for every match there: looked up, and
                # the text sliced, only once.
                key = (guard.name, left if scope == "clause" else -1)
                cached = cache.get(key)
                if cached is None:
                    cached = self._holds(guard, key[1], text[left:right] if scope == "clause" else text)
                found = cached
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
