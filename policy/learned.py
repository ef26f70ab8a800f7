"""A learned second opinion: a linear model over word and word-pair features.

The rules (rules.toml) say *why* in words a safeguarding lead can review; they generalise to new
phrasings only as far as their authors foresaw. This model is trained on the project's own labelled
corpora (tools/train_learned.py) and catches risk phrased in ways no rule names yet. It is used only
where the rules stay quiet, never on chatbot or bot messages, and never where a message-wide guard
(a recovery story, fiction) holds. Its decision is still explainable: the indicators are the word
features that pushed the score up most, with their spans.

Everything here is plain Python and data: the weights live in learned_model.json beside the rules.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

_WORD = re.compile(r"[a-z0-9']+")


def features(text: str) -> dict[str, float]:
    """Word and adjacent-word-pair counts of a normalised text."""
    words = _WORD.findall(text)
    counts: dict[str, float] = {}
    for i, token in enumerate(words):
        counts[token] = counts.get(token, 0.0) + 1.0
        if i:
            pair = words[i - 1] + " " + token
            counts[pair] = counts.get(pair, 0.0) + 1.0
    return counts


def feature_span(text: str, feature: str) -> tuple[int, int]:
    """Where a word or word pair first occurs in the text (for the indicators staff see)."""
    parts = feature.split(" ")
    pattern = r"(?<![a-z0-9'])" + r"[^a-z0-9']+".join(re.escape(p) for p in parts) + r"(?![a-z0-9'])"
    m = re.search(pattern, text)
    return (m.start(), m.end()) if m else (0, 0)


def vector(counts: dict[str, float], idf: dict[str, float]) -> dict[str, float]:
    """Sublinear tf-idf, L2-normalised; features the model has never seen are dropped."""
    out = {f: (1.0 + math.log(c)) * idf[f] for f, c in counts.items() if f in idf}
    norm = math.sqrt(sum(v * v for v in out.values()))
    return {f: v / norm for f, v in out.items()} if norm else out


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@dataclass(frozen=True, slots=True)
class LearnedScore:
    probability: float  # that the message meets some trigger
    categories: dict[str, float]  # per category
    evidence: tuple[tuple[str, int, int], ...]  # the features that pushed the score up most, with spans


class LearnedModel:
    def __init__(self, data: dict):
        self.version: str = data["version"]
        self.idf: dict[str, float] = data["idf"]
        self.bias: dict[str, float] = data["bias"]
        self.weights: dict[str, dict[str, float]] = data["weights"]
        self.categories = tuple(k for k in self.weights if k != "any")

    @classmethod
    def load(cls, path: Path) -> LearnedModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def score(self, text: str, *, evidence: int = 3, floor: float = 0.0) -> LearnedScore:
        x = vector(features(text), self.idf)
        weights = self.weights["any"]
        z = self.bias["any"]
        contributions: list[tuple[float, str]] = []
        for f, v in x.items():
            w = weights.get(f)
            if w is not None:
                z += w * v
                if w > 0:
                    contributions.append((w * v, f))
        probability = sigmoid(z)
        if probability < floor:
            # Most messages stop here: the category models are only needed for a positive view.
            return LearnedScore(probability, {}, ())
        probs = {}
        for name in self.categories:
            cat_weights = self.weights[name]
            probs[name] = sigmoid(self.bias[name] + sum(cat_weights.get(f, 0.0) * v for f, v in x.items()))
        contributions.sort(reverse=True)
        top = tuple((f, *feature_span(text, f)) for _, f in contributions[:evidence])
        return LearnedScore(probability, probs, top)
