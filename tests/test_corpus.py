"""Runs the policy engine over the independent labelled corpus (tests/corpus/labelled.jsonl).

The corpus is written by a different hand from the rules, so these figures measure the rules
against cases they were not tuned on. Labels are never changed to make the engine pass: when a
test here fails, the assertion message lists every miss (id, expected labels, text) for the rules
author. See tests/corpus/README.md for how labels are decided.

Only the engine tests skip, and only when ``policy.Engine`` cannot be imported (the engine is
written concurrently). The well-formedness test always runs.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from policy.types import AuthorKind, Category, Channel, Severity, Suppression

CORPUS = Path(__file__).parent / "corpus" / "labelled.jsonl"

MIN_ROWS = 300
RECALL_MIN = 0.95
FALSE_POSITIVE_MAX = 0.05
CATEGORY_RECALL_MIN = 0.90

VALID_LABELS = {c.value for c in Category}
CORPUS_CHANNELS = {"counselling", "group_chat", "discussion_board"}
ROW_KEYS = {"id", "text", "labels", "channel", "conversation_id", "note"}


def load_corpus() -> list[dict]:
    rows = []
    with CORPUS.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                row = json.loads(line)
                row["_line"] = n
                rows.append(row)
    return rows


def _show(row: dict, extra: str = "") -> str:
    text = row["text"].replace("\n", " ")
    if len(text) > 180:
        text = text[:177] + "..."
    labels = ",".join(row["labels"]) or "-"
    conv = f" conv={row['conversation_id']}" if row.get("conversation_id") else ""
    return f"  {row['id']} [{labels}]{conv}{extra}: {text}"


def _misses_message(title: str, lines: list[str]) -> str:
    return f"{title} ({len(lines)} rows):\n" + "\n".join(lines)


# --------------------------------------------------------------------------- corpus shape


def test_corpus_is_well_formed():
    rows = load_corpus()
    problems: list[str] = []
    assert len(rows) >= MIN_ROWS, f"corpus has {len(rows)} rows, expected >= {MIN_ROWS}"

    ids = Counter(r.get("id") for r in rows)
    problems += [f"duplicate id {i!r} x{n}" for i, n in ids.items() if n > 1]

    for r in rows:
        where = f"line {r['_line']} ({r.get('id')!r})"
        keys = set(r) - {"_line"}
        if unknown := keys - ROW_KEYS:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(r.get("id"), str) or not r["id"]:
            problems.append(f"{where}: id must be a non-empty string")
        if not isinstance(r.get("text"), str) or not r["text"].strip():
            problems.append(f"{where}: text must be a non-empty string")
        labels = r.get("labels")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            problems.append(f"{where}: labels must be a list of strings")
        else:
            if bad := set(labels) - VALID_LABELS:
                problems.append(f"{where}: invalid labels {sorted(bad)}")
            if len(set(labels)) != len(labels):
                problems.append(f"{where}: repeated label")
        if r.get("channel") not in CORPUS_CHANNELS:
            problems.append(f"{where}: invalid channel {r.get('channel')!r}")
        for opt in ("conversation_id", "note"):
            if opt in r and not (isinstance(r[opt], str) and r[opt]):
                problems.append(f"{where}: {opt} must be a non-empty string when present")

    texts = Counter(r.get("text") for r in rows)
    problems += [f"duplicate text x{n}: {t[:80]!r}" for t, n in texts.items() if n > 1]

    # Every category is represented, and there are both positives and negatives.
    label_counts = Counter(lab for r in rows for lab in r.get("labels") or [])
    problems += [f"no rows labelled {c}" for c in sorted(VALID_LABELS) if not label_counts[c]]
    if not any(not r.get("labels") for r in rows):
        problems.append("no negative rows")

    assert not problems, _misses_message("corpus problems", problems)


def test_corpus_conversations_are_contiguous():
    """A conversation's turns are consecutive lines, so file order is turn order."""
    rows = load_corpus()
    seen_closed: set[str] = set()
    current = None
    problems = []
    for r in rows:
        cid = r.get("conversation_id")
        if cid != current:
            if current is not None:
                seen_closed.add(current)
            if cid in seen_closed:
                problems.append(f"{r['id']}: conversation {cid} resumes after other rows")
            current = cid
    sizes = Counter(r["conversation_id"] for r in rows if r.get("conversation_id"))
    problems += [f"conversation {c} has {n} turn(s)" for c, n in sizes.items() if n < 2]
    assert not problems, _misses_message("conversation problems", problems)


# --------------------------------------------------------------------------- engine runs


def _import_engine():
    try:
        from policy import Engine
    except ImportError as exc:  # the engine is being written concurrently
        pytest.skip(f"policy.Engine is not importable yet: {exc}")
    return Engine


def _new_conversation(conversation_id: str):
    from policy import Conversation

    try:
        return Conversation()
    except TypeError:
        pass
    try:
        return Conversation(conversation_id)
    except TypeError:
        return Conversation(id=conversation_id)


@dataclass
class Outcome:
    row: dict
    escalate: bool
    categories: tuple
    severity: object
    suppressed: object


