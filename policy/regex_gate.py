"""Sound pre-gates for whole-word signal patterns: where in a message a match could possibly start.

Every signal pattern is compiled as ``(?<![a-z0-9'])(?:...)(?![a-z0-9])``, and Python's `re` tries
it at every character of every message. From the parsed pattern this computes the set of strings
(`DEPTH` characters or so) one of which every match must begin with. One prefix-tree pattern of every
signal's prefixes scans a message once (`GateIndex.lookup`); a signal is only tried, with an
anchored ``match``, at the few positions whose text begins with one of its prefixes, and not at all
when there are none. The prefixes over-approximate (anything not understood ends a prefix early), so a
position that could match is never skipped, and matches come out exactly as ``finditer`` gives them.
"""
from __future__ import annotations

import re
import re._constants as sre  # noqa: PLC2701 - the parser's node types, stable across 3.11+
import re._parser as sre_parse  # noqa: PLC2701
from bisect import bisect_left
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass

from policy.regex_trie import trie_pattern

# Longer prefixes waste fewer tries but make a bigger scan pattern to compile (6/4/10: ~0.7 s at start-up).
DEPTH = 6  # prefixes end at this length, unless their last word so far is shorter than _WORD ...
_WORD = 4
_MAX_DEPTH = 10  # ... when they go on to this length ("the " alone says little; "the las" more)
_CAP = 20000  # more prefixes than this and the open ones are cut short (still sound, less selective)
_SMALL_CLASS = 12  # a character class with more members than this ends a prefix
# Every whole-word signal starts with a look-behind refusing a letter or digit just before the match,
# so a match can only start at the text's start or after some other character: a "boundary".
# (Any further look-behinds are checked by the anchored match itself.)
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_NOT_WORD_CHAR = re.compile(r"[^a-z0-9]")
_BOUNDARY = r"(?<![a-z0-9])"  # the text's start, or just after some other character
_AFTER_SPACE = r"(?<= )"


# Stands, at the start of a prefix, for "a word of \w characters and a space" (see _item).
SKIP = "\x00"
_SKIP_WORDS: ContextVar[bool] = ContextVar("skip_words", default=False)


