"""No identity value or raw message text in any log record (at DEBUG) nor in anything Slack received,
except the ephemeral reveal to a lead; plus health and readiness."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from bot import webhook_signing as sign
from bot.slack.actions import ActionId
from bot.slack_emulator import SlackEmulator
from bot.store import Store
from tests.service_harness import (
    CHANNEL,
    CRISIS_TEXT,
    IDENTITY,
    LEAD,
    STAFF,
    WEBHOOK_SECRET,
    generic_payload,
    running_service,
    wait_for,
)

SECRET_VALUES = [*IDENTITY.values(), CRISIS_TEXT, "Zephyrine"]


def _leaks(text: str) -> list[str]:
    return [value for value in SECRET_VALUES if value in text]


async def test_no_identity_value_or_raw_text_in_logs_or_slack(
    store: Store, emu: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    text = f"I'm Zephyrine. {CRISIS_TEXT}"
    async with running_service(store, emu) as svc:
        status, body = await svc.generic("m-private", text)
        esc_id = body["escalation_id"]
        await wait_for(lambda: len(svc.escalation_posts()) == 1)
        post = svc.post_for(esc_id)
        for action, user in (
            (ActionId.ESCALATION_ACK, STAFF),
            (ActionId.ESCALATION_REVEAL, LEAD),
            (ActionId.ESCALATION_REVEAL, STAFF),
        ):
            await emu.click_button(
                svc.slack_events_url, action_id=action.value, value=esc_id, user_id=user,
                channel_id=CHANNEL, message_ts=post.ts,
            )
        await wait_for(lambda: len(emu.ephemerals) == 3 and bool(emu.updates))
        # Refusals must not echo the values either: an unknown identity field, a bad signature.
        bad = generic_payload("m-bad", text)
        bad["identity"] = {**IDENTITY, "nickname": IDENTITY["name"]}
        refused = await svc.post(sign.generic(WEBHOOK_SECRET, bad))
        unsigned = await svc.post(sign.generic("wrong", generic_payload("m-bad2", text)))
    assert status == 202 and refused[0] == 422 and unsigned[0] == 401
    assert not _leaks(json.dumps([refused[1], unsigned[1]]))

    assert caplog.records, "the flow logs something, so the scan below is meaningful"
    for record in caplog.records:
        rendered = record.getMessage() + repr(record.__dict__.get("extra", "")) + str(record.exc_text or "")
        assert not _leaks(rendered), f"log record from {record.name} leaks a value"

    lead_reveals = [e for e in emu.ephemerals if e.user == LEAD]
    assert lead_reveals and _leaks(lead_reveals[0].text + repr(lead_reveals[0].blocks))
    for method, params in emu.calls:
        if method == "chat.postEphemeral" and params.get("user") == LEAD:
            continue
        assert not _leaks(json.dumps(params, default=str)), f"{method} carried a value"
    for response in emu.responses:  # response_url answers to clicks
        if response.user != LEAD:
            assert not _leaks(json.dumps(response.payload, default=str))


async def test_health_and_readiness(store: Store, emu: SlackEmulator) -> None:
    async with running_service(store, emu) as svc, aiohttp.ClientSession() as http:
        async with http.get(svc.service.url + "/healthz") as live:
            assert (live.status, await live.json()) == (200, {"status": "ok"})
        async with http.get(svc.service.url + "/readyz") as ready:
            assert (ready.status, await ready.json()) == (200, {"status": "ready"})


async def test_readiness_fails_when_the_database_is_unreachable(emu: SlackEmulator) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.slack import build_bolt_app
    from bot.store import GroupCommitWriter
    from integrations.platform import build_platforms
    from policy import Engine
    from tests.service_harness import settings_for

    dead = await Store.open("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    settings = settings_for(dead, emu)
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = build_bolt_app(signing_secret="s", client=AsyncWebClient(token="x", base_url=emu.api_url),
                          store=dead, leads=())
    app = create_app(settings, store=dead, writer=GroupCommitWriter(dead), engine=Engine.default(),
                     platforms=build_platforms(webhook_secret="w", discourse_secret=None,
                                               twilio_auth_token=None), bolt_app=bolt)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://{host}:{port}/readyz") as resp:
            assert (resp.status, await resp.json()) == (503, {"error": "database unreachable"})
        async with aiohttp.ClientSession() as http, http.post(
            f"http://{host}:{port}/webhooks/generic", data=b"{}"
        ) as resp:
            assert resp.status == 401  # signature first: nothing reaches the store unverified
    finally:
        await runner.cleanup()
        await dead.close()
