"""`safeguard assess`: JSON Lines in, one decision per line out, in order (CONTRACT.md §1)."""
from __future__ import annotations

import json
from typing import TextIO

from policy.engine import Conversation, Engine
from policy.types import AuthorKind, Channel


def run_assess(engine: Engine, source: TextIO, sink: TextIO) -> int:
    """Returns the exit status: 0, or 2 when any line was in error (processing always continues)."""
    conversations: dict[str, Conversation] = {}
    status = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        row, error = _parse(line)
        if error is not None:
            status = 2
            out = {"id": row.get("id") if isinstance(row.get("id"), str) else None, "line": number,
                   "error": error}
        else:
            conv_id = row.get("conversation_id")
            conversation = conversations.setdefault(conv_id, Conversation()) if conv_id else None
            assessment = engine.assess(
                row["text"], channel=Channel(row.get("channel") or "counselling"),
                author=AuthorKind(row.get("author") or "young_person"), conversation=conversation,
            )
            out = assessment.to_contract(row["id"])
        sink.write(json.dumps(out, ensure_ascii=False) + "\n")
        sink.flush()
    return status


def _parse(line: str) -> tuple[dict, str | None]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return {}, f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(row, dict):
        return {}, "each line must be a JSON object"
    if not isinstance(row.get("id"), str) or not row["id"]:
        return row, "missing 'id' (a non-empty string)"
    if not isinstance(row.get("text"), str):
        return row, "missing 'text' (a string)"
    channel = row.get("channel")
    if channel is not None and channel not in {c.value for c in Channel}:
        return row, f"'channel' must be one of {', '.join(c.value for c in Channel)}"
    author = row.get("author")
    if author is not None and author not in {a.value for a in AuthorKind}:
        return row, f"'author' must be one of {', '.join(a.value for a in AuthorKind)}"
    conv = row.get("conversation_id")
    if conv is not None and not isinstance(conv, str):
        return row, "'conversation_id' must be a string"
    return row, None
