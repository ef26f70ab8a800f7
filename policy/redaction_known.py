"""Matching identity values the platform told us about (name, phone, email, ...) wherever they occur.

The values come without their field names, so each one's kind is inferred from its shape. One regex is
built per distinct set of values and cached: a conversation's messages all share the same identity.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

from policy.redaction_patterns import Span

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-]{7,}$")
_NAME_LIKE = re.compile(r"^[^\W\d_][^\W\d_'’ .\-]*(?:[ '’.\-]+[^\W\d_]+)*$")
_HANDLE_LIKE = re.compile(r"^@?[A-Za-z0-9_.]+$")
_SEP = r"[\s().\-]*"
_MIN_NAME_PART = 3


def infer_kind(value: str) -> str:
    """The kind a bare identity value most likely has; "other" when it cannot be told."""
    if "@" in value and "." in value.split("@")[-1]:
        return "email"
    try:
        ipaddress.ip_address(value)
        return "ip_address"
    except ValueError:
        pass
    if _PHONE_LIKE.match(value) and sum(c.isdigit() for c in value) >= 7:
        return "phone"
    if _NAME_LIKE.match(value):
        return "name"
    if _HANDLE_LIKE.match(value):
        return "handle"
    return "other"


def _phone_pattern(value: str) -> str:
    """Digits in any grouping, with or without the country code or trunk 0."""
    try:
        national = str(phonenumbers.parse(value, "GB").national_number)
    except phonenumbers.NumberParseException:
        national = re.sub(r"\D", "", value)
    body = _SEP.join(national)
    return rf"(?<!\d)(?:(?:\+|00){_SEP}\d{{1,3}}{_SEP})?(?:\(?0\)?{_SEP})?{body}(?!\d)"


def _literal(value: str) -> str:
    # Word boundaries only where the value itself starts or ends with a word character.
    left = r"(?<!\w)" if value[0].isalnum() else ""
    right = r"(?!\w)" if value[-1].isalnum() else ""
    return left + re.escape(value) + right


def _alternatives(value: str) -> list[tuple[str, str]]:
    kind = infer_kind(value)
    if kind == "phone":
        return [(_phone_pattern(value), kind)]
    alternatives = [(_literal(value), kind)]
    if kind == "name":
        alternatives += [
            (_literal(part), kind) for part in re.split(r"[\s.\-]+", value) if len(part) >= _MIN_NAME_PART
        ]
    elif kind == "email":
        local = value.split("@")[0]
        if len(local) >= 4:
            alternatives.append((_literal(local), "handle"))
    return alternatives


@lru_cache(maxsize=1024)
def _matcher(values: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    alternatives: list[tuple[str, str]] = []
    for value in values:
        alternatives += _alternatives(value)
    if not alternatives:
        return None
    # Longest first, so a full name wins over one of its parts at the same position.
    alternatives.sort(key=lambda a: -len(a[0]))
    pattern = "|".join(f"(?P<k{i}>{p})" for i, (p, _) in enumerate(alternatives))
    return re.compile(pattern, re.IGNORECASE), tuple(kind for _, kind in alternatives)


def find_known(text: str, known_values: Iterable[str]) -> list[Span]:
    values = tuple(sorted({v.strip() for v in known_values if v and len(v.strip()) >= 2}))
    if not values:
        return []
    matcher = _matcher(values)
    if matcher is None:
        return []
    pattern, kinds = matcher
    return [(m.start(), m.end(), kinds[int(m.lastgroup[1:])]) for m in pattern.finditer(text)]
