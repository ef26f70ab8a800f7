"""`safeguard escalations list|show`: read-only views of the store for operators.

Output holds ids, states, categories and masked identity only: never message text or raw values."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError
from bot.settings_load import load_settings
from bot.store import EscalationRecord, EscalationStatus, Store, TimelineEvent


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def summary(esc: EscalationRecord) -> dict[str, Any]:
    return {
        "id": esc.id,
        "status": esc.status.value,
        "severity": esc.severity.value,
        "categories": [c.value for c in esc.categories],
        "platform": esc.platform,
        "channel": esc.channel.value,
        "created_at": _iso(esc.created_at),
        "acknowledged_by": esc.acknowledged_by,
        "acknowledged_at": _iso(esc.acknowledged_at),
    }


def detail(esc: EscalationRecord, timeline: list[TimelineEvent]) -> dict[str, Any]:
    return {
        **summary(esc),
        "conversation_id": esc.conversation_id,
        "message_id": esc.message_id,
        "link": esc.link,
        "indicators": [i.name for i in esc.indicators],
        "masked_identity": esc.masked_identity,
        "prior_escalations": esc.prior_escalations,
        "policy_version": esc.policy_version,
        "slack": {"channel": esc.slack_channel, "ts": esc.slack_ts},
        "renotify_count": esc.renotify_count,
        "timeline": [
            {"kind": e.kind, "at": _iso(e.at), "actor": e.actor, "detail": e.detail} for e in timeline
        ],
    }


async def _read(fn: Any) -> Any:
    store = await Store.open(load_settings().database_url)
    try:
        return await fn(store)
    finally:
        await store.close()


def _run(fn: Any) -> tuple[int, Any]:
    try:
        return 0, asyncio.run(_read(fn))
    except ConfigError as exc:
        print(f"safeguard: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"safeguard: database unusable ({type(exc).__name__}); is SAFEGUARD_DATABASE_URL right "
              "and has `safeguard serve` created the schema?", file=sys.stderr)
    except OSError as exc:
        print(f"safeguard: database unreachable ({type(exc).__name__})", file=sys.stderr)
    return 2, None


def run_list(*, status: str | None, limit: int, as_json: bool) -> int:
    wanted = EscalationStatus(status) if status else None
    code, records = _run(lambda store: store.list_escalations(wanted, limit))
    if code:
        return code
    rows = [summary(esc) for esc in records]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no escalations")
    for r in rows:
        ack = f" by {r['acknowledged_by']} at {r['acknowledged_at']}" if r["acknowledged_by"] else ""
        print(f"{r['id']}  {r['status']:<12} {r['severity']:<8} {','.join(r['categories']):<28} "
              f"{r['platform']}/{r['channel']}  {r['created_at']}{ack}")
    return 0


def run_show(escalation_id: str, *, as_json: bool) -> int:
    async def read(store: Store) -> tuple[EscalationRecord | None, list[TimelineEvent]]:
        return await store.get_escalation(escalation_id), await store.timeline(escalation_id)

    code, result = _run(read)
    if code:
        return code
    esc, timeline = result
    if esc is None:
        print(f"safeguard: no escalation {escalation_id}", file=sys.stderr)
        return 1
    data = detail(esc, timeline)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    for key in ("id", "status", "severity", "categories", "platform", "channel", "conversation_id",
                "created_at", "acknowledged_by", "acknowledged_at", "indicators", "masked_identity",
                "renotify_count"):
        print(f"{key:>16}: {data[key]}")
    print("        timeline:")
    for e in data["timeline"]:
        print(f"                  {e['at']}  {e['kind']}  {e['actor'] or ''}  {e['detail'] or ''}")
    return 0
