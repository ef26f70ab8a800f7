"""Detectors for identifiers with a recognisable shape: emails, IPs, phones, NHS numbers, postcodes,
dates and street addresses.

Every detector is `(Scan) -> list[Span]` with spans in the original text. All patterns compile at import
and every detector sits behind a cheap prefilter (a digit, an "@", a colon), because this runs on every
message on the hot path.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

import phonenumbers

from policy.redaction_scan import Scan
from policy.redaction_words import STOPWORDS, STREET_WORDS

Span = tuple[int, int, str]

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def find_emails(s: Scan) -> list[Span]:
    if "@" not in s.text:
        return []
    return [(m.start(), m.end(), "email") for m in _EMAIL.finditer(s.text)]


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
# Loose on purpose: ipaddress is the judge, the regex only finds colon-rich runs worth asking about.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:])"
)


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def find_ips(s: Scan) -> list[Span]:
    text = s.text
    spans: list[Span] = []
    if s.has_digit and "." in text:
        for start in s.digit_starts:
            m = _IPV4.match(text, start)
            if m and _is_ip(m.group()):
                spans.append((m.start(), m.end(), "ip_address"))
    if text.count(":") >= 2:
        spans += [
            (m.start(), m.end(), "ip_address")
            for m in _IPV6.finditer(text)
            if len(m.group()) > 2 and _is_ip(m.group())
        ]
    return spans


# NHS numbers never start with 0, which keeps them apart from UK phone numbers.
_NHS = re.compile(r"(?<![\d+])[1-9]\d{2}[ -]?\d{3}[ -]?\d{4}(?!\d)")


def nhs_check_digit_ok(digits: str) -> bool:
    """The NHS mod-11 check: weights 10..2 over the first nine digits."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def find_nhs_numbers(text: str) -> list[Span]:
    spans = []
    for m in _NHS.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if nhs_check_digit_ok(digits):
            spans.append((m.start(), m.end(), "nhs_number"))
    return spans


# A cheap net for digit runs that could be phone numbers; phonenumbers judges each one. The run may
# swallow a neighbouring number ("07700 900001 14"), so trailing groups are dropped until one parses.
_PHONE_RUN = re.compile(r"(?<![\w+(])(?:\+\s?|\()?\d[\d\s().\-]{5,24}\d(?!\w)")
_PHONE_GROUP_TAIL = re.compile(r"[\s().\-]+\d+\)?$")
_NON_DIGIT = re.compile(r"\D")
_MIN_DIGITS_NATIONAL = 9
_MIN_DIGITS_INTERNATIONAL = 7


@lru_cache(maxsize=4096)
def _possible_phone(candidate: str) -> bool:
    digits = _NON_DIGIT.sub("", candidate)
    international = candidate.startswith(("+", "00"))
    if len(digits) < (_MIN_DIGITS_INTERNATIONAL if international else _MIN_DIGITS_NATIONAL):
        return False
    try:
        number = phonenumbers.parse(candidate, "GB")
    except phonenumbers.NumberParseException:
        return False
    # "Possible" rather than "valid": reserved and newly issued ranges are still someone's number.
    return phonenumbers.is_possible_number(number)


def find_phones_and_nhs(s: Scan) -> list[Span]:
    """Both need a long digit run; NHS numbers are only looked for where one exists."""
    if not s.has_digit:
        return []
    runs = []
    covered = -1
    for digit in s.digit_starts:
        if digit < covered:
            continue
        # The run may open with "+", "00" or "(" just before the first digit.
        for start in (digit - 2, digit - 1, digit):
            m = _PHONE_RUN.match(s.text, start) if start >= 0 else None
            if m:
                runs.append(m)
                covered = m.end()
                break
    if not runs:
        return []
    spans = find_nhs_numbers(s.text)
    for m in runs:
        candidate = m.group().rstrip()
        start = m.start()
        for _ in range(3):
            if _possible_phone(candidate):
                spans.append((start, start + len(candidate), "phone"))
                break
            tail = _PHONE_GROUP_TAIL.search(candidate)
            if tail is None:
                break
            candidate = candidate[: tail.start()]
    return spans


_OUTWARD = r"[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNPR-Y\d]?"
# Inward units never use C, I, K, M, O or V, which is what keeps "b4 5am" from looking like a postcode.
_INWARD = r"\d[ABD-HJLNP-UW-Z]{2}"
_POSTCODE_FULL = re.compile(rf"(?<![a-z0-9])(?:{_OUTWARD}\s?{_INWARD}|gir\s?0aa)\b".lower())
_POSTCODE_CUED = re.compile(
    rf"\b(?:post\s?code|postal\s+code|area\s+code)\s*(?:is|was|:|=|-|starts\s+with|begins\s+with|'s)?\s*"
    rf"(?P<pc>{_OUTWARD.lower()})\b"
)
_POSTCODE_CUE_WORDS = frozenset("postcode post postal code live living stay staying near".split())
# Outward-only codes after a place cue must be written in capitals: "I live in LS6", not "live in a1".
_POSTCODE_PLACE = re.compile(
    rf"\b(?:[Ll]ive|[Ll]iving|[Ss]tay|[Ss]taying|[Nn]ear)\s+(?:in|at|near)?\s*(?P<pc>{_OUTWARD})\b"
)


