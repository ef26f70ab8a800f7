"""SlackEmulator: the Slack Web API on loopback, plus the requests Slack sends to apps.

Point the real `slack_sdk` client at `emu.api_url`; point `click_button`/`slash_command` at the
app's `/slack/events`. Nothing is logged about request contents, because tests push realistic
(and sometimes sensitive-looking) message text through here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from . import interactions
from .faults import STATUS_ERRORS, ChannelRateLimiter, CommitFault, Fault, FaultPlan, OutageMode
from .methods import METHODS, ApiError, Params, truthy
from .state import (
    DEFAULT_USERS,
    Ephemeral,
    JsonDict,
    MessageUpdate,
    ResponseUrlPost,
    SlackUser,
    StoredMessage,
    Workspace,
)


@dataclass(frozen=True)
class CallRecord:
    """One Web API request as received, and how the emulator answered it."""

    method: str
    params: Params
    status: int
    error: str | None


@dataclass(frozen=True)
class _ResponseTarget:
    """What a minted response_url is bound to: the clicked message (if any), the channel, the user."""

    channel: str
    user: str
    message_ts: str | None


class _Dropped(Exception):
    """The emulator closed the connection instead of answering."""


class SlackEmulator:
    """An in-memory Slack workspace served over HTTP.

    >>> async with SlackEmulator() as emu:
    ...     client = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
    ...     await client.chat_postMessage(channel="C0SAFE", text="hello")
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        signing_secret: str = "emulator-signing-secret",
        team_id: str = "T0001",
        users: Iterable[SlackUser] | None = None,
        channels: Mapping[str, str] | Iterable[str] | None = None,
        *,
        team_domain: str = "safeguard-test",
        verification_token: str = "emulator-verification-token",
        bot_user_id: str = "U0BOT00001",
        app_id: str = "A0EMULATOR",
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.verification_token = verification_token
        if channels is not None and not isinstance(channels, Mapping):
            channels = {channel: channel.lower() for channel in channels}
        self.workspace = Workspace(
            team_id=team_id,
            users=DEFAULT_USERS if users is None else users,
            channels=channels,
            bot_user_id=bot_user_id,
            bot_id="B0EMULATOR",
            app_id=app_id,
            team_domain=team_domain,
        )
        self.faults = FaultPlan()
        self._rate_limiter = ChannelRateLimiter()
        self.calls: list[tuple[str, Params]] = []
        self.call_log: list[CallRecord] = []
        self.responses: list[ResponseUrlPost] = []
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.app = web.Application()
        self.app.router.add_route("*", "/api/{method}", self._handle_api)
        self.app.router.add_post("/response/{response_id}", self._handle_response_url)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0 picks a free port) and return the slack_sdk base_url, also `emu.api_url`."""
        if self._runner is not None:
            raise RuntimeError("SlackEmulator is already running")
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        self._runner = runner
        self._base_url = f"http://{bound_host}:{bound_port}/"
        return self.api_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("SlackEmulator is not started; await emu.start() first")
        return self._base_url

    @property
    def api_url(self) -> str:
        """`http://127.0.0.1:PORT/api/`, the form slack_sdk expects for base_url (trailing slash)."""
        return self.base_url + "api/"

    # -- workspace setup -----------------------------------------------------------------------

    def add_user(self, user: SlackUser) -> None:
        self.workspace.users[user.id] = user

    def add_channel(self, channel_id: str, name: str | None = None) -> None:
        """Declare a channel; once any is declared, only declared channels (and opened DMs) exist."""
        if self.workspace.channels is None:
            self.workspace.channels = {}
        self.workspace.channels[channel_id] = name or channel_id.lower()

    # -- fault injection -----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next `count` calls of `method` ("*" for any) with a failure.

        Default is HTTP 429 + `Retry-After: retry_after` + `{"ok": false, "error": "ratelimited"}`.
        `status=500/502/503/504` gives that status with a JSON error body. `error="x"` alone gives
        HTTP 200 `{"ok": false, "error": "x"}`. The failed call has no effect on the workspace.
        """
        resolved = status if status is not None else (200 if error else 429)
        body_error = error or STATUS_ERRORS.get(resolved, "internal_error")
        self.faults.add(
            Fault(
                method=method,
                status=resolved,
                error=body_error,
                retry_after=retry_after if resolved == 429 else None,
                remaining=count,
            )
        )

    def outage(self, enabled: bool = True, *, mode: OutageMode = "503") -> None:
        """Every call fails until `outage(False)`.

        mode "503": HTTP 503 `{"ok": false, "error": "service_unavailable"}`, what Slack's edge
        answers during incidents. mode "drop": the connection is closed without a response, which
        the client sees as aiohttp ServerDisconnectedError (slack_sdk's default connection-error
        retry handler retries it once). The listening socket stays open in both modes, so
        recovery is instant and no port can be lost to another process meanwhile.
        """
        self.faults.outage = mode if enabled else None

    def fail_after_commit(
        self, method: str, *, status: int = 500, drop: bool = False, count: int = 1
    ) -> None:
        """The next successful `method` call takes effect, but the client gets a 500 (or, with
        drop=True, a closed connection) - the ambiguous failure a client must reconcile, e.g. by
        looking for its metadata in conversations.history before posting again."""
        self.faults.add_commit(CommitFault(method=method, status=status, drop=drop, remaining=count))

    def clear_faults(self) -> None:
        self.faults.clear()
        self._rate_limiter.per_second = None

    @property
    def rate_limit_per_channel(self) -> float | None:
        """chat.postMessage per channel per second; None (default) means unlimited."""
        return self._rate_limiter.per_second

    @rate_limit_per_channel.setter
    def rate_limit_per_channel(self, per_second: float | None) -> None:
        self._rate_limiter.per_second = per_second

    # -- recorded state ------------------------------------------------------------------------

    def messages(self, channel: str | None = None) -> list[StoredMessage]:
        """Posted messages, thread replies included, oldest first, with their current content."""
        return self.workspace.messages(channel)

    def message(self, ts: str, channel: str | None = None) -> StoredMessage | None:
        """The stored message with this ts (in `channel` when given), or None."""
        if channel is not None:
            return self.workspace.find(channel, ts)
        return self.workspace.find_by_ts(ts)

    def messages_with_metadata(self, event_type: str, channel: str | None = None) -> list[StoredMessage]:
        return [
            m
            for m in self.messages(channel)
            if m.metadata is not None and m.metadata.get("event_type") == event_type
        ]

    @property
    def ephemerals(self) -> list[Ephemeral]:
        return self.workspace.ephemerals

    @property
    def updates(self) -> list[MessageUpdate]:
        return self.workspace.updates

    def calls_to(self, method: str) -> list[Params]:
        return [params for name, params in self.calls if name == method]

    # -- Web API -------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params, body_token = await _decode_params(request)
        except ValueError:
            return self._answer(request, method, {}, 200, {"ok": False, "error": "invalid_json"})
        self.calls.append((method, params))

        try:
            if self.faults.outage is not None:
                if self.faults.outage == "drop":
                    raise _Dropped
                return self._error(request, method, params, 503, "service_unavailable")

            fault = self.faults.take(method)
            if fault is not None:
                return self._error(request, method, params, fault.status, fault.error, fault.retry_after)

            token = _bearer_token(request) or body_token
            if not token:
                return self._error(request, method, params, 200, "not_authed")
            if token != self.bot_token:
                return self._error(request, method, params, 200, "invalid_auth")

            handler = METHODS.get(method)
            if handler is None:
                return self._error(request, method, params, 200, "unknown_method")

            if method == "chat.postMessage":
                channel = str(params.get("channel") or "")
                wait = self._rate_limiter.check(channel) if self.workspace.channel_exists(channel) else None
                if wait is not None:
                    return self._error(request, method, params, 429, "ratelimited", wait)

            try:
                result = handler(self.workspace, params)
            except ApiError as exc:
                return self._error(request, method, params, 200, exc.error)

            commit_fault = self.faults.take_commit(method)
            if commit_fault is not None:
                if commit_fault.drop:
                    raise _Dropped
                status = commit_fault.status
                error = STATUS_ERRORS.get(status, "internal_error")
                return self._error(request, method, params, status, error)
            return self._answer(request, method, params, 200, result)
        except _Dropped:
            self.call_log.append(CallRecord(method, params, 0, "dropped"))
            if request.transport is not None:
                request.transport.close()
            # The body is never written: the transport is gone, the client sees a disconnect.
            return web.Response(status=500)

    def _error(
        self,
        request: web.Request,
        method: str,
        params: Params,
        status: int,
        error: str,
        retry_after: int | None = None,
    ) -> web.Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else None
        return self._answer(request, method, params, status, {"ok": False, "error": error}, headers)

    def _answer(
        self,
        request: web.Request,
        method: str,
        params: Params,
        status: int,
        body: JsonDict,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        error = None if body.get("ok") else str(body.get("error"))
        self.call_log.append(CallRecord(method, params, status, error))
        return web.json_response(body, status=status, headers=headers)

    # -- response_url --------------------------------------------------------------------------

    def _mint_response_url(self, target: _ResponseTarget) -> str:
        response_id = secrets.token_hex(12)
        self._response_targets[response_id] = target
        return f"{self.base_url}response/{response_id}"

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        response_id = request.match_info["response_id"]
        target = self._response_targets.get(response_id)
        if target is None:
            return web.Response(status=404, text="expired_url")
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(payload, dict):
            return web.Response(status=400, text="invalid_payload")
        self.responses.append(ResponseUrlPost(response_id, payload, target.channel, target.user))
        self._apply_response(target, payload)
        return web.json_response({"ok": True})

    def _apply_response(self, target: _ResponseTarget, payload: JsonDict) -> None:
        """What Slack does with a response_url body: replace/delete the source message or post anew."""
        ws = self.workspace
        text = str(payload.get("text") or "")
        blocks = payload.get("blocks") if isinstance(payload.get("blocks"), list) else []
        if target.message_ts is not None and truthy(payload.get("delete_original")):
            ws.delete(target.channel, target.message_ts)
        elif target.message_ts is not None and truthy(payload.get("replace_original")):
            ws.update(channel=target.channel, ts=target.message_ts, text=text, blocks=blocks, metadata=None)
        elif payload.get("response_type") == "in_channel":
            thread_ts = payload.get("thread_ts")
            ws.post(
                channel=target.channel,
                text=text,
                blocks=blocks,
                thread_ts=str(thread_ts) if thread_ts else None,
                metadata=None,
            )
        else:
            ws.post_ephemeral(
                channel=target.channel, user=target.user, text=text, blocks=blocks, thread_ts=None
            )

    # -- requests to the app -------------------------------------------------------------------

    async def click_button(
        self,
        app_url: str,
        *,
        action_id: str,
        value: str,
        user_id: str,
        channel_id: str,
        message_ts: str,
        response_url: str | None = None,
    ) -> tuple[int, str]:
        """POST a signed `block_actions` payload for a button on a stored message to the app.

        Returns (HTTP status, response body text). Raises LookupError if the message does not
        exist, since Slack can only deliver clicks on messages it holds.
        """
        message = self.workspace.find(channel_id, message_ts)
        if message is None:
            raise LookupError(f"no message ts={message_ts} in channel {channel_id}")
        url = response_url or self._mint_response_url(_ResponseTarget(channel_id, user_id, message_ts))
        payload = interactions.block_actions_payload(
            self.workspace,
            message=message,
            action_id=action_id,
            value=value,
            user_id=user_id,
            response_url=url,
            verification_token=self.verification_token,
        )
        body = interactions.encode_interaction(payload)
        return await interactions.post_signed(app_url, body, self.signing_secret)

    async def slash_command(
        self, app_url: str, *, command: str, text: str, user_id: str, channel_id: str
    ) -> tuple[int, str]:
        """POST a signed, form-encoded slash command to the app; returns (status, body text)."""
        url = self._mint_response_url(_ResponseTarget(channel_id, user_id, None))
        form = interactions.slash_command_form(
            self.workspace,
            command=command,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=url,
            verification_token=self.verification_token,
        )
        return await interactions.post_signed(app_url, interactions.encode_form(form), self.signing_secret)


def _bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _decode_params(request: web.Request) -> tuple[Params, str | None]:
    """Query string plus form or JSON body, as Slack merges them; the token is split off so it is
    never recorded. Raises ValueError on a malformed JSON body."""
    params: Params = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        else:
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    token = params.pop("token", None)
    return params, str(token) if token else None
