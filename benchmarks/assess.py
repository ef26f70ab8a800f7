"""Throughput and latency of assess + redact on one core, excluding start-up.

Plain script: `python benchmarks/assess.py [--seconds 5] [--all]`. Messages are the project's first
two labelled corpora (tests/corpus/labelled.jsonl and holdout.jsonl: 900 chat messages and forum
posts), a fixed input so figures stay comparable as corpora are added; `--all` replays every corpus.
Each message is assessed with a conversation context as the service does.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

from policy import Conversation, Engine
from policy.types import Channel

FIXED = ("labelled.jsonl", "holdout.jsonl")


def load_messages(everything: bool = False) -> list[tuple[str, Channel, str | None]]:
    rows = []
    folder = Path(__file__).parent.parent / "tests" / "corpus"
    paths = sorted(folder.glob("*.jsonl")) if everything else [folder / name for name in FIXED]
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((row["text"], Channel(row.get("channel", "counselling")), row.get("conversation_id")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--all", action="store_true", help="replay every corpus, not the fixed two")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core, as the issue asks
    engine = Engine.default()
    messages = load_messages(args.all)
    for text, channel, _ in messages:  # warm caches (compiled patterns, phone parsing)
        engine.assess(text, channel=channel)

    latencies: list[float] = []
    conversations: dict[str, Conversation] = {}
    deadline = time.perf_counter() + args.seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for text, channel, conv_id in messages:
            conv = conversations.setdefault(conv_id, Conversation()) if conv_id else None
            t0 = time.perf_counter()
            engine.assess(text, channel=channel, conversation=conv)
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    chars = statistics.mean(len(t) for t, _, _ in messages)
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"messages: {len(messages)} distinct (mean {chars:.0f} chars), {len(latencies)} assessed")
    print(f"throughput: {len(latencies) / elapsed:,.0f} msg/s on one core (assess + redact)")
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
    print(f"latency: mean {statistics.mean(latencies) * 1e6:.0f} us, p50 {p50 * 1e6:.0f} us, "
          f"p99 {p99 * 1e6:.0f} us, max {latencies[-1] * 1e6:.0f} us")


if __name__ == "__main__":
    main()