def find_postcodes(s: Scan) -> list[Span]:
    if not s.has_digit:
        return []
    spans: list[Span] = []
    for digit in s.digit_starts:
        # The outward code's one or two letters sit just before its first digit.
        for start in (digit - 2, digit - 1):
            m = _POSTCODE_FULL.match(s.low, start) if start >= 0 else None
            if m:
                spans.append((m.start(), m.end(), "postcode"))
                break
    if not _POSTCODE_CUE_WORDS.isdisjoint(s.words):
        spans += [(m.start("pc"), m.end("pc"), "postcode") for m in _POSTCODE_CUED.finditer(s.low)]
        spans += [(m.start("pc"), m.end("pc"), "postcode") for m in _POSTCODE_PLACE.finditer(s.text)]
    return spans


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR4 = r"(?:19|20)\d{2}"
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.\-])(?:"
    rf"(?P<num>\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}}))"
    rf"|{_YEAR4}[/.\-]\d{{1,2}}[/.\-]\d{{1,2}}"
    r")(?!\w|[/.\-]\d)"
)
_WORDY_DATE = re.compile(
    r"\b(?:"
    rf"(?:the\s+)?{_ORD}(?:\s+of)?[\s\-/]+{_MONTH},?[\s\-/]+(?:{_YEAR4}|'\d{{2}}|\d{{2}})"
    rf"|{_MONTH}\s+{_ORD},?\s+{_YEAR4}"
    r")(?!\w)"
)
# Partial dates ("3rd of may", "2009", "12/07") only count after a birthday cue.
_DOB_CUE = re.compile(r"\b(?:born|birthday|b-?day|dob|d\.o\.b\.?|date\s+of\s+birth|birth\s*date)\b")
_DOB_CUE_WORDS = frozenset({"born", "birthday", "bday", "b", "dob", "d", "birth", "birthdate"})
_MONTH_WORDS = frozenset(
    "jan january feb february mar march apr april may jun june jul july aug august sep sept september "
    "oct october nov november dec december".split()
)
_PARTIAL_DATE = re.compile(
    r"(?:is|was|on|in|the|of|:|-|,|\s)*"
    r"(?P<date>"
    rf"{_ORD}(?:\s+of)?\s+{_MONTH}(?:,?\s+(?:{_YEAR4}|'\d{{2}}))?"
    rf"|{_MONTH}\s+(?:{_ORD}(?:,?\s+{_YEAR4})?|{_YEAR4})"
    rf"|\d{{1,2}}[/.\-]\d{{1,2}}(?:[/.\-](?:\d{{4}}|\d{{2}}))?"
    rf"|{_YEAR4}"
    r")(?![\w/])"
)


def _plausible_numeric_date(value: str) -> bool:
    a, b = (int(x) for x in re.split(r"[/.\-]", value)[:2])
    return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)


def find_dates(s: Scan) -> list[Span]:
    if not s.has_digit:
        return []
    spans: list[Span] = []
    for digit in s.digit_starts:
        m = _NUMERIC_DATE.match(s.text, digit)
        if m and (m.group("num") is None or _plausible_numeric_date(m.group("num"))):
            spans.append((m.start(), m.end(), "date_of_birth"))
    if not _MONTH_WORDS.isdisjoint(s.words):
        spans += [(m.start(), m.end(), "date_of_birth") for m in _WORDY_DATE.finditer(s.low)]
    if _DOB_CUE_WORDS.isdisjoint(s.words):
        return spans
    for cue in _DOB_CUE.finditer(s.low):
        m = _PARTIAL_DATE.match(s.low, cue.end())
        if m and (not m.group("date")[0].isdigit() or "/" not in m.group("date")
                  or _plausible_numeric_date(m.group("date"))):
            spans.append((m.start("date"), m.end("date"), "date_of_birth"))
    return spans


_STREET_SUFFIX = (
    r"(?:road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|court|ct|place|pl"
    r"|gardens|gdns|grove|terrace|hill|park|square|sq|walk|mews|rise|view|row|green|parade|vale|gate"
    r"|boulevard|croft|fold|bank|meadows?|chase|approach)"
)
_ADDRESS = re.compile(
    r"\b(?:(?:flat|apartment|apt|unit|house)\s*(?:no\.?\s*)?\d+[a-z]?\s*,?\s+)?"
    r"\d{1,4}[a-z]?\s*,?\s+"
    r"(?P<words>(?:[A-Za-z][A-Za-z'’.\-]*\s+){1,3})"
    rf"{_STREET_SUFFIX}\b\.?"
)
_STREET_SUFFIX_WORDS = frozenset(_STREET_SUFFIX[3:-1].replace("?", "").split("|")) | {"meadow"}
_ADDRESS_CUE_WORDS = frozenset({"live", "living", "stay", "staying", "moved"})
# Without a house number, only a capitalised street after "live on/at" is taken: "I live on Park Road".
_ADDRESS_CUED = re.compile(
    r"\b(?:[Ll]ive|[Ll]iving|[Ss]tay|[Ss]taying|[Mm]oved)\s+(?:on|at|in|to)\s+"
    r"(?P<street>(?:[A-Z][A-Za-z'’\-]*\s+){1,3}"
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Way|Crescent|Court|Place|Gardens|Grove|Terrace"
    r"|Hill|Square|Walk|Mews|Rise|View|Row|Green|Parade)\b)"
)


def _street_words_ok(words: str) -> bool:
    for word in words.split():
        lower = word.lower().strip(".")
        if lower in STOPWORDS and lower not in STREET_WORDS:
            return False
    return True


def find_addresses(s: Scan) -> list[Span]:
    if _STREET_SUFFIX_WORDS.isdisjoint(s.words):
        return []
    spans: list[Span] = []
    if s.has_digit:
        spans += [
            (m.start(), m.end(), "address")
            for m in _ADDRESS.finditer(s.low)
            if _street_words_ok(m.group("words"))
        ]
    if not _ADDRESS_CUE_WORDS.isdisjoint(s.words):
        spans += [
            (m.start("street"), m.end("street"), "address")
            for m in _ADDRESS_CUED.finditer(s.text)
            if _street_words_ok(m.group("street"))
        ]
    return spans
