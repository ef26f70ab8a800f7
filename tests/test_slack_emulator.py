"""The Slack emulator, driven through the real slack_sdk AsyncWebClient over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_emulator import SlackEmulator, SlackUser, sign_request

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
CHANNEL = "C0SAFEGUARD"
LEAD = "U0LEAD0001"
ESCALATION_META = {"event_type": "safeguard_escalation", "event_payload": {"escalation_id": "esc-1"}}
ACK_BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Escalation esc-1"}},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "escalation_ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": "esc-1",
            }
        ],
    },
]


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    # No retry handlers: each test states which failures it expects the client to see.
    return AsyncWebClient(token=TOKEN, base_url=emu.api_url, retry_handlers=[])


async def api_error(call: Awaitable[object]) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# -- lifecycle and auth ----------------------------------------------------------------------


async def test_start_returns_slack_sdk_style_base_url() -> None:
    emu = SlackEmulator()
    url = await emu.start(host="127.0.0.1", port=0)
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", url)
        assert emu.api_url == url
    finally:
        await emu.stop()


async def test_auth_test_identifies_the_bot(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["ok"] is True
    assert response["team_id"] == "T0001"
    assert response["user_id"].startswith("U")


async def test_wrong_token_is_invalid_auth_and_missing_token_is_not_authed(emu: SlackEmulator) -> None:
    wrong = await api_error(AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test())
    missing = await api_error(AsyncWebClient(base_url=emu.api_url).auth_test())
    assert (wrong.response.status_code, wrong.response["error"]) == (200, "invalid_auth")
    assert (missing.response.status_code, missing.response["error"]) == (200, "not_authed")
    assert emu.messages() == []


async def test_unknown_method(client: AsyncWebClient) -> None:
    error = await api_error(client.api_call("chat.fly"))
    assert error.response["error"] == "unknown_method"


# -- posting, updating, reading --------------------------------------------------------------


async def test_post_message_returns_unique_increasing_ts_and_stores_it(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel=CHANNEL, text="one", blocks=ACK_BLOCKS)
    second = await client.chat_postMessage(channel=CHANNEL, text="two")

    assert re.fullmatch(r"\d{10}\.\d{6}", first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == CHANNEL
    assert first["message"]["text"] == "one"
    assert first["message"]["blocks"][1]["elements"][0]["action_id"] == "escalation_ack"
    assert [m.ts for m in emu.messages(CHANNEL)] == [first["ts"], second["ts"]]
    assert emu.calls_to("chat.postMessage")[0]["channel"] == CHANNEL


async def test_unknown_channels_are_refused(client: AsyncWebClient) -> None:
    error = await api_error(client.chat_postMessage(channel="X123", text="hi"))
    assert error.response["error"] == "channel_not_found"


async def test_declared_channels_restrict_where_messages_go() -> None:
    async with SlackEmulator(bot_token=TOKEN, channels={CHANNEL: "safeguarding"}) as emu:
        client = AsyncWebClient(token=TOKEN, base_url=emu.api_url)
        await client.chat_postMessage(channel=CHANNEL, text="ok")
        error = await api_error(client.chat_postMessage(channel="C0OTHER", text="no"))
    assert error.response["error"] == "channel_not_found"


async def test_metadata_only_in_history_when_include_all_metadata(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="esc", metadata=ESCALATION_META)

    plain = await client.conversations_history(channel=CHANNEL)
    with_meta = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)

    assert "metadata" not in plain["messages"][0]
    assert with_meta["messages"][0]["ts"] == posted["ts"]
    assert with_meta["messages"][0]["metadata"] == ESCALATION_META


async def test_form_encoded_post_accepts_metadata_as_json_string(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    form = {"channel": CHANNEL, "text": "form", "metadata": json.dumps(ESCALATION_META)}
    posted = await client.api_call("chat.postMessage", data=form)

    stored = emu.message(posted["ts"])
    assert stored is not None
    assert stored.metadata == ESCALATION_META


async def test_history_is_newest_first_and_paginates_with_cursor(client: AsyncWebClient) -> None:
    posted = [(await client.chat_postMessage(channel=CHANNEL, text=f"m{i}"))["ts"] for i in range(5)]

    first = await client.conversations_history(channel=CHANNEL, limit=2)
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
    assert [m["ts"] for m in first["messages"]] == posted[::-1][:2]
    assert [m["ts"] for m in second["messages"]] == posted[::-1][2:4]

    # slack_sdk's own paginator follows next_cursor until it is empty.
    seen = [
        m["ts"]
        async for page in await client.conversations_history(channel=CHANNEL, limit=2)
        for m in page["messages"]
    ]
    assert seen == posted[::-1]


async def test_history_window_oldest_latest_exclusive_unless_inclusive(client: AsyncWebClient) -> None:
    ts = [(await client.chat_postMessage(channel=CHANNEL, text=f"m{i}"))["ts"] for i in range(4)]

    exclusive = await client.conversations_history(channel=CHANNEL, oldest=ts[0], latest=ts[3])
    inclusive = await client.conversations_history(
        channel=CHANNEL, oldest=ts[0], latest=ts[3], inclusive=True
    )

    assert [m["ts"] for m in exclusive["messages"]] == [ts[2], ts[1]]
    assert [m["ts"] for m in inclusive["messages"]] == ts[::-1]


async def test_thread_replies_stay_out_of_history_but_show_in_replies(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    parent = await client.chat_postMessage(channel=CHANNEL, text="parent")
    reply = await client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])

    history = await client.conversations_history(channel=CHANNEL)
    thread = await client.conversations_replies(channel=CHANNEL, ts=parent["ts"])

    assert [m["ts"] for m in history["messages"]] == [parent["ts"]]
    assert history["messages"][0]["reply_count"] == 1
    assert [m["ts"] for m in thread["messages"]] == [parent["ts"], reply["ts"]]
    assert thread["messages"][1]["thread_ts"] == parent["ts"]
    assert len(emu.messages(CHANNEL)) == 2


async def test_update_keeps_ts_and_changes_content(emu: SlackEmulator, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="open", blocks=ACK_BLOCKS)

    updated = await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="acknowledged by Alex")

    assert updated["ts"] == posted["ts"]
    stored = emu.message(posted["ts"], channel=CHANNEL)
    assert stored is not None and stored.text == "acknowledged by Alex"
    assert stored.edited is not None
    assert [u.text for u in emu.updates] == ["acknowledged by Alex"]
    assert len(emu.messages(CHANNEL)) == 1


async def test_update_of_unknown_message_is_message_not_found(client: AsyncWebClient) -> None:
    error = await api_error(client.chat_update(channel=CHANNEL, ts="1700000000.000001", text="x"))
    assert error.response["error"] == "message_not_found"


async def test_ephemeral_is_recorded_for_its_user(emu: SlackEmulator, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel=CHANNEL, user=LEAD, text="details")

    assert re.fullmatch(r"\d+\.\d{6}", response["message_ts"])
    assert [(e.user, e.channel, e.text) for e in emu.ephemerals] == [(LEAD, CHANNEL, "details")]
    assert emu.messages() == []


async def test_ephemeral_to_unknown_user_fails(client: AsyncWebClient) -> None:
    error = await api_error(client.chat_postEphemeral(channel=CHANNEL, user="U0NOBODY", text="x"))
    assert error.response["error"] == "user_not_in_channel"


async def test_conversations_open_gives_a_stable_dm_channel(client: AsyncWebClient) -> None:
    first = await client.conversations_open(users=[LEAD])
    again = await client.conversations_open(users=LEAD)
    assert first["channel"]["id"].startswith("D")
    assert again["channel"]["id"] == first["channel"]["id"]
    await client.chat_postMessage(channel=first["channel"]["id"], text="dm")


async def test_users_info(client: AsyncWebClient) -> None:
    known = await client.users_info(user=LEAD)
    unknown = await api_error(client.users_info(user="U0NOBODY"))

    assert known["user"]["id"] == LEAD
    assert known["user"]["real_name"] == "Alex Lead"
    assert known["user"]["profile"]["display_name"] == "Alex (DSL)"
    assert unknown.response["error"] == "user_not_found"


async def test_custom_users_replace_the_defaults() -> None:
    async with SlackEmulator(bot_token=TOKEN, users=[SlackUser("U0X", "x.y", "X Y")]) as emu:
        client = AsyncWebClient(token=TOKEN, base_url=emu.api_url)
        assert (await client.users_info(user="U0X"))["user"]["name"] == "x.y"
        assert (await api_error(client.users_info(user=LEAD))).response["error"] == "user_not_found"


# -- fault injection -------------------------------------------------------------------------


async def test_429_carries_integer_retry_after_and_has_no_effect(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    emu.fail_next("chat.postMessage", retry_after=7)

    error = await api_error(client.chat_postMessage(channel=CHANNEL, text="x"))

    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "7"
    assert emu.messages() == []
    assert (await client.chat_postMessage(channel=CHANNEL, text="x"))["ok"] is True


async def test_slack_sdk_rate_limit_retry_handler_waits_retry_after(emu: SlackEmulator) -> None:
    emu.fail_next("chat.postMessage", retry_after=1)
    client = AsyncWebClient(
        token=TOKEN, base_url=emu.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)]
    )

    started = time.monotonic()
    response = await client.chat_postMessage(channel=CHANNEL, text="x")

    assert response["ok"] is True
    assert time.monotonic() - started >= 1.0
    assert [(c.status, c.error) for c in emu.call_log] == [(429, "ratelimited"), (200, None)]
    assert len(emu.messages()) == 1


async def test_server_errors_and_plain_api_errors(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.fail_next("chat.postMessage", status=503)
    emu.fail_next("chat.postMessage", error="is_archived")

    unavailable = await api_error(client.chat_postMessage(channel=CHANNEL, text="x"))
    archived = await api_error(client.chat_postMessage(channel=CHANNEL, text="x"))

    assert unavailable.response.status_code == 503
    assert (archived.response.status_code, archived.response["error"]) == (200, "is_archived")
    assert emu.messages() == []


async def test_server_error_retry_handler_recovers_from_a_500(emu: SlackEmulator) -> None:
    emu.fail_next("*", status=500)
    client = AsyncWebClient(
        token=TOKEN, base_url=emu.api_url, retry_handlers=[AsyncServerErrorRetryHandler()]
    )
    assert (await client.auth_test())["ok"] is True


async def test_fail_next_count_applies_to_consecutive_calls(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    emu.fail_next("users.info", error="fatal_error", count=2)
    for _ in range(2):
        assert (await api_error(client.users_info(user=LEAD))).response["error"] == "fatal_error"
    assert (await client.users_info(user=LEAD))["ok"] is True


async def test_outage_then_recovery(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.outage(True)
    error = await api_error(client.chat_postMessage(channel=CHANNEL, text="x"))
    assert error.response.status_code == 503

    emu.outage(False)
    assert (await client.chat_postMessage(channel=CHANNEL, text="x"))["ok"] is True
    assert len(emu.messages()) == 1


async def test_outage_drop_mode_closes_connections(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.outage(True, mode="drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.auth_test()
    emu.outage(False)
    assert (await client.auth_test())["ok"] is True


async def test_fail_after_commit_500_leaves_message_findable_by_metadata(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    emu.fail_after_commit("chat.postMessage")

    error = await api_error(client.chat_postMessage(channel=CHANNEL, text="esc", metadata=ESCALATION_META))
    history = await client.conversations_history(channel=CHANNEL, include_all_metadata=True)

    assert error.response.status_code == 500
    assert [m["metadata"]["event_payload"]["escalation_id"] for m in history["messages"]] == ["esc-1"]
    assert len(emu.messages_with_metadata("safeguard_escalation")) == 1


async def test_fail_after_commit_drop_is_a_disconnect_after_posting(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    emu.fail_after_commit("chat.postMessage", drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=CHANNEL, text="esc", metadata=ESCALATION_META)
    assert len(emu.messages(CHANNEL)) == 1


async def test_per_channel_rate_limit(emu: SlackEmulator, client: AsyncWebClient) -> None:
    emu.rate_limit_per_channel = 1.0

    await client.chat_postMessage(channel=CHANNEL, text="first")
    error = await api_error(client.chat_postMessage(channel=CHANNEL, text="too soon"))
    elsewhere = await client.chat_postMessage(channel="C0ELSEWHERE", text="other channel")

    assert error.response.status_code == 429
    assert int(error.response.headers["Retry-After"]) >= 1
    assert elsewhere["ok"] is True
    assert [m.text for m in emu.messages(CHANNEL)] == ["first"]


# -- requests to the app ---------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a throwaway aiohttp app on loopback with one POST route; yields its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_post("/slack/events", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/slack/events"

    yield start
    for runner in runners:
        await runner.cleanup()


def verifying_app(received: list[dict[str, str]]) -> Handler:
    """An app that checks Slack signatures with slack_sdk's own verifier, as bolt does."""
    verifier = SignatureVerifier(SECRET)

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if not verifier.is_valid(body, timestamp, signature):
            return web.Response(status=401, text="invalid signature")
        received.append({key: values[0] for key, values in parse_qs(body.decode()).items()})
        return web.Response(status=200, text="")

    return handler


