"""Redaction: every identifying detail in a message replaced by a typed placeholder.

    >>> redact("I'm Liam and my number is 07700 900001").text
    "I'm [NAME] and my number is [PHONE]"

Detectors live in `redaction_patterns` (shaped identifiers), `redaction_names` (names, handles,
schools) and `redaction_known` (values the platform told us). Their spans are merged here: where two
overlap, the union is redacted, so a disagreement between detectors can only hide more, never less.
"""
from __future__ import annotations

from collections.abc import Iterable

from policy.redaction_known import find_known
from policy.redaction_names import find_handles, find_names, find_schools
from policy.redaction_patterns import (
    Span,
    find_addresses,
    find_dates,
    find_emails,
    find_ips,
    find_phones_and_nhs,
    find_postcodes,
)
from policy.redaction_scan import scan
from policy.types import Identifier, Redaction

PLACEHOLDERS: dict[str, str] = {
    "name": "[NAME]",
    "handle": "[HANDLE]",
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "date_of_birth": "[DOB]",
    "postcode": "[POSTCODE]",
    "address": "[ADDRESS]",
    "ip_address": "[IP]",
    "nhs_number": "[NHS_NUMBER]",
    "school": "[SCHOOL]",
}
DEFAULT_PLACEHOLDER = "[REDACTED]"

# When spans of different kinds cover exactly the same text, the more specific kind names it:
# "12.07.2008" is a date before it is a possible phone number.
_PRIORITY: dict[str, int] = {
    kind: rank
    for rank, kind in enumerate(
        ("name", "school", "handle", "address", "phone", "postcode", "date_of_birth", "nhs_number",
         "ip_address", "email")
    )
}


def placeholder(kind: str) -> str:
    return PLACEHOLDERS.get(kind, DEFAULT_PLACEHOLDER)


_DETECTORS = (
    find_emails, find_handles, find_names, find_schools, find_ips, find_addresses, find_phones_and_nhs,
    find_postcodes, find_dates,
)


def _find_all(text: str, known_values: Iterable[str]) -> list[Span]:
    s = scan(text)
    spans = find_known(text, known_values)
    for detect in _DETECTORS:
        spans += detect(s)
    return spans


def _merge(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans in order; overlapping ones become their union, named by the widest."""
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    merged: list[Span] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            m_start, m_end, m_kind = merged[-1]
            if (end - start, _PRIORITY.get(kind, 99)) > (m_end - m_start, _PRIORITY.get(m_kind, 99)):
                m_kind = kind
            merged[-1] = (m_start, max(m_end, end), m_kind)
        else:
            merged.append((start, end, kind))
    return merged


def redact(text: str, known_values: Iterable[str] = ()) -> Redaction:
    """Replace names, handles, emails, phones, dates of birth, postcodes, addresses, IPs, NHS numbers,
    schools and every `known_values` occurrence (case-insensitive) with placeholders such as [NAME].

    Identifier spans refer to the original text and are ordered and non-overlapping.
    """
    spans = _find_all(text, known_values)
    if not spans:
        return Redaction(text)
    merged = _merge(spans)
    parts: list[str] = []
    position = 0
    for start, end, kind in merged:
        parts.append(text[position:start])
        parts.append(placeholder(kind))
        position = end
    parts.append(text[position:])
    identifiers = tuple(Identifier(kind, text[start:end], start, end) for start, end, kind in merged)
    return Redaction("".join(parts), identifiers)
