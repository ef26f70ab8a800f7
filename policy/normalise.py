"""Text normalisation for matching, keeping a map back to the original offsets.

Rules are written against plain lower-case English. Young people write with leetspeak
("k1ll"), stretched letters ("diiiie"), curly apostrophes and no punctuation; this folds those
forms onto what the rules expect while every position still points into the original text,
so indicators can show staff the exact words that mattered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# Digits and symbols read as letters, but only inside a word that also has letters ("k1ll", "d13"),
# so ages, times and phone numbers are left alone.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_WORD = re.compile(r"[a-z]*[01345789@$!][a-z0-9@$!]*[a-z][a-z0-9@$!]*|[a-z]+[01345789@$!]+[a-z0-9@$!]*")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_CENSOR = re.compile(r"(?<=[a-z])[*#](?=[a-z])")


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    # offsets[i] is the index in the original text of normalised character i; None when identical.
    offsets: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.offsets is None:
            return start, end
        if start >= len(self.offsets):
            last = self.offsets[-1] + 1 if self.offsets else 0
            return last, last
        return self.offsets[start], self.offsets[end - 1] + 1 if end > start else self.offsets[start]


def normalise(text: str) -> Normalised:
    lowered = text.lower().translate(_APOSTROPHES)
    if len(lowered) != len(text):  # a few Unicode letters lower-case to two characters
        lowered = "".join(c.lower()[0] for c in text).translate(_APOSTROPHES)
    needs_leet = _LEET_WORD.search(lowered) is not None
    needs_stretch = _STRETCH.search(lowered) is not None
    if not needs_leet and not needs_stretch:
        return Normalised(_CENSOR.sub("i", lowered), None)

    chars = list(lowered)
    if needs_leet:
        for m in _LEET_WORD.finditer(lowered):
            for i in range(m.start(), m.end()):
                chars[i] = _LEET.get(chars[i], chars[i])
    folded = "".join(chars)
    if not needs_stretch:
        return Normalised(_CENSOR.sub("i", folded), None)

    # Collapse a letter written three or more times to one ("diiiie" -> "die"). Rules write a
    # doubled letter as optional (see rules.compile_pattern), so "killll" -> "kil" still matches.
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _STRETCH.finditer(folded):
        out.append(folded[pos:m.start() + 1])
        offsets.extend(range(pos, m.start() + 1))
        pos = m.end()
    out.append(folded[pos:])
    offsets.extend(range(pos, len(folded)))
    return Normalised(_CENSOR.sub("i", "".join(out)), tuple(offsets))