async def test_click_button_is_signed_and_shaped_like_slack(
    emu: SlackEmulator, client: AsyncWebClient, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    received: list[dict[str, str]] = []
    url = await serve(verifying_app(received))
    posted = await client.chat_postMessage(
        channel=CHANNEL, text="esc", blocks=ACK_BLOCKS, metadata=ESCALATION_META
    )

    status, _ = await emu.click_button(
        url,
        action_id="escalation_ack",
        value="esc-1",
        user_id=LEAD,
        channel_id=CHANNEL,
        message_ts=posted["ts"],
    )

    assert status == 200
    payload = json.loads(received[0]["payload"])
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == LEAD and payload["user"]["team_id"] == "T0001"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == CHANNEL
    assert payload["message"]["ts"] == posted["ts"]
    assert payload["message"]["metadata"] == ESCALATION_META
    action = payload["actions"][0]
    assert (action["action_id"], action["value"], action["type"]) == ("escalation_ack", "esc-1", "button")
    assert action["block_id"] == posted["message"]["blocks"][1]["block_id"]
    assert payload["response_url"].startswith(emu.base_url + "response/")


async def test_app_rejects_a_tampered_body(
    emu: SlackEmulator, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    received: list[dict[str, str]] = []
    url = await serve(verifying_app(received))
    body = b"command=%2Fsafeguard&text=status"
    headers = sign_request(SECRET, body, int(time.time()))

    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body + b"x", headers=headers) as tampered:
            tampered_status = tampered.status
        async with session.post(url, data=body, headers=headers) as genuine:
            genuine_status = genuine.status

    assert (tampered_status, genuine_status) == (401, 200)
    assert len(received) == 1


async def test_click_on_missing_message_is_refused(emu: SlackEmulator) -> None:
    with pytest.raises(LookupError):
        await emu.click_button(
            "http://127.0.0.1:9/",
            action_id="a",
            value="v",
            user_id=LEAD,
            channel_id=CHANNEL,
            message_ts="1700000000.000001",
        )


async def test_slash_command_is_a_signed_form(
    emu: SlackEmulator, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    received: list[dict[str, str]] = []
    url = await serve(verifying_app(received))

    status, _ = await emu.slash_command(
        url, command="/safeguard", text="status", user_id=LEAD, channel_id=CHANNEL
    )

    assert status == 200
    form = received[0]
    assert (form["command"], form["text"], form["user_id"], form["channel_id"]) == (
        "/safeguard",
        "status",
        LEAD,
        CHANNEL,
    )
    assert form["team_id"] == "T0001" and form["user_name"] == "lead.alex"
    assert form["response_url"].startswith(emu.base_url + "response/")


async def test_bolt_app_handles_click_and_replies_via_response_url(
    emu: SlackEmulator, client: AsyncWebClient, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    """End to end with real bolt: signature verified, ack(), respond() lands on the emulator."""
    bolt = AsyncApp(
        token=TOKEN, signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=emu.api_url)
    )

    @bolt.action("escalation_ack")
    async def on_ack(ack, body, respond) -> None:  # type: ignore[no-untyped-def]
        await ack()
        await respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    async def handler(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    url = await serve(handler)
    posted = await client.chat_postMessage(channel=CHANNEL, text="esc", blocks=ACK_BLOCKS)

    status, _ = await emu.click_button(
        url,
        action_id="escalation_ack",
        value="esc-1",
        user_id=LEAD,
        channel_id=CHANNEL,
        message_ts=posted["ts"],
    )

    assert status == 200
    assert emu.responses[0].payload["replace_original"] is True
    stored = emu.message(posted["ts"])
    assert stored is not None and stored.text == f"Acknowledged by <@{LEAD}>"


async def test_response_url_ephemeral_reply_goes_to_the_user(
    emu: SlackEmulator, serve: Callable[[Handler], Awaitable[str]]
) -> None:
    response_urls: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        response_urls.append((await request.post())["response_url"])  # type: ignore[arg-type]
        return web.Response(status=200)

    url = await serve(handler)
    await emu.slash_command(url, command="/safeguard", text="help", user_id=LEAD, channel_id=CHANNEL)
    async with aiohttp.ClientSession() as session:
        async with session.post(response_urls[0], json={"text": "only you can see this"}) as response:
            assert response.status == 200

    assert [(e.user, e.text) for e in emu.ephemerals] == [(LEAD, "only you can see this")]


# -- standalone ------------------------------------------------------------------------------


async def test_module_runs_standalone_and_prints_its_api_url() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.slack_emulator", "--port", "0", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+/api/)", line)
        assert match is not None, line
        response = await AsyncWebClient(token=TOKEN, base_url=match.group(1)).auth_test()
        assert response["ok"] is True
    finally:
        process.terminate()
        await process.wait()
