"""Masks show staff a hint of shape and never the identity value itself."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policy.masking import HIDDEN, mask

KINDS = ["phone", "email", "name", "school", "handle", "date_of_birth", "ip_address", "postcode", "location"]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("phone", "07700 900123", "•••• ••• •123"),
        ("phone", "+44 7700 900123", "•••• ••• •123"),
        ("phone", "(0113) 496-0456", "•••• ••• •456"),
        ("email", "jack_b@hotmail.co.uk", "j•••@•••.uk"),
        ("email", "Maya.D@gmail.com", "M•••@•••.•••"),
        ("name", "Emily Watson", "E••• W•••"),
        ("name", "jess", "J•••"),
        ("name", "Anna-Marie de la Cruz", "A••• M••• D•••"),
        ("school", "Hillside Primary School", "H••• P••• S•••"),
        ("handle", "@maya.dances", "@m•••"),
        ("handle", "sky_blue", "s•••"),
        ("date_of_birth", "2008-07-12", "••/••/••••"),
        ("date_of_birth", "12th July 2008", "••/••/••••"),
        ("ip_address", "192.0.2.44", "•••.•••.•••.•44"),
        ("ip_address", "203.0.113.254", "•••.•••.•••.•54"),
        ("ip_address", "2001:db8::8a2e:370:7334", "••••:••••:…:••34"),
        ("postcode", "SW1A 1AA", "SW•• •••"),
        ("postcode", "s10 2tn", "S•• •••"),
        ("location", "Sheffield", HIDDEN),
        ("address", "7 Park Road", HIDDEN),
    ],
)
def test_mask_rules(kind: str, value: str, expected: str) -> None:
    assert mask(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [("phone", "999"), ("phone", "12345"), ("email", "not-an-email"), ("ip_address", "999.1.1.1"),
     ("postcode", "nowhere"), ("name", "e"), ("handle", "@"), ("nhs_number", "943 476 5919"), ("x", "")],
)
def test_values_too_short_or_malformed_are_fully_hidden(kind: str, value: str) -> None:
    assert mask(kind, value) == HIDDEN


def test_mask_has_a_fixed_shape_so_length_is_not_revealed() -> None:
    assert mask("phone", "07700 900123") == mask("phone", "+44 (0) 7700 900 123")
    assert mask("name", "Al Bo") == mask("name", "Alexandra Bonneville")


def _longest_common_run(value: str, masked: str) -> int:
    value, masked = value.lower(), masked.lower()
    best = 0
    for i in range(len(value)):
        for j in range(i + best + 1, len(value) + 1):
            if value[i:j] not in masked:
                break
            best = j - i
    return best


_chars = st.characters(blacklist_characters="•", blacklist_categories=("Cs",))
_text = st.text(_chars, min_size=1, max_size=40)
_values = st.one_of(
    _text,
    st.emails(),
    st.ip_addresses().map(str),
    st.from_regex(r"\+?[0-9 ()\-]{7,16}", fullmatch=True),
    st.from_regex(r"[A-Z]{1,2}[0-9]{1,2}[A-Z]? ?[0-9][A-Z]{2}", fullmatch=True),
)


@given(kind=st.sampled_from(KINDS), value=_values)
def test_mask_never_reveals_the_value_or_four_characters_of_it(kind: str, value: str) -> None:
    masked = mask(kind, value)
    assert value.lower() not in masked.lower()
    assert _longest_common_run(value, masked) < 4