def _run(engine, rows, *, channel=None, author=AuthorKind.YOUNG_PERSON) -> list[Outcome]:
    """Assess rows in file order, one Conversation per conversation_id."""
    conversations: dict[str, object] = {}
    out = []
    for row in rows:
        conv = None
        cid = row.get("conversation_id")
        if cid:
            conv = conversations.get(cid)
            if conv is None:
                conv = conversations[cid] = _new_conversation(cid)
        a = engine.assess(
            row["text"],
            channel=channel if channel is not None else Channel(row["channel"]),
            author=author,
            conversation=conv,
        )
        out.append(Outcome(row, bool(a.escalate), tuple(a.categories), a.severity, a.suppressed))
    return out


@pytest.fixture(scope="module")
def engine():
    Engine = _import_engine()
    return Engine.default()


@pytest.fixture(scope="module")
def rows():
    return load_corpus()


@pytest.fixture(scope="module")
def outcomes(engine, rows):
    return _run(engine, rows)


def _cats(o: Outcome) -> str:
    return ",".join(str(getattr(c, "value", c)) for c in o.categories) or "-"


def test_recall_over_positives(outcomes):
    positives = [o for o in outcomes if o.row["labels"]]
    missed = [o for o in positives if not o.escalate]
    recall = 1 - len(missed) / len(positives)
    hit = len(positives) - len(missed)
    print(f"\n[corpus] recall {recall:.3f} ({hit}/{len(positives)} positives escalated)")
    assert recall >= RECALL_MIN, _misses_message(
        f"recall {recall:.3f} < {RECALL_MIN}; positives not escalated", [_show(o.row) for o in missed]
    )


def test_false_positive_rate_over_negatives(outcomes):
    negatives = [o for o in outcomes if not o.row["labels"]]
    wrong = [o for o in negatives if o.escalate]
    fpr = len(wrong) / len(negatives)
    print(f"\n[corpus] false-positive rate {fpr:.3f} ({len(wrong)}/{len(negatives)} negatives escalated)")
    assert fpr <= FALSE_POSITIVE_MAX, _misses_message(
        f"false-positive rate {fpr:.3f} > {FALSE_POSITIVE_MAX}; negatives escalated",
        [_show(o.row, f" -> {_cats(o)}") for o in wrong],
    )


def test_category_recall(outcomes):
    """Each expected label of a positive row must be among the assessment's categories."""
    total = hit = 0
    per: dict[str, list[int]] = {c.value: [0, 0] for c in Category}
    misses = []
    for o in outcomes:
        got = {str(getattr(c, "value", c)) for c in o.categories}
        lacking = [lab for lab in o.row["labels"] if lab not in got]
        for lab in o.row["labels"]:
            total += 1
            per[lab][1] += 1
            if lab in got:
                hit += 1
                per[lab][0] += 1
        if lacking:
            misses.append(_show(o.row, f" -> got {_cats(o)}, lacking {','.join(lacking)}"))
    recall = hit / total
    breakdown = ", ".join(f"{c} {h}/{n}" for c, (h, n) in per.items())
    print(f"\n[corpus] category recall {recall:.3f} ({hit}/{total}); {breakdown}")
    assert recall >= CATEGORY_RECALL_MIN, _misses_message(
        f"category recall {recall:.3f} < {CATEGORY_RECALL_MIN}; expected categories missing", misses
    )


def test_assessments_are_consistent(outcomes):
    """Contract: severity is null exactly when not escalating; categories empty when not escalating."""
    bad = []
    for o in outcomes:
        if o.escalate and (o.severity is None or not o.categories):
            bad.append(_show(o.row, f" escalate with severity={o.severity} categories={_cats(o)}"))
        if not o.escalate and (o.severity is not None or o.categories):
            bad.append(_show(o.row, f" no escalation but severity={o.severity} categories={_cats(o)}"))
        if o.severity is not None and not isinstance(o.severity, Severity):
            bad.append(_show(o.row, f" severity {o.severity!r} is not a Severity"))
    assert not bad, _misses_message("inconsistent assessments", bad)


def test_chatbot_channel_never_escalates(engine, rows):
    """Policy: nothing said to the Chatbot is acted on, however alarming."""
    results = _run(engine, rows, channel=Channel.CHATBOT)
    escalated = [o for o in results if o.escalate or o.categories]
    print(f"\n[corpus] chatbot replay: {len(escalated)}/{len(results)} escalated")
    assert not escalated, _misses_message(
        "rows escalated on the chatbot channel", [_show(o.row, f" -> {_cats(o)}") for o in escalated]
    )
    unsuppressed = [o for o in results if o.suppressed != Suppression.CHATBOT]
    assert not unsuppressed, _misses_message(
        "chatbot rows not marked suppressed=chatbot",
        [_show(o.row, f" suppressed={o.suppressed!r}") for o in unsuppressed],
    )


def test_bot_author_never_escalates(engine, rows):
    """Messages written by a bot are never assessed, on any channel."""
    results = _run(engine, rows, author=AuthorKind.BOT)
    escalated = [o for o in results if o.escalate or o.categories]
    print(f"\n[corpus] bot-author replay: {len(escalated)}/{len(results)} escalated")
    assert not escalated, _misses_message(
        "rows escalated with author=bot", [_show(o.row, f" -> {_cats(o)}") for o in escalated]
    )
    unsuppressed = [o for o in results if o.suppressed != Suppression.BOT_AUTHOR]
    assert not unsuppressed, _misses_message(
        "bot-authored rows not marked suppressed=bot_author",
        [_show(o.row, f" suppressed={o.suppressed!r}") for o in unsuppressed],
    )
