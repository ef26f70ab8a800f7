"""The bolt app for everything Slack sends to POST /slack/events, and how to mount it on aiohttp."""
from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.actions import ActionId
from bot.slack.clients import quiet_client
from bot.slack.handlers import Clock, EscalationActions, EscalationStore, utc_now
from bot.slack.middleware import authorise_reveal, resolve_click
from bot.slack.views import Renderer

SLACK_EVENTS_PATH = "/slack/events"
_BOLT_APP_KEY: web.AppKey[AsyncApp] = web.AppKey("safeguard_slack_bolt_app", AsyncApp)


def build_bolt_app(
    *,
    signing_secret: str,
    client: AsyncWebClient,
    store: EscalationStore,
    leads: tuple[str, ...],
    renderer: Renderer | None = None,
    clock: Clock = utc_now,
) -> AsyncApp:
    """A bolt app that verifies Slack's signature on every request and handles the escalation buttons.

    `leads` are the Slack user ids allowed to reveal identity (SAFEGUARD_SLACK_LEADS)."""
    bolt_app = AsyncApp(
        signing_secret=signing_secret,
        # Bolt copies this client (logger included) for every request: the ephemeral reveal goes through it.
        client=quiet_client(client),
        # AsyncApp has no token_verification_enabled (the sync App's switch): it calls auth.test lazily,
        # on the first request from Slack, so start-up never depends on Slack being reachable.
        request_verification_enabled=True,
        # Ack at once and keep working in the background, so a slow store never misses Slack's 3 s.
        process_before_response=False,
    )
    actions = EscalationActions(store, renderer or Renderer(), clock)
    bolt_app.action(ActionId.ESCALATION_ACK.value, middleware=[resolve_click])(actions.on_ack)
    bolt_app.action(
        ActionId.ESCALATION_REVEAL.value, middleware=[resolve_click, authorise_reveal(leads)]
    )(actions.on_reveal)
    bolt_app.error(actions.on_error)
    return bolt_app


def request_handler(bolt_app: AsyncApp) -> web.Handler:
    """An aiohttp handler passing the raw request to bolt (bolt checks the signature over the raw body)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_response = await bolt_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    return handle


def slack_routes(bolt_app: AsyncApp, path: str = SLACK_EVENTS_PATH) -> list[web.RouteDef]:
    return [web.post(path, request_handler(bolt_app))]


def mount(app: web.Application, bolt_app: AsyncApp, path: str = SLACK_EVENTS_PATH) -> None:
    """Add POST /slack/events to `app`; the bolt app is kept on it under a typed key."""
    app[_BOLT_APP_KEY] = bolt_app
    app.add_routes(slack_routes(bolt_app, path))


def mounted_bolt_app(app: web.Application) -> AsyncApp:
    return app[_BOLT_APP_KEY]
