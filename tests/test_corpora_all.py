"""Every labelled corpus, through the whole engine (rules + learned second opinion).

These corpora also train the learned model, so the figures here are in-sample: the floors below are
regression guards (a change that loses ground on any corpus fails), not claims about unseen writing.
The honest measure is `python tools/train_learned.py --evaluate` (see benchmarks/RESULTS.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy import Conversation, Engine
from policy.types import Channel

CORPORA = Path(__file__).parent / "corpus"
# recall floor, false-positive ceiling; the two hardest sets were written to defeat the engine;
# corpus_i labels the alarming openers of conversations that are resolved later as negatives, with
# hindsight a turn-by-turn reader cannot have (see corpus/README.md); corpus_j's voices are the rarest.
FLOORS = {"corpus_d": (0.95, 0.05), "corpus_e": (0.93, 0.03), "corpus_i": (0.88, 0.12), "corpus_j": (0.95, 0.05),
          # corpus_l and corpus_m were written to be indirect and veiled, with near-twin negatives.
          "corpus_l": (0.88, 0.17), "corpus_m": (0.93, 0.06),
          # corpus_n: long public posts, most of them retrospective, a few with a present danger inside.
          "corpus_n": (0.88, 0.09),
          # corpus_o: short teen chat with near-twin negatives; corpus_q: conversations turn by turn.
          "corpus_o": (0.93, 0.05), "corpus_p": (0.92, 0.04), "corpus_q": (0.93, 0.05),
          # corpus_r and corpus_s were the day's last blind checks; nothing in the rules was written from them.
          "corpus_r": (0.88, 0.06), "corpus_s": (0.80, 0.03),
          "corpus_t": (0.92, 0.04), "corpus_u": (0.95, 0.02), "corpus_v": (0.90, 0.06),
          # corpus_w: crisis conversations whose later turns add plain details (the weakest area left).
          "corpus_w": (0.75, 0.05), "corpus_x": (0.88, 0.06)}
DEFAULT = (0.88, 0.03)


@pytest.mark.parametrize("path", sorted(CORPORA.glob("*.jsonl")), ids=lambda p: p.stem)
def test_corpus_holds_its_figures(path: Path) -> None:
    engine = Engine.default()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    conversations: dict[str, Conversation] = {}
    misses, false = [], []
    for row in rows:
        conv = conversations.setdefault(row["conversation_id"], Conversation()) if row.get("conversation_id") else None
        a = engine.assess(row["text"], channel=Channel(row.get("channel", "counselling")), conversation=conv)
        if row["labels"] and not a.escalate:
            misses.append(row["id"])
        if not row["labels"] and a.escalate:
            false.append(row["id"])
    positives = sum(1 for r in rows if r["labels"])
    negatives = len(rows) - positives
    recall = 1 - len(misses) / max(positives, 1)
    fpr = len(false) / max(negatives, 1)
    floor, ceiling = FLOORS.get(path.stem, DEFAULT)
    assert recall >= floor, f"{path.stem}: recall {recall:.3f} < {floor}; missed {misses}"
    assert fpr <= ceiling, f"{path.stem}: false positives {fpr:.3f} > {ceiling}; {false}"