class _Unsupported(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Gate:
    """Strings one of which every match has at a boundary position (see `GateIndex.lookup`).

    `anchored`: at the very position the match starts, so only those positions need trying. Otherwise
    somewhere inside the match, so a message without any of them cannot match at all."""

    prefixes: frozenset[str]
    anchored: bool
    # Anchored gates only: prefixes that may instead follow a first word and a space, "(?:\w+ )?".
    after_word: frozenset[str] = frozenset()


def _chars(items: list) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            out.add(chr(av))
        elif op is sre.RANGE:
            lo, hi = av
            if hi - lo > _SMALL_CLASS:
                return None
            out.update(chr(c) for c in range(lo, hi + 1))
        else:  # NEGATE, CATEGORY and anything else: too many characters to list
            return None
        if len(out) > _SMALL_CLASS:
            return None
    return out


def _extend(opens: set[str], chars: set[str] | str) -> tuple[set[str], set[str]]:
    grown = {s + c for s in opens for c in chars}
    done = {s for s in grown if len(s) >= DEPTH and (len(s) >= _MAX_DEPTH or len(s) - s.rfind(" ") > _WORD)}
    return grown - done, done


def _seq(opens: set[str], items: list) -> tuple[set[str], set[str]]:
    """(prefixes still growing, finished prefixes) after matching `items` from each of `opens`."""
    closed: set[str] = set()
    cur = set(opens)
    for op, av in items:
        if not cur:
            break
        cur, done = _item(cur, op, av)
        closed |= done
        if len(cur) + len(closed) > _CAP:
            closed |= cur
            cur = set()
    return cur, closed


def _item(cur: set[str], op, av) -> tuple[set[str], set[str]]:  # noqa: C901, PLR0911, PLR0912
    if op is sre.LITERAL:
        return _extend(cur, chr(av))
    if op is sre.IN:
        chars = _chars(av)
        return (set(), cur) if chars is None else _extend(cur, chars)
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return cur, set()  # zero-width: ignoring what it demands only lets more through
    if op is sre.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        if add_flags & (sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_LOCALE):
            raise _Unsupported
        return _seq(cur, body)
    if op is sre.ATOMIC_GROUP:
        return _seq(cur, av)
    if op is sre.BRANCH:
        opens: set[str] = set()
        closed: set[str] = set()
        for branch in av[1]:
            o, c = _seq(cur, branch)
            opens |= o
            closed |= c
        return opens, closed
    if op is sre.MAX_REPEAT and _SKIP_WORDS.get() and "" in cur and _is_optional_word(av):
        # "(?:\w+ )?" where the match starts: either skipped, or a word and a space, after which
        # the rest starts at a boundary. SKIP + prefix stands for the latter (see GateIndex.lookup).
        opens, closed = _item(cur - {""}, op, av)
        return opens | {"", SKIP}, closed
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        lo, hi, body = av
        closed = set()
        c = set(cur)
        for n in range(lo):
            if not c:
                break
            if n > _MAX_DEPTH + 1:  # still growing after this many: cut short
                return set(), closed | c
            c, done = _seq(c, body)
            closed |= done
        acc = set(c)
        n = lo
        while n < hi and c:
            if n - lo > _MAX_DEPTH + 1:
                closed |= c
                break
            c, done = _seq(c, body)
            closed |= done
            n += 1
            if c <= acc:  # nothing new: more repetitions add nothing either
                break
            acc |= c
        return acc, closed
    return set(), cur  # ANY, NOT_LITERAL, back-references, ...: the prefix ends here


def _is_optional_word(av) -> bool:
    lo, hi, body = av
    if (lo, hi) != (0, 1) or len(body) != 2 or body[1] != (sre.LITERAL, ord(" ")):
        return False
    op, inner = body[0]
    return (op is sre.MAX_REPEAT and inner[0] == 1 and inner[1] == sre.MAXREPEAT
            and list(inner[2]) == [(sre.IN, [(sre.CATEGORY, sre.CATEGORY_WORD)])])


def gate_for(pattern: re.Pattern[str]) -> Gate | None:
    """The gate for a whole-word pattern, or None when it cannot be gated soundly."""
    if pattern.flags & (re.IGNORECASE | re.LOCALE):
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except re.error:
        return None
    items = list(parsed.data)
    if not items or not _is_boundary_lookbehind(items[0]):
        return None
    try:
        token = _SKIP_WORDS.set(True)
        try:
            prefixes = _prefixes(items[1:])
        finally:
            _SKIP_WORDS.reset(token)
        if prefixes is not None:
            if SKIP in prefixes:  # a word to skip, then nothing known: no use
                return None
            return Gate(frozenset(p for p in prefixes if p[0] != SKIP), anchored=True,
                        after_word=frozenset(p[1:] for p in prefixes if p[0] == SKIP))
        inside = _inside(items[1:], True)
    except _Unsupported:
        return None
    return Gate(frozenset(inside), anchored=False) if inside is not None else None


def _prefixes(items: list) -> set[str] | None:
    opens, closed = _seq({""}, items)
    prefixes = opens | closed
    return None if not prefixes or "" in prefixes else prefixes


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    if a is None or b is None:
        return a if b is None else b
    return max(a, b, key=lambda s: (min(map(len, s)), -len(s)))


def _after_non_word(item) -> bool:
    """Whether the text just after this item is always a boundary position."""
    op, av = item
    if op is sre.LITERAL:
        return chr(av) not in WORD_CHARS
    if op is sre.IN:
        chars = _chars(av)
        return chars is not None and not chars & WORD_CHARS
    return False


def _inside(items: list, at_boundary: bool, *, anywhere: bool = False) -> set[str] | None:  # noqa: C901
    """Strings one of which every match of `items` has at some boundary position inside it (with
    `anywhere`: at any position)."""
    best: set[str] | None = None
    for k, (op, av) in enumerate(items):
        if at_boundary or anywhere:
            best = _better(best, _prefixes(items[k:]))
        if op is sre.SUBPATTERN:
            if av[1] & (sre.SRE_FLAG_IGNORECASE | sre.SRE_FLAG_LOCALE):
                raise _Unsupported
            best = _better(best, _inside(av[3], at_boundary, anywhere=anywhere))
        elif op is sre.ATOMIC_GROUP:
            best = _better(best, _inside(av, at_boundary, anywhere=anywhere))
        elif op is sre.BRANCH:
            union: set[str] | None = set()
            for branch in av[1]:
                found = _inside(branch, at_boundary, anywhere=anywhere)
                if found is None:
                    union = None
                    break
                union |= found
            best = _better(best, union)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            best = _better(best, _inside(av[2], at_boundary, anywhere=anywhere))
        if op not in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):  # zero-width items keep the position
            at_boundary = _after_non_word((op, av))
    return best


