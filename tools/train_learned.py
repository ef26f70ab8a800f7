"""Train the learned second opinion (policy/learned_model.json) from the labelled corpora.

    python tools/train_learned.py              # train on tests/corpus/*.jsonl, write the model
    python tools/train_learned.py --evaluate   # leave-one-corpus-out: how it does on a new hand

Plain Python (logistic regression, AdaGrad, L2), no dependencies beyond the project. Corpora are
our own writing; the shared dev set is never trained on, so the scorer stays an honest check.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy.learned import LearnedModel, features, sigmoid, vector  # noqa: E402
from policy.normalise import normalise  # noqa: E402
from policy.rules import load_rules  # noqa: E402
from policy.types import Category  # noqa: E402

CORPORA = ROOT / "tests" / "corpus"
MODEL = ROOT / "policy" / "learned_model.json"


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row["counts"] = features(normalise(row["text"]).text)
    return rows


def fit(rows: list[dict], *, epochs: int = 30, l2: float = 3e-3, min_df: int = 2, seed: int = 7) -> dict:
    df: dict[str, int] = {}
    for row in rows:
        for f in row["counts"]:
            df[f] = df.get(f, 0) + 1
    n = len(rows)
    idf = {f: math.log((1 + n) / (1 + d)) + 1.0 for f, d in df.items() if d >= min_df}
    xs = [vector(row["counts"], idf) for row in rows]
    targets = {"any": [1.0 if row["labels"] else 0.0 for row in rows]}
    for cat in Category:
        targets[cat.value] = [1.0 if cat.value in row["labels"] else 0.0 for row in rows]
    weights, bias = {}, {}
    for name, ys in targets.items():
        pos = sum(ys) or 1.0
        # Balanced classes: a missed escalation costs as much in training as a false alarm.
        cw = {1.0: n / (2 * pos), 0.0: n / (2 * max(n - pos, 1.0))}
        w: dict[str, float] = {}
        g2: dict[str, float] = {}
        b, gb = 0.0, 1e-8
        order = list(range(n))
        rng = random.Random(seed)
        for _ in range(epochs):
            rng.shuffle(order)
            for i in order:
                x, y = xs[i], ys[i]
                z = b + sum(w.get(f, 0.0) * v for f, v in x.items())
                err = (sigmoid(z) - y) * cw[y]
                for f, v in x.items():
                    g = err * v + l2 * w.get(f, 0.0)
                    g2[f] = g2.get(f, 1e-8) + g * g
                    w[f] = w.get(f, 0.0) - 0.5 * g / math.sqrt(g2[f])
                gb += err * err
                b -= 0.5 * err / math.sqrt(gb)
        weights[name] = {f: round(v, 5) for f, v in w.items() if abs(v) >= 1e-3}
        bias[name] = round(b, 5)
    used = set().union(*(set(w) for w in weights.values()))
    return {"idf": {f: round(v, 5) for f, v in idf.items() if f in used}, "weights": weights, "bias": bias}


def evaluate(sets: dict[str, list[dict]]) -> None:
    """Leave one corpus out: train on the others, then run the whole engine (rules + that model)
    on it, beside the rules alone. The rules were written with most corpora in view, so the rules-only
    figures flatter them; the gain from the model is the honest part."""
    from policy import Conversation, Engine
    from policy.types import Channel

    print("leave-one-corpus-out: rules alone -> rules + learned model trained without that corpus")
    for held, test in sets.items():
        rules = load_rules()
        assert rules.learned is not None
        fold = LearnedModel({"version": "eval", **fit([r for n, rows in sets.items() if n != held for r in rows])})
        engine = Engine(replace(rules, learned=replace(rules.learned, model=fold)))
        counts = {"tp": 0, "fp": 0, "tp_rules": 0, "fp_rules": 0}
        pos = sum(1 for r in test if r["labels"])
        for mode in ("rules", "both"):
            convs: dict[str, Conversation] = {}
            for row in test:
                conv = convs.setdefault(row["conversation_id"], Conversation()) if row.get("conversation_id") else None
                hit = engine.assess(row["text"], channel=Channel(row.get("channel", "counselling")),
                                    conversation=conv, learned=mode == "both").escalate
                key = ("tp" if row["labels"] else "fp") + ("_rules" if mode == "rules" else "")
                counts[key] += hit
        neg = len(test) - pos
        print(f"  {held:10s} recall {counts['tp_rules'] / max(pos, 1):.3f} -> {counts['tp'] / max(pos, 1):.3f}   "
              f"false positives {counts['fp_rules'] / max(neg, 1):.3f} -> {counts['fp'] / max(neg, 1):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--evaluate", action="store_true")
    args = parser.parse_args()
    sets = {p.stem: load(p) for p in sorted(CORPORA.glob("*.jsonl"))}
    if args.evaluate:
        evaluate(sets)
        return
    rows = [r for rows in sets.values() for r in rows]
    model = fit(rows)
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:12]
    model = {"version": f"lr-{digest}", "trained_on": sorted(sets), "rows": len(rows), **model}
    MODEL.write_text(json.dumps(model, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {MODEL.relative_to(ROOT)}: {model['version']}, {len(rows)} rows, "
          f"{len(model['idf'])} features")


if __name__ == "__main__":
    main()
