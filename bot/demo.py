"""`safeguard demo`: the whole pipeline on this machine, with no accounts and no network.

A temporary SQLite database, the Slack emulator and the real service on loopback ports; the sample
conversations go in through the real signed webhooks. The printout masks every identity value,
including in the one place staff legitimately see them (the ephemeral reveal to a lead)."""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from sqlalchemy import func, select

from bot.app import Tuning, build_service
from bot.config import Settings
from bot.delivery import METADATA_EVENT_TYPE
from bot.samples import SampleMessage, signed_messages
from bot.slack.actions import ActionId
from bot.slack_emulator import SlackEmulator
from bot.store import Store
from bot.store.tables import messages
from policy.masking import mask

CHANNEL = "C0SAFEGUARD"
LEAD, STAFF = "U0LEAD0001", "U0STAFF001"
TOKEN, SIGNING_SECRET = "xoxb-demo", "demo-signing-secret"
SECRETS = {
    "webhook_secret": "demo-generic",
    "discourse_secret": "demo-discourse",
    "twilio_auth_token": "demo-twilio",
}
PUBLIC_URL = "https://relay.example.org"
TUNING = Tuning(
    delivery_idle_seconds=0.05,
    per_channel_interval=0.0,
    retry_wait_seconds=0.05,
    backoff_seconds=0.1,
    defer_seconds=0.05,
    renotify_interval_seconds=0.5,
    shutdown_timeout_seconds=2.0,
)


class Redactor:
    """Masks every known identity value in what the demo prints."""

    def __init__(self, samples: Iterable[SampleMessage]) -> None:
        pairs = {(k, v) for s in samples for k, v in s.identity.items() if v}
        # Longest first, so a value containing another is replaced whole.
        self.values = sorted(pairs, key=lambda kv: -len(kv[1]))

    def __call__(self, text: str) -> str:
        for kind, value in self.values:
            text = text.replace(value, mask(kind, value))
        return text


def block_lines(blocks: list[dict[str, Any]]) -> list[str]:
    """The readable text of Block Kit blocks, buttons as [labels]."""
    lines: list[str] = []
    for block in blocks:
        parts: list[Any] = []
        if isinstance(block.get("text"), dict):
            parts.append(block["text"])
        parts.extend(block.get("fields") or [])
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                lines.append(f"[{element.get('text', {}).get('text', '?')}]")
            elif isinstance(element.get("text"), str):
                lines.append(element["text"])
        lines.extend(str(part.get("text", "")) for part in parts if isinstance(part, dict))
    return [line for line in lines if line]


async def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():  # the emulator exposes no events to await
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def demo(out: TextIO) -> int:
    def say(line: str = "") -> None:
        out.write(redact(line) + "\n")

    samples = signed_messages(
        webhook_secret=SECRETS["webhook_secret"],
        discourse_secret=SECRETS["discourse_secret"],
        twilio_token=SECRETS["twilio_auth_token"],
        public_url=PUBLIC_URL,
    )
    redact = Redactor(samples)
    with tempfile.TemporaryDirectory(prefix="safeguard-demo-") as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=database_url,
            host="127.0.0.1",
            port=0,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_channel=CHANNEL,
            slack_leads=(LEAD,),
            public_url=PUBLIC_URL,
            **SECRETS,
        )
        async with SlackEmulator(bot_token=TOKEN, signing_secret=SIGNING_SECRET) as emu:
            emu.add_channel(CHANNEL, "safeguarding-alerts")
            settings = settings.model_copy(update={"slack_api_url": emu.api_url})
            async with build_service(settings, tuning=TUNING) as service, aiohttp.ClientSession() as http:
                say(f"Service on {service.url}, Slack emulator on {emu.api_url}, database in a temp dir")
                say()
                say("== Replaying sample conversations through the signed webhooks ==")
                escalations: list[str] = []
                current = ""
                for sample in samples:
                    if sample.conversation != current:
                        current = sample.conversation
                        say(f"-- {current} ({sample.platform})")
                    async with http.post(
                        service.url + sample.request.path,
                        data=sample.request.body,
                        headers=sample.request.headers,
                    ) as resp:
                        answer = await resp.json(content_type=None)
                    esc = answer.get("escalation_id")
                    say(f"   POST {sample.request.path} -> {resp.status} escalation={esc or '-'}")
                    if esc and esc not in escalations:
                        escalations.append(esc)

                posted = await _wait(
                    lambda: len(emu.messages_with_metadata(METADATA_EVENT_TYPE)) >= len(escalations)
                )
                if not posted or not escalations:
                    say("!! the delivery worker did not post every escalation in time")
                    return 1

                first = escalations[0]
                [message] = [
                    m
                    for m in emu.messages_with_metadata(METADATA_EVENT_TYPE)
                    if m.metadata and m.metadata["event_payload"]["escalation_id"] == first
                ]
                url = service.url + "/slack/events"

                async def click(action: ActionId, user: str) -> None:
                    await emu.click_button(
                        url, action_id=action.value, value=first, user_id=user,
                        channel_id=CHANNEL, message_ts=message.ts,
                    )

                await click(ActionId.ESCALATION_ACK, STAFF)
                await _wait(lambda: bool(emu.updates) and len(message.replies) >= 1)
                seen = len(emu.ephemerals)
                await click(ActionId.ESCALATION_REVEAL, LEAD)
                await _wait(lambda: len(emu.ephemerals) > seen)
                seen = len(emu.ephemerals)
                await click(ActionId.ESCALATION_REVEAL, STAFF)
                await _wait(lambda: len(emu.ephemerals) > seen)

                say()
                say("== What staff saw in Slack ==")
                for m in emu.messages(CHANNEL):
                    where = f"thread reply to {m.thread_ts}" if m.is_reply else f"message ts={m.ts}"
                    edited = " (updated with chat.update)" if m.edited else ""
                    say(f"-- {where}{edited}")
                    for line in block_lines(m.blocks) or [m.text]:
                        for part in line.splitlines():
                            say(f"   {part}")
                for e in emu.ephemerals:
                    tag = "lead" if e.user == LEAD else "staff member"
                    say(f"-- [shown only to {tag} {e.user}] (identity values masked in this printout)")
                    for line in block_lines(e.blocks) or [e.text]:
                        for part in line.splitlines():
                            say(f"   {part}")

                await _print_record(service.store, first, say)
                suppressed = await _suppressed_count(service.store)
                say()
                say(f"{len(samples)} messages stored, {len(escalations)} escalations, {suppressed} stored as "
                    "suppressed chatbot output (never assessed, never posted).")
    return 0


async def _print_record(store: Store, escalation_id: str, say: Callable[[str], None]) -> None:
    say()
    say("== What was recorded ==")
    for esc in await store.list_escalations():
        ack = f" by {esc.acknowledged_by}" if esc.acknowledged_by else ""
        say(f"   {esc.id}  {esc.status.value}{ack}  {esc.severity.value}  "
            f"{','.join(c.value for c in esc.categories)}  {esc.platform}/{esc.channel.value}")
    say()
    say(f"Timeline of {escalation_id}:")
    for event in await store.timeline(escalation_id):
        actor = f" {event.actor}" if event.actor else ""
        say(f"   {event.at.isoformat(timespec='seconds')}  {event.kind}{actor}  {event.detail or ''}")


async def _suppressed_count(store: Store) -> int:
    async with store.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(messages).where(messages.c.suppressed.is_not(None))
        )
    return int(count or 0)


def run_demo(out: TextIO = sys.stdout) -> int:
    # The demo prints its own story; the service's INFO lines would interleave with it.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(demo(out))