def _is_boundary_lookbehind(item) -> bool:
    op, av = item
    if op is not sre.ASSERT_NOT or av[0] != -1 or len(av[1]) != 1:
        return False
    (inner_op, inner_av), = av[1]
    if inner_op is not sre.IN:
        return False
    chars: set[str] = set()
    for op2, av2 in inner_av:
        if op2 is sre.LITERAL:
            chars.add(chr(av2))
        elif op2 is sre.RANGE:
            chars.update(chr(c) for c in range(av2[0], av2[1] + 1))
        else:
            return False
    return chars >= WORD_CHARS


class GateIndex:
    """Every gate's prefixes in one prefix-tree pattern, so a message is scanned once for all gates."""

    __slots__ = ("scan", "closure", "after_scan", "after_closure")

    def __init__(self, gates: list[Gate]):
        self.scan, self.closure = self._scanner([(g, gate.prefixes) for g, gate in enumerate(gates)], _BOUNDARY)
        after = [(g, gate.after_word) for g, gate in enumerate(gates) if gate.after_word]
        self.after_scan, self.after_closure = self._scanner(after, _AFTER_SPACE) if after else (None, {})

    def lookup(self, text: str) -> dict[int, list[int]]:
        """For each gate (by number) with a prefix in the text, the boundary positions holding one,
        in order."""
        found: defaultdict[int, list[int]] = defaultdict(list)  # read with .get() and `in` only
        closure = self.closure
        # One scan finds, at each boundary, the longest prefix there; every shorter prefix there is
        # a prefix of it, so its closure names every gate with a prefix at that position.
        for m in self.scan.finditer(text):
            i = m.start()
            for g in closure[m[1]]:
                found[g].append(i)
        if self.after_scan is not None:
            # A prefix after "word + space" at k: the match may start anywhere in that word.
            late: set[int] = set()
            positions: list[int] | None = None
            for m in self.after_scan.finditer(text, 2):
                k = m.start()
                if positions is None:
                    positions = [0] + [w.end() for w in _NOT_WORD_CHAR.finditer(text)]
                lo = bisect_left(positions, text.rfind(" ", 0, k - 1) + 1)
                hi = bisect_left(positions, k - 1)
                for g in self.after_closure[m[1]]:
                    found[g].extend(positions[lo:hi])
                    late.add(g)
            for g in late:
                found[g] = sorted(set(found[g]))
        return found

    @staticmethod
    def _scanner(prefix_sets: list[tuple[int, frozenset[str]]], where: str) -> tuple[re.Pattern[str], dict]:
        """A pattern finding, at each position `where` allows, the longest of the prefixes there; and
        for each prefix the gates of every prefix it begins with (itself included)."""
        gates_of: dict[str, set[int]] = {}
        for g, prefixes in prefix_sets:
            for prefix in prefixes:
                gates_of.setdefault(prefix, set()).add(g)
        closure = {
            prefix: tuple(sorted({g for k in range(1, len(prefix) + 1) for g in gates_of.get(prefix[:k], ())}))
            for prefix in gates_of
        }
        if any("\x00" in p or "\x01" in p for p in gates_of):
            raise ValueError("a gate prefix holds a reserved character")
        return re.compile(where + "(?=(" + trie_pattern(sorted(gates_of)) + "))"), closure


def needs_for(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """For a pattern `gate_for` cannot gate: a search for strings one of which every match contains
    somewhere, so a message without any is skipped. None when there is no such set."""
    if pattern.flags & (re.IGNORECASE | re.LOCALE):
        return None
    try:
        items = list(sre_parse.parse(pattern.pattern, pattern.flags).data)
        needed = _inside(items, True, anywhere=True)
    except (_Unsupported, re.error):
        return None
    if not needed or min(map(len, needed)) < 3:  # too common to be worth a search
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(needed, key=lambda s: (-len(s), s))))
