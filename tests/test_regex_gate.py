"""The signal gates (policy/regex_gate.py) only ever save work: a gated signal finds exactly the matches
plain ``finditer`` finds. A gate that skipped a position a signal could match at would silently miss a
disclosure, so this is checked for every signal of the live rules over real and generated texts."""
from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy.engine import Engine, _anchored
from policy.normalise import normalise
from policy.regex_gate import GateIndex, gate_for

ENGINE = Engine.default()
SIGNALS = ENGINE._signals
CORPUS = Path(__file__).parent / "corpus"


def _corpus_texts() -> list[str]:
    texts = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


TEXTS = [normalise(t).text for t in _corpus_texts()]
VOCAB = sorted({w for t in TEXTS for w in t.split()})


def _gated_spans(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every signal's matches found the way the engine finds them: through its gate."""
    candidates = SIGNALS.index.lookup(text)
    out = {}
    for entries in SIGNALS.by_family.values():
        for signal, gate, anchored, needs in entries:
            if gate is None:
                found = [] if needs is not None and needs.search(text) is None else list(signal.pattern.finditer(text))
            elif gate not in candidates:
                found = []
            elif anchored:
                found = _anchored(signal.pattern, text, candidates[gate])
            else:
                found = list(signal.pattern.finditer(text))
            out[signal.name + "/" + signal.pattern.pattern] = [m.span() for m in found]
    return out


def _plain_spans(text: str) -> dict[str, list[tuple[int, int]]]:
    return {
        signal.name + "/" + signal.pattern.pattern: [m.span() for m in signal.pattern.finditer(text)]
        for entries in SIGNALS.by_family.values()
        for signal, *_ in entries
    }


def test_every_signal_finds_the_same_matches_through_its_gate_on_every_corpus_text():
    assert len(TEXTS) > 4000
    matched = 0
    for text in TEXTS:
        plain = _plain_spans(text)
        assert _gated_spans(text) == plain, text
        matched += sum(map(len, plain.values()))
    assert matched > 1000  # the comparison covered many real matches, not just empty lists


@st.composite
def _shuffled_text(draw) -> str:
    """Corpus words in new orders, with stray punctuation, apostrophes and emoji between them."""
    words = draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=40))
    glue = st.sampled_from([" ", " ", " ", ", ", ". ", "'", "-", "\n", " \U0001f52a ", "  ", "!"])
    return "".join(w + draw(glue) for w in words).strip()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_shuffled_text())
def test_gates_never_skip_a_match_on_generated_texts(text: str):
    assert _gated_spans(text) == _plain_spans(text)


def test_a_gate_names_the_strings_a_match_must_start_with():
    pattern = re.compile(r"(?<![a-z0-9'])(?:kill|end) (?:myself|it all)(?![a-z0-9])")
    gate = gate_for(pattern)
    assert gate is not None and gate.anchored
    assert all(p.startswith(("kill", "end ")) for p in gate.prefixes)
    index = GateIndex([gate])
    assert index.lookup("i will end it all, not kill time") == {0: [7]}
    assert index.lookup("weekend it all") == {}  # "end" inside a word is no start


def test_a_pattern_without_a_whole_word_start_is_not_gated():
    assert gate_for(re.compile(r"kill (?:myself|me)")) is None
    assert gate_for(re.compile(r"(?<![a-z0-9'])(?i:kill)")) is None  # case-folding is not understood


def test_the_scan_reports_every_gate_whose_prefix_is_there_not_only_the_longest():
    short = gate_for(re.compile(r"(?<![a-z0-9'])ab(?:c|x)"))
    long = gate_for(re.compile(r"(?<![a-z0-9'])abcdefgh"))
    assert short is not None and long is not None
    found = GateIndex([short, long]).lookup("zz abcdefgh")
    assert found == {0: [3], 1: [3]}
