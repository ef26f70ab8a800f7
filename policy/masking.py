"""Masked identity values: enough shape for staff to tell two people apart in Slack, never the value.

Rules (• hides a character; the shapes are fixed so a mask never reveals a value's length):

| kind            | shown                                         | example                         |
|-----------------|-----------------------------------------------|---------------------------------|
| phone           | last 3 digits (needs 7+ digits)               | `•••• ••• •123`                 |
| email           | first letter; TLD when 2 letters (country)    | `j•••@•••.uk`, `j•••@•••.•••`   |
| name, school    | initial of each word, at most 3 words         | `E••• W•••`                     |
| handle          | first character after any "@"                 | `@m•••`                         |
| date_of_birth   | nothing                                       | `••/••/••••`                    |
| ip_address      | last 2 digits of an IPv4 / hex of an IPv6     | `•••.•••.•••.•44`, `••••:…:••1f`|
| postcode        | the area letters                              | `SW•• •••`                      |
| anything else   | nothing                                       | `••••`                          |

Whatever the rule, the result never contains the whole value nor any 4 consecutive characters of it
(compared case-insensitively): `_safe` falls back to `••••` if a rule ever would. Values made of "•"
themselves cannot be masked meaningfully and are out of scope.
"""
from __future__ import annotations

import ipaddress
import re

HIDDEN = "••••"
_MAX_INITIALS = 3
_MIN_PHONE_DIGITS = 7
_LEAK_WINDOW = 4
_AREA = re.compile(r"^[A-Za-z]{1,2}(?=\d)")


def _mask_phone(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) < _MIN_PHONE_DIGITS:
        return HIDDEN
    return "•••• ••• •" + "".join(digits[-3:])


def _mask_email(value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return HIDDEN
    tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
    shown_tld = tld.lower() if len(tld) == 2 and tld.isalpha() else "•••"
    return f"{local[0]}•••@•••.{shown_tld}"


def _mask_words(value: str) -> str:
    words = [w for w in re.split(r"[\s\-]+", value.strip()) if w and w[0].isalnum()]
    if not words:
        return HIDDEN
    return " ".join(f"{w[0].upper()}•••" for w in words[:_MAX_INITIALS])


def _mask_handle(value: str) -> str:
    handle = value.strip()
    prefix = "@" if handle.startswith("@") else ""
    handle = handle.lstrip("@")
    return f"{prefix}{handle[0]}•••" if handle else HIDDEN


def _mask_ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return HIDDEN
    if address.version == 4:
        return "•••.•••.•••.•" + str(address).rsplit(".", 1)[-1][-2:]
    return "••••:••••:…:••" + address.exploded.rsplit(":", 1)[-1][-2:]


def _mask_postcode(value: str) -> str:
    area = _AREA.match(value.strip())
    return f"{area.group().upper()}•• •••" if area else HIDDEN


_RULES = {
    "phone": _mask_phone,
    "email": _mask_email,
    "name": _mask_words,
    "school": _mask_words,
    "handle": _mask_handle,
    "date_of_birth": lambda _value: "••/••/••••",
    "ip_address": _mask_ip,
    "postcode": _mask_postcode,
}


def _leaks(value: str, masked: str) -> bool:
    value, masked = value.lower(), masked.lower()
    if value in masked:
        return True
    return any(value[i:i + _LEAK_WINDOW] in masked for i in range(len(value) - _LEAK_WINDOW + 1))


def mask(kind: str, value: str) -> str:
    """The masked form of an identity value of `kind` (see the module's table); `••••` if unknown."""
    rule = _RULES.get(kind)
    if rule is None or not value:
        return HIDDEN
    masked = rule(value)
    return HIDDEN if _leaks(value, masked) else masked
