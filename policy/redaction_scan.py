"""One cheap pass over a message that every redaction detector shares.

Case-insensitive regexes cost about twice as much as plain ones in `re`, so detectors run lower-case
patterns over `low`; its offsets equal the original's, so spans and capitals are read from `text`.
The word set lets a detector skip a message that lacks every word it needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[a-z'’]+")
_DIGIT = re.compile(r"\d")
_DIGIT_RUN = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Scan:
    text: str
    low: str
    words: frozenset[str]
    has_digit: bool
    # Where each run of digits starts: shaped detectors try anchored matches there instead of
    # scanning the whole message once each.
    digit_starts: tuple[int, ...]


def scan(text: str) -> Scan:
    low = text.lower()
    if len(low) != len(text):
        # A few characters grow when lowered ("İ"); keep those as they are so offsets still line up.
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    first = _DIGIT.search(text)
    starts = tuple(m.start() for m in _DIGIT_RUN.finditer(text, first.start())) if first else ()
    return Scan(text, low, frozenset(_WORD.findall(low)), first is not None, starts)
