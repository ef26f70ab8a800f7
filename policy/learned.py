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
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
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
    """Where a word or word pair first occurs as whole words in the text (for staff's indicators)."""
    first, _, second = feature.partition(" ")
    for m in _WORD.finditer(text):
        if m.group(0) != first:
            continue
        if not second:
            return m.start(), m.end()
        nxt = _WORD.search(text, m.end())
        if nxt is not None and nxt.group(0) == second:
            return m.start(), nxt.end()
    return 0, 0


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
        any_weights = self.weights["any"]
        self._any = {f: (idf, any_weights.get(f, 0.0)) for f, idf in self.idf.items()}

    @classmethod
    def load(cls, path: Path) -> LearnedModel:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def _known(self, text: str) -> Counter[str]:
        """Counts of the words and word pairs here that the model knows (the rest weigh nothing)."""
        table = self._any
        words = _WORD.findall(text)
        known = [w for w in words if w in table]
        if len(words) > 1:
            known += [pair for pair in map(" ".join, pairwise(words)) if pair in table]
        return Counter(known)

    def probability(self, text: str) -> float:
        """That the message meets some trigger: the tf-idf vector's length and its dot product with
        the "any" weights, without building the vector (the cheap test most messages end at)."""
        table = self._any
        dot = 0.0
        squares = 0.0
        for f, c in self._known(text).items():
            idf, w = table[f]
            v = idf if c == 1 else (1.0 + math.log(c)) * idf
            squares += v * v
            dot += v * w
        return sigmoid(self.bias["any"] + (dot / math.sqrt(squares) if squares else 0.0))

    def score(self, text: str, *, evidence: int = 3) -> LearnedScore:
        """The overall probability, each category's, and the evidence (the engine asks only once the
        cheap `probability` has reached its threshold)."""
        probability = self.probability(text)
        x = vector(self._known(text), self.idf)
        weights = self.weights["any"]
        contributions = sorted(((weights.get(f, 0.0) * v, f) for f, v in x.items()), reverse=True)
        probs = {}
        for name in self.categories:
            cat_weights = self.weights[name]
            probs[name] = sigmoid(self.bias[name] + sum(cat_weights.get(f, 0.0) * v for f, v in x.items()))
        top = tuple((f, *feature_span(text, f)) for w, f in contributions[:evidence] if w > 0)
        return LearnedScore(probability, probs, top)
