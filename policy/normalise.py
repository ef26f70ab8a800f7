"""Text normalisation for matching, keeping a map back to the original offsets.

Rules are written against plain lower-case English. Young people write with leetspeak
("k1ll"), stretched letters ("diiiie"), text-speak ("tonite", "u", "evry1"), dropped g's
("filmin") and curly apostrophes; this folds those forms onto what the rules expect while every
position still points into the original text, so indicators show staff the exact words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from policy.regex_trie import trie_pattern

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# Digits and symbols read as letters, but only inside a word that also has letters ("k1ll", "d13"),
# so ages, times and phone numbers are left alone.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_TOKEN = re.compile(r"[a-z0-9@$!]*[a-z][a-z0-9@$!]*")
_LEET_CHARS = re.compile(r"[013457@$!]")
# Numbers with units stay as they are: "5pm", "2nd", "20mins", "16yo".
_UNIT = re.compile(r"\d+(?:am|pm|st|nd|rd|th|s|mins?|hrs?|h|m|k|yo|yrs?|kg|mg|ml|g|x|p|mb|gb)")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_CENSOR = re.compile(r"(?<=[a-z])[*#](?=[a-z])")

# Text-speak and common misspellings -> the spelling the rules use. Only whole words are replaced.
SPELLINGS: dict[str, str] = {
    "u": "you", "ya": "you", "yu": "you", "r": "are", "n": "and", "an": "an", "ur": "your", "urself": "yourself",
    "tonite": "tonight", "2nite": "tonight", "2night": "tonight", "tnite": "tonight", "tonigt": "tonight",
    "2day": "today", "tday": "today", "2moro": "tomorrow", "2morrow": "tomorrow", "tmrw": "tomorrow",
    "tmr": "tomorrow", "tmrow": "tomorrow", "tomoz": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow",
    "tommorrow": "tomorrow", "b4": "before", "wen": "when", "wil": "will", "wiv": "with", "wid": "with",
    "evryone": "everyone", "every1": "everyone", "evry1": "everyone", "everyon": "everyone", "sum1": "someone",
    "some1": "someone", "no1": "no one", "noone": "no one", "any1": "anyone", "ne1": "anyone",
    "beter": "better", "betta": "better", "gud": "good", "tablits": "tablets", "tablet's": "tablets",
    "tabs": "tablets", "pils": "pills", "pillz": "pills", "reddy": "ready", "redy": "ready", "kno": "know",
    "knw": "know", "m8": "mate", "m8s": "mates", "mayt": "mate", "gna": "gonna", "gunna": "gonna",
    "gona": "gonna", "goin": "going", "goin2": "going to", "gonna2": "gonna", "wanna2": "wanna",
    "ima": "i'm gonna", "imma": "i'm gonna", "ima'": "i'm gonna", "tryna": "trying to", "abt": "about",
    "bc": "because", "cuz": "because", "coz": "because", "cos": "because", "ppl": "people", "thru": "through",
    "nite": "night", "dat": "that", "da": "the", "dis": "this", "ded": "dead", "sed": "said", "sez": "says",
    "luv": "love", "ova": "over", "cud": "could", "wud": "would", "shud": "should", "wont": "won't",
    "cant": "can't", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't",
    "wasnt": "wasn't", "wouldnt": "wouldn't", "couldnt": "couldn't", "havent": "haven't", "im": "i'm",
    "ive": "i've", "id": "i'd", "hes": "he's", "shes": "she's", "theyre": "they're", "theyll": "they'll",
    "theyve": "they've", "youre": "you're", "thats": "that's", "whats": "what's", "theres": "there's",
    "its": "it's", "lets": "let's", "hell": "hell", "shell": "shell", "well": "well", "were": "were",
    "sewerslide": "suicide", "suicde": "suicide", "sucide": "suicide", "suiside": "suicide",
    "suicid": "suicide", "suacide": "suicide", "suicidel": "suicidal", "sucidal": "suicidal",
    "suicidle": "suicidal", "overdoze": "overdose", "ovrdose": "overdose", "ovadose": "overdose",
    "paracetemol": "paracetamol", "parecetamol": "paracetamol", "paracetomol": "paracetamol",
    "myslef": "myself", "mysef": "myself", "meself": "myself", "mysel": "myself", "myselfe": "myself",
    "mself": "myself", "hisself": "himself", "diee": "die", "ded.": "dead", "counsler": "counsellor",
    "councellor": "counsellor", "councillor": "counsellor", "councelor": "counsellor", "counseller": "counsellor",
    "teachr": "teacher", "techer": "teacher", "evry": "every", "somthing": "something", "sumthing": "something",
    "wanna": "wanna", "bruv": "bruv", "unalive": "unalive", "k": "ok", "kk": "ok", "rlly": "really",
    "rly": "really", "srsly": "seriously", "tho": "though", "thx": "thanks", "pls": "please", "plz": "please",
    "gon": "gone", "bye": "bye", "anotha": "another", "otha": "other", "bruva": "brother",
    "bro": "brother", "sis": "sister", "mam": "mum", "mom": "mum", "mommy": "mum", "mummy": "mum",
    "neva": "never", "eva": "ever", "wot": "what", "wat": "what", "wiv'": "with", "ded'": "dead",
    "nd": "and", "mi": "my", "w": "with", "sik": "sick", "staf": "staff", "offis": "office", "il": "i'll",
    "ther": "there",
    # Scots and northern spellings
    "ah'm": "i'm", "morra": "tomorrow", "aw": "all", "oot": "out", "aff": "off", "ower": "over",
    "hoose": "house", "heid": "head", "cannae": "can't", "dinnae": "don't", "wee": "little",
    "yous": "you", "youse": "you", "ye": "you", "fae": "from", "nae": "no", "wis": "was", "tae": "to",
    "breathin": "breathing", "doon": "down", "innit": "innit",
    "jist": "just", "wisnae": "wasn't", "isnae": "isn't", "wasnae": "wasn't", "widnae": "wouldn't",
    "couldnae": "couldn't", "aboot": "about", "canna": "can't", "dinna": "don't", "gannin": "going",
    "gan": "go", "ken": "know", "batin": "beating", "batein": "beating", "gonnae": "gonna", "efter": "after",
    "yer": "your", "wastin": "wasting", "summat": "something", "counsellr": "counsellor", "owt": "anything",
    "nowt": "nothing", "naebody": "nobody", "awbody": "everybody",
    # "s*ewerslide", "s*icide": the censor star reads as an "i" (see _CENSOR)
    "siewerslide": "suicide", "siicide": "suicide", "suicidie": "suicide",
    "killin": "killing", "kil": "kill", "kms": "kms", "kys": "kys",
}
# Dropped g's ("filmin", "postin") are restored, except in words that really end in -in.
_G_DROP = re.compile(r"[a-z]{2,}[^aeiou\W]in")
_REAL_IN = frozenset(
    "begin cabin within cousin origin margin basin robin napkin pumpkin muffin dolphin violin raisin admin "
    "vitamin toxin martin kevin justin austin dublin berlin latin satin bulletin aspirin insulin goblin assassin "
    "griffin coffin muslin resin gremlin javelin mandolin zeppelin puffin boffin gherkin bumpkin darwin edwin "
    "penguin erin colin dustin robbin kremlin lenin putin wisconsin benjamin franklin lincoln merlin "
    "heroin protein terrain captain curtain fountain mountain certain bargain villain britain".split()
)


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    # offsets[i] is the index in the original text of normalised character i; None when identical.
    offsets: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.offsets is None:
            return start, end
        if not self.offsets:
            return 0, 0
        start = min(start, len(self.offsets) - 1)
        end = max(min(end, len(self.offsets)), start + 1)
        return self.offsets[start], self.offsets[end - 1] + 1


# The respellings as a prefix tree (regex_trie): at any position the words that fit the text form a
# chain, and the tree tries the longest first, as a longest-first alternation would, at a fraction
# of the cost.
_RESPELL = re.compile(
    r"(?<![a-z0-9'])(?:" + trie_pattern([k for k in SPELLINGS if SPELLINGS[k] != k])
    + r"|[a-z]{2,}[^aeiou\W]in)(?![a-z0-9'])"
)


def _respell(token: str) -> str | None:
    if token in SPELLINGS:
        return SPELLINGS[token]
    if _G_DROP.fullmatch(token) and token not in _REAL_IN and not token.endswith(("ain", "ein", "oin", "uin")):
        return token + "g"
    return None


def normalise(text: str) -> Normalised:
    lowered = text.lower().translate(_APOSTROPHES)
    if len(lowered) != len(text):  # a few Unicode letters lower-case to two characters
        lowered = "".join(c.lower()[0] for c in text).translate(_APOSTROPHES)
    if _LEET_CHARS.search(lowered):
        chars = list(lowered)
        for m in _LEET_TOKEN.finditer(lowered):
            word = m.group(0)
            if _LEET_CHARS.search(word) and not _UNIT.fullmatch(word.strip("!")):
                for i in range(m.start(), m.end()):
                    # A trailing "!" is punctuation, not an "i".
                    if chars[i] == "!" and (i + 1 >= m.end()):
                        continue
                    chars[i] = _LEET.get(chars[i], chars[i])
        lowered = "".join(chars)
    if "*" in lowered or "#" in lowered:
        lowered = _CENSOR.sub("i", lowered)

    # Everything below may change lengths, so it rebuilds the text with an offset map; most
    # messages need none of it and skip straight to the end.
    edits: list[tuple[int, int, str]] = []
    for m in _STRETCH.finditer(lowered):
        # A letter written three or more times becomes one ("diiiie" -> "die"). Rules write a
        # doubled letter as optional (rules.compile_pattern), so "killlll" -> "kil" still matches.
        edits.append((m.start(), m.end(), m.group(1)))
    if edits:
        lowered, offsets = _apply(lowered, edits, None)
    else:
        offsets = None
    edits = []
    for m in _RESPELL.finditer(lowered):
        new = _respell(m.group(0))
        if new is not None and new != m.group(0):
            edits.append((m.start(), m.end(), new))
    if edits:
        lowered, offsets = _apply(lowered, edits, offsets)
    return Normalised(lowered, offsets)


def _apply(text: str, edits: list[tuple[int, int, str]],
           offsets: tuple[int, ...] | None) -> tuple[str, tuple[int, ...]]:
    base = offsets if offsets is not None else range(len(text))
    out: list[str] = []
    new_offsets: list[int] = []
    pos = 0
    for start, end, replacement in edits:
        out.append(text[pos:start])
        new_offsets.extend(base[pos:start])
        out.append(replacement)
        # Every replacement character points into the original word it came from.
        for i in range(len(replacement)):
            new_offsets.append(base[min(start + i, end - 1)])
        pos = end
    out.append(text[pos:])
    new_offsets.extend(base[pos:])
    return "".join(out), tuple(new_offsets)
