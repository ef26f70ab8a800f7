"""Hold-out stress corpus (tests/corpus/holdout.jsonl).

Written independently of the rules, the main labelled corpus and the shared dev set. It leans on
what public text is full of: long reflective posts about past self-harm, recovery, grief and abuse
dealt with years ago; fiction and lyrics; history, news and true crime; programming, gaming and
sport jargon; slang and hyperbole in several dialects. Its positives are written indirectly
(algospeak, misspelling, voice-to-text, non-native English, disclosures buried in long messages,
third-party reports, polite or sarcastic threats, euphemistic terrorism). Thresholds are looser
than the main corpus because this set is a stress test.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from policy import Conversation, Engine
from policy.types import AuthorKind, Channel

HOLDOUT = Path(__file__).parent / "corpus" / "holdout.jsonl"
CATEGORIES = {"life_in_danger", "harming_others", "threat_to_staff", "position_of_trust", "terrorism"}
CHANNELS = {"counselling", "group_chat", "discussion_board"}
MIN_RECALL = 0.90
MAX_FPR = 0.08


def _rows() -> list[dict]:
    with HOLDOUT.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@cache
def _engine() -> Engine:
    return Engine.default()


def _replay(rows: list[dict], channel: Channel | None = None) -> list:
    """Assess rows in order, one Conversation per conversation_id."""
    engine = _engine()
    conversations: dict[str, Conversation] = {}
    out = []
    for row in rows:
        cid = row.get("conversation_id")
        conv = conversations.setdefault(cid, Conversation()) if cid else None
        out.append(
            engine.assess(
                row["text"],
                channel=channel or Channel(row["channel"]),
                author=AuthorKind.YOUNG_PERSON,
                conversation=conv,
            )
        )
    return out


def _short(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def test_holdout_well_formed() -> None:
    rows = _rows()
    assert len(rows) >= 300, len(rows)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    seen_done: set[str] = set()
    previous_cid = None
    for r in rows:
        assert set(r) <= {"id", "text", "labels", "channel", "conversation_id", "note"}, r["id"]
        assert isinstance(r["text"], str) and r["text"].strip(), r["id"]
        assert isinstance(r["labels"], list), r["id"]
        assert set(r["labels"]) <= CATEGORIES, r["id"]
        assert len(r["labels"]) == len(set(r["labels"])), r["id"]
        assert r["channel"] in CHANNELS, r["id"]
        cid = r.get("conversation_id")
        # a conversation's turns are consecutive lines
        if cid != previous_cid and previous_cid is not None:
            seen_done.add(previous_cid)
        assert cid is None or cid not in seen_done, f"{r['id']}: conversation {cid} is split"
        previous_cid = cid
    positives = sum(1 for r in rows if r["labels"])
    assert 0.30 <= positives / len(rows) <= 0.50, positives / len(rows)
    assert len({r["conversation_id"] for r in rows if r.get("conversation_id")}) >= 8


def test_holdout_recall_and_false_positive_rate() -> None:
    rows = _rows()
    results = _replay(rows)
    misses, false_pos, wrong_cat = [], [], []
    tp = fp = pos = neg = 0
    for row, a in zip(rows, results, strict=True):
        expected = set(row["labels"])
        got = {c.value for c in a.categories}
        if expected:
            pos += 1
            if a.escalate:
                tp += 1
                if not expected & got:
                    wrong_cat.append(f"  {row['id']} want {sorted(expected)} got {sorted(got)}: {_short(row['text'])}")
            else:
                misses.append(f"  {row['id']} {sorted(expected)}: {_short(row['text'])}")
        else:
            neg += 1
            if a.escalate:
                fp += 1
                false_pos.append(f"  {row['id']} got {sorted(got)}: {_short(row['text'])}")
    recall = tp / pos
    fpr = fp / neg
    summary = (
        f"holdout: {len(rows)} rows, {pos} positive, {neg} negative; "
        f"recall {recall:.3f} ({tp}/{pos}), false-positive rate {fpr:.3f} ({fp}/{neg}), "
        f"right category among escalated positives {tp - len(wrong_cat)}/{tp}"
    )
    print(summary)
    detail = "\n".join(
        [summary, f"misses ({len(misses)}):", *misses, f"false positives ({len(false_pos)}):", *false_pos]
        + ([f"escalated under another category ({len(wrong_cat)}):", *wrong_cat] if wrong_cat else [])
    )
    print(detail)
    assert recall >= MIN_RECALL and fpr <= MAX_FPR, detail


def test_holdout_never_escalates_on_chatbot() -> None:
    rows = _rows()
    results = _replay(rows, channel=Channel.CHATBOT)
    escalated = [f"  {r['id']}: {_short(r['text'])}" for r, a in zip(rows, results, strict=True) if a.escalate]
    assert not escalated, "chatbot messages escalated:\n" + "\n".join(escalated)


@pytest.mark.parametrize("field", ["labels", "channel"])
def test_holdout_has_variety(field: str) -> None:
    rows = _rows()
    if field == "labels":
        counts = Counter(label for r in rows for label in r["labels"])
        assert set(counts) == CATEGORIES and min(counts.values()) >= 10, counts
    else:
        counts = Counter(r["channel"] for r in rows)
        assert set(counts) == CHANNELS, counts
