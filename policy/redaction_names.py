"""Detectors for identifiers made of words: people's names, social handles, schools and clubs.

Names have no shape, so these work from cues ("my name is", "I'm", "Mr", a signed-off "- Jess") and a
stoplist: a cue followed by an ordinary word ("I'm scared", "this is the last time") is not a name, and
those words must reach staff intact.
"""
from __future__ import annotations

import re

from policy.redaction_patterns import Span
from policy.redaction_scan import Scan
from policy.redaction_words import INSTITUTION_GENERIC, STOPWORDS

_WORD = r"[A-Za-z][A-Za-z'’\-]*"

# Lookaheads capture the words without consuming them, so "it's me, I'm Jess" still sees the second cue.
_NAME_CUE = re.compile(
    r"\b(?:"
    r"(?P<strong>my\s+names?(?:\s+is|['’]s)?|names?\s*(?:is|:|['’]s)|call\s+me|(?:i['’]?m|i\s+am)\s+called"
    r"|they\s+call\s+me|known\s+as)"
    r"|(?P<weak>i['’]?m|i\s+am|this\s+is|it['’]?s|it\s+is)"
    r")[\s:,]+"
    rf"(?=(?P<w1>{_WORD})(?:[ \t]+(?P<w2>{_WORD}))?)"
)
_NAME_CUE_WORDS = frozenset(
    "name names call called i'm i’m im i this it's it’s its it known".split()
)
_TITLE = re.compile(
    r"\b(?P<title>mr|mrs|miss|ms|mx|dr|sir|prof)\.?[ \t]+"
    rf"(?P<w1>{_WORD})(?:[ \t]+(?P<w2>{_WORD}))?"
)
_TITLE_WORDS = frozenset("mr mrs miss ms mx dr sir prof".split())
# A name signed at the very end: "... - Jess", "love, Jess x", "from sam".
_SIGN_OFF = re.compile(
    r"(?:(?:^|\s)[-–—~]+|\b(?:love|from|thanks|cheers|regards)\b,?)\s*"
    rf"(?P<w1>{_WORD})(?:[ \t]+(?P<w2>{_WORD}))?[\s.!x]*$"
)
_SIGN_OFF_WORDS = frozenset("love from thanks cheers regards".split())
_SIGN_OFF_WINDOW = 48

# Adjective and verb endings that are almost never first names ("I'm shaking", "im nervous").
_NOT_NAME_ENDINGS = ("ing", "ous", "ful", "less", "ness", "ive", "ish", "able", "ible", "ed")


def _is_name_word(word: str, *, lenient_ending: bool = False) -> bool:
    lower = word.lower().rstrip("'’")
    if lower in STOPWORDS or len(lower) < 2:
        return False
    if lenient_ending or len(lower) < 5 or lower.endswith("fred"):
        return True
    return not lower.endswith(_NOT_NAME_ENDINGS)


def _name_span(text: str, m: re.Match[str], *, second_needs_capital: bool) -> Span | None:
    """The name after a cue, read from the original text (the match ran on its lower-case copy)."""
    if m.group("w1") is None:
        return None
    w1 = text[m.start("w1"):m.end("w1")]
    if not _is_name_word(w1):
        return None
    end = m.end("w1")
    if m.group("w2") is not None:
        w2 = text[m.start("w2"):m.end("w2")]
        capitals = w1[0].isupper() and w2[0].isupper()
        if _is_name_word(w2, lenient_ending=True) and (capitals or not second_needs_capital):
            end = m.end("w2")
    return (m.start("w1"), end, "name")


def find_names(s: Scan) -> list[Span]:
    text, low = s.text, s.low
    spans: list[Span] = []
    # "name" may hide inside "name's" or "names", which the word set keeps as one word.
    if "name" in low or not _NAME_CUE_WORDS.isdisjoint(s.words):
        for m in _NAME_CUE.finditer(low):
            span = _name_span(text, m, second_needs_capital=m.group("weak") is not None)
            if span:
                spans.append(span)
    if not _TITLE_WORDS.isdisjoint(s.words):
        for m in _TITLE.finditer(low):
            # "I miss home" is not Miss Home: with "miss" only a capitalised surname counts.
            if m.group("title") == "miss" and not text[m.start("w1")].isupper():
                continue
            span = _name_span(text, m, second_needs_capital=True)
            if span:
                spans.append((m.start(), span[1], "name"))
    if not _SIGN_OFF_WORDS.isdisjoint(s.words) or any(c in text[-_SIGN_OFF_WINDOW:] for c in "-–—~"):
        tail = _SIGN_OFF.search(low, max(0, len(text) - _SIGN_OFF_WINDOW))
        if tail:
            span = _name_span(text, tail, second_needs_capital=True)
            if span:
                spans.append(span)
    return spans


