"""Redaction: identifying details never survive, risk words always do."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.redaction import redact


def _assert_redacted(text: str, secrets: list[str], placeholder: str) -> str:
    out = redact(text).text
    for secret in secrets:
        assert secret.lower() not in out.lower(), (text, out)
    assert placeholder in out, (text, out)
    return out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("hiya, my name is Oliver Grant and i need help", "Oliver Grant"),
        ("my name's zara", "zara"),
        ("im tyler and nobody listens", "tyler"),
        ("i'm liam and i'm 14", "liam"),
        ("I am Keisha", "Keisha"),
        ("call me Rob please", "Rob"),
        ("this is Priya Patel from the group", "Priya Patel"),
        ("it's Amara again", "Amara"),
        ("please don't tell anyone - Jess", "Jess"),
        ("thanks for listening, love Niamh x", "Niamh"),
        ("my teacher Mr Jones hurts me", "Mr Jones"),
        ("mrs okafor keeps shouting at me", "mrs okafor"),
        ("Dr. Shah said I was fine", "Dr. Shah"),
    ],
)
def test_names_after_cues_are_redacted(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[NAME]")


def test_teacher_title_keeps_the_role_and_the_harm() -> None:
    out = _assert_redacted("my teacher Mr Jones hurts me", ["Jones"], "[NAME]")
    assert out == "my teacher [NAME] hurts me"


@pytest.mark.parametrize(
    "text",
    [
        "I'm scared",
        "I'm going to do it tonight",
        "im so tired of all of it",
        "I am not ok",
        "this is the last time you'll hear from me",
        "it's over",
        "I'm shaking and I can't stop",
        "im suicidal",
        "I miss home",
        "I'm 14",
        "it's my fault",
        "I'm at the bridge",
    ],
)
def test_cues_followed_by_ordinary_words_lose_nothing(text: str) -> None:
    result = redact(text)
    assert result.text == text
    assert result.identifiers == ()


@pytest.mark.parametrize(
    ("text", "keep"),
    [
        ("I'm Liam and I'm 14, I've got pills", ["14", "pills"]),
        ("i'm at the bridge tonight - Sam", ["bridge", "tonight"]),
        ("my teacher Mr Jones hurts me and I'm scared", ["teacher", "hurts", "scared"]),
        ("he has a knife, call 07700 900456", ["knife"]),
        ("meet at 9pm next week by the park", ["9pm", "next week", "park"]),
    ],
)
def test_risk_words_stay(text: str, keep: list[str]) -> None:
    out = redact(text).text
    for word in keep:
        assert word in out, (text, out)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("follow me on tiktok @maya.dances", "@maya.dances"),
        ("my snap is xyz_22", "xyz_22"),
        ("insta: foo_bar", "foo_bar"),
        ("add me on discord, it's shadow#1234", "shadow#1234"),
        ("my snapchat username is skyblue99", "skyblue99"),
        ("my insta is lunadreams", "lunadreams"),
    ],
)
def test_handles(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[HANDLE]")


@pytest.mark.parametrize("text", ["my snap is private now", "someone on discord is planning something"])
def test_platform_words_followed_by_ordinary_words_are_kept(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my email is jack_b@hotmail.co.uk", "jack_b@hotmail.co.uk"),
        ("Email: Sam.Taylor+help@Example.ORG thanks", "Sam.Taylor+help@Example.ORG"),
        ("reach me at a.b-c@uni.ac.uk.", "a.b-c@uni.ac.uk"),
    ],
)
def test_emails(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[EMAIL]")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my number is 07700 900001, i've taken pills", "07700 900001"),
        ("call 07700900002", "07700900002"),
        ("+447700900003 is my mobile", "+447700900003"),
        ("landline 0113 496 0000", "0113 496 0000"),
        ("ring (0113) 496-0001 after 6", "(0113) 496-0001"),
        ("text +44 7700 900 004 now", "+44 7700 900 004"),
        ("my cousin in paris is +33 6 12 34 56 78", "+33 6 12 34 56 78"),
        ("us number +1 (555) 123-4567", "+1 (555) 123-4567"),
        ("0044 7700 900005 is mine, I'm 15", "0044 7700 900005"),
    ],
)
def test_phones(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[PHONE]")


def test_a_phone_number_does_not_swallow_the_age_after_it() -> None:
    assert redact("07700 900001 14 years old").text == "[PHONE] 14 years old"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("born on 12/07/2008", "12/07/2008"),
        ("dob 12-7-08", "12-7-08"),
        ("my date of birth is 5th June 2009", "5th June 2009"),
        ("June 5 2009 is when I was born", "June 5 2009"),
        ("born 2009-06-05", "2009-06-05"),
        ("my birthday is 3rd of may", "3rd of may"),
        ("I was born in 2009", "2009"),
        ("born on the 21st of March, 2010", "21st of March, 2010"),
        ("bday: 14/02", "14/02"),
    ],
)
def test_dates_of_birth(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[DOB]")


@pytest.mark.parametrize(
    "text",
    ["meet me tonight at 9pm", "it happened next week", "see you b4 5am", "I've been awake since 3:30",
     "it was 2009 when we moved", "I scored 3-1 on friday"],
)
def test_times_and_bare_years_are_not_dates_of_birth(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postcode SW1A 1AA", "SW1A 1AA"),
        ("i'm in ls6 2ab", "ls6 2ab"),
        ("Manchester M1 1AE", "M1 1AE"),
        ("my postcode starts with LS6", "LS6"),
        ("I live in S10", "S10"),
    ],
)
def test_postcodes(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[POSTCODE]")


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("I live at 7 Park Road and I'm scared", "7 Park Road"),
        ("flat 3, 12 high street", "12 high street"),
        ("we moved to 221b Baker Street last year", "221b Baker Street"),
        ("I live on Mill Lane near the shops", "Mill Lane"),
    ],
)
def test_addresses(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[ADDRESS]")


def test_flat_number_is_redacted_with_the_street() -> None:
    assert redact("flat 3, 12 high street").text == "[ADDRESS]"


@pytest.mark.parametrize(
    "text", ["I spent 14 days on the street", "3 times in a row", "2 nights in the park"]
)
def test_numbers_before_street_words_are_not_addresses(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("ip 192.0.2.44", "192.0.2.44"),
        ("from 203.0.113.7.", "203.0.113.7"),
        ("my ip is 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
        ("::ffff:192.0.2.128 again", "::ffff:192.0.2.128"),
    ],
)
def test_ip_addresses(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[IP]")


def test_invalid_ips_and_times_are_left() -> None:
    assert redact("version 999.1.2.3 at 10:30:45").text == "version 999.1.2.3 at 10:30:45"


@pytest.mark.parametrize("number", ["943 476 5919", "9434765919", "943-476-5919"])
def test_nhs_numbers_with_a_valid_check_digit(number: str) -> None:
    _assert_redacted(f"my nhs number is {number}", [number], "[NHS_NUMBER]")


def test_ten_digits_with_a_bad_check_digit_are_not_nhs_numbers() -> None:
    assert "[NHS_NUMBER]" not in redact("ref 943 476 5918").text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("I go to Hillside Primary School", "Hillside Primary School"),
        ("everyone at st marys academy hates me", "st marys academy"),
        ("I play for Riverside FC", "Riverside FC"),
        ("I'm in year 10 at Oakwood High", "Oakwood High"),
        ("she's at Leeds College of Music", "Leeds College"),
    ],
)
def test_schools_and_clubs(text: str, secret: str) -> None:
    _assert_redacted(text, [secret], "[SCHOOL]")


@pytest.mark.parametrize(
    "text",
    ["school is awful", "I hate my high school", "I go to football club on tuesdays",
     "I'm going to jump off the car park after college", "I'm so high right now"],
)
def test_generic_schools_are_kept(text: str) -> None:
    assert redact(text).text == text


def test_known_values_are_redacted_wherever_they_occur() -> None:
    text = "EMILY here. watson is my surname, ring 07700 900123 or emily.w@example.com"
    result = redact(text, ["Emily Watson", "+44 7700 900123", "emily.w@example.com"])
    assert result.text == "[NAME] here. [NAME] is my surname, ring [PHONE] or [EMAIL]"


def test_known_values_of_unknown_shape_use_the_generic_placeholder() -> None:
    assert redact("I'm near X-17/B now", ["X-17/B"]).text == "I'm near [REDACTED] now"


def test_short_name_parts_are_not_redacted_everywhere() -> None:
    assert redact("me and my mum went out", ["Jo Me"]).text == "me and my mum went out"


def test_spans_point_into_the_original_text() -> None:
    text = "hi im Ruby, call 07700 900001 or ruby@example.com, I live at 7 Park Road S10 2TN"
    result = redact(text)
    kinds = [i.kind for i in result.identifiers]
    assert kinds == ["name", "phone", "email", "address", "postcode"]
    for ident in result.identifiers:
        assert text[ident.start:ident.end] == ident.value
    starts = [i.start for i in result.identifiers]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(result.identifiers, result.identifiers[1:], strict=False))


def test_text_without_identifiers_is_returned_unchanged() -> None:
    text = "i can't do this anymore, nobody would even notice"
    assert redact(text).text == text


_phones = st.builds(
    lambda d, fmt: fmt.format(d[:4], d[4:7], d[7:]),
    st.text("0123456789", min_size=10, max_size=10).map(lambda s: "7" + s[1:]),
    st.sampled_from(["0{}{}{}", "0{} {} {}", "+44{}{}{}", "+44 {} {} {}", "0{}-{}-{}", "(0{}) {} {}",
                     "0044 {} {}{}"]),
)
_emails = st.emails().filter(lambda e: e.isascii() and "@" in e and len(e) < 60)
_ipv4 = st.ip_addresses(v=4).map(str)
_ipv6 = st.ip_addresses(v=6).map(str).filter(lambda s: s.count(":") >= 2 and len(s) > 3)
_postcodes = st.from_regex(
    r"(?:[A-PR-UWYZ][A-HK-Y]?[0-9]|[A-PR-UWYZ][0-9][A-HJKMNPR-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2}", fullmatch=True
)
_dates = st.builds(
    lambda d, m, y, fmt: fmt.format(d=d, m=m, y=y, mon=["January", "March", "June", "Sept", "dec"][m % 5],
                                    yy=str(y)[2:]),
    st.integers(1, 28), st.integers(1, 12), st.integers(1990, 2019),
    st.sampled_from(["{d}/{m}/{y}", "{d:02d}/{m:02d}/{y}", "{d}-{m}-{yy}", "{y}-{m:02d}-{d:02d}",
                     "{d}th {mon} {y}", "{mon} {d} {y}", "{d} {mon} {y}", "{d}.{m}.{y}"]),
)
_templates = st.sampled_from([
    "{}", "hi its me {} please help", "{} is where u can reach me", "i'm scared, {}, and it's late",
    "ok so {}. dont tell anyone", "I've got pills. {}", "my details: {} x",
])


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(secret=st.one_of(_phones, _emails, _ipv4, _ipv6, _postcodes, _dates), template=_templates)
def test_generated_identifiers_never_survive(secret: str, template: str) -> None:
    text = template.format(secret)
    out = redact(text).text
    assert secret.lower() not in out.lower(), (text, out)
    assert "pills" in out or "pills" not in text


_DEV_PII = Path("/work/shared/eval/dev_pii.jsonl")


@pytest.mark.skipif(not _DEV_PII.exists(), reason="shared development set not on this machine")
def test_shared_development_set() -> None:
    for line in _DEV_PII.read_text().splitlines():
        case = json.loads(line)
        out = redact(case["text"]).text
        assert not [p for p in case["pii"] if p.lower() in out.lower()], (case["id"], out)
        assert all(k in out for k in case["keep"]), (case["id"], out)