_PLATFORM = (
    r"(?:snap(?:chat)?|sc|insta(?:gram)?|ig|tik\s?tok|tt|twitter|x|discord|kik|telegram|twitch|youtube"
    r"|yt|reddit|facebook|fb|roblox|fortnite|steam|psn|xbox|gamertag|gamer\s+tag|user\s?name|handle)"
)
_HANDLE_CUED = re.compile(
    rf"\b{_PLATFORM}(?:\s+(?:name|id|username|handle|account|acc|tag))?"
    r"(?:\s*(?P<said>is|=|:|-|['’]s)\s*|[\s,]+(?P<its>its|it['’]s)\s+|\s+)"
    r"(?P<handle>@?[a-z0-9_][a-z0-9_.\-#]{1,29}[a-z0-9_])"
)
_PLATFORM_WORDS = frozenset(
    "snap snapchat sc insta instagram ig tik tiktok tt twitter x discord kik telegram twitch youtube yt "
    "reddit facebook fb roblox fortnite steam psn xbox gamertag gamer user username handle".split()
)
_HANDLE_AT = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")


def find_handles(s: Scan) -> list[Span]:
    spans = [(m.start(), m.end(), "handle") for m in _HANDLE_AT.finditer(s.text)] if "@" in s.text else []
    if _PLATFORM_WORDS.isdisjoint(s.words):
        return spans
    for m in _HANDLE_CUED.finditer(s.low):
        handle = m.group("handle")
        if handle.isalpha():
            # "my snap is private", "discord is planning": an ordinary word after the cue is no
            # handle, and "insta story" is not one either unless "is"/":" announced a handle.
            announced = m.group("said") is not None or m.group("its") is not None
            if not announced or not _is_name_word(handle):
                continue
        spans.append((m.start("handle"), m.end("handle"), "handle"))
    return spans


_INSTITUTION = re.compile(
    r"\b(?P<kw>school|college|academy|a?fc|sixth\s+form|club|uni|university|high|primary|grammar)\b"
)
_INSTITUTION_WORDS = frozenset(
    "school college academy fc afc sixth club uni university high primary grammar".split()
)
_WEAK_INSTITUTION = frozenset({"high", "primary", "grammar"})
_WORD_INNER = "'’.&-"
_NAME_WORDS_MAX = 4
_UNIVERSITY_OF = re.compile(r"\b(?:University|College)\s+of\s+(?:[A-Z][a-z]+\s?){1,3}")


def _word_before(text: str, pos: int) -> tuple[int, str] | None:
    """The word ending just before `pos` (separated by spaces), walking characters rather than
    searching, because a backwards regex search rescans the whole window at every step."""
    end = pos
    while end > 0 and text[end - 1] in " \t":
        end -= 1
    if end == pos:
        return None
    start = end
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] in _WORD_INNER):
        start -= 1
    if start == end or not text[start].isalpha():
        return None
    return start, text[start:end]


def _institution_start(text: str, kw_start: int, *, capitals_only: bool) -> int | None:
    """Walk back over the words naming a school; None when nothing but generic words precede it."""
    pos = kw_start
    start = None
    named = False
    for _ in range(_NAME_WORDS_MAX):
        found = _word_before(text, pos)
        if found is None:
            break
        word_start, word = found
        lower = word.lower().rstrip(".")
        if lower in ("st", "saint"):
            named = True
        elif lower in INSTITUTION_GENERIC:
            pass
        elif lower in STOPWORDS or (capitals_only and not word[0].isupper()):
            break
        elif lower.endswith("ing") and not word[0].isupper():
            break
        else:
            named = True
        start = pos = word_start
    return start if named else None


def _institution_keywords(s: Scan) -> list[re.Match[str]]:
    """Anchored matches at each keyword the word set says is present: str.find is far cheaper than
    letting the keyword alternation scan every position."""
    found = []
    for word in _INSTITUTION_WORDS.intersection(s.words):
        pos = s.low.find(word)
        while pos >= 0:
            m = _INSTITUTION.match(s.low, pos)
            if m:
                found.append(m)
            pos = s.low.find(word, pos + len(word))
    found.sort(key=lambda m: m.start())
    return found


def find_schools(s: Scan) -> list[Span]:
    text = s.text
    spans: list[Span] = []
    if _INSTITUTION_WORDS.isdisjoint(s.words):
        return spans
    for m in _institution_keywords(s):
        kw = m.group("kw")
        weak = kw in _WEAK_INSTITUTION
        if weak and _INSTITUTION.match(s.low, m.end() + 1):
            continue  # "Hillside Primary School": the walk back from "School" covers it
        start = _institution_start(text, m.start(), capitals_only=weak)
        if start is not None:
            spans.append((start, m.end(), "school"))
    if "of" in s.words:
        spans += [(m.start(), m.end(), "school") for m in _UNIVERSITY_OF.finditer(text)]
    return spans
