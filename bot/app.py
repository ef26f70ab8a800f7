"""The app factory (`create_app`) and the service's lifecycle (`build_service`).

`create_app` only composes: routes, the error middleware, the mounted bolt app. `build_service`
owns everything with a lifetime: the store, the group-commit writer, the HTTP listener, and the two
background loops (outbox delivery, re-notify), which read the database rather than memory so that
a restart or a second instance carries on where the last one stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.errors import MAX_BODY_BYTES, error_response, json_errors
from bot.loops import delivery_loop
from bot.quiet_logs import quiet_third_party_loggers
from bot.renotify import RenotifyScheduler
from bot.slack import Renderer, build_bolt_app, mount, quiet_client
from bot.store import GroupCommitWriter, Store
from bot.webhooks import WebhookHandler
from integrations.platform import Platform, build_platforms
from integrations.routing import load_routing
from policy import Engine

log = logging.getLogger(__name__)

REQUIRED_SETTINGS = ("slack_bot_token", "slack_signing_secret", "slack_channel")


@dataclass(frozen=True)
class Tuning:
    """Timings that are not settings: production defaults; tests and the demo shorten them."""

    delivery_idle_seconds: float = 1.0
    per_channel_interval: float = 1.0  # Slack allows about one post a second per channel
    retry_wait_seconds: float = 0.5
    backoff_seconds: float = 2.0
    defer_seconds: float = 2.0
    lease_seconds: float = 120.0
    renotify_interval_seconds: float = 5.0
    run_delivery: bool = True  # tests switch it off to stop "between store and post"
    shutdown_timeout_seconds: float = 10.0


def create_app(
    settings: Settings,
    *,
    store: Store,
    writer: GroupCommitWriter,
    engine: Engine,
    platforms: dict[str, Platform],
    bolt_app: AsyncApp,
    on_escalation: Callable[[str], None] | None = None,
) -> web.Application:
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    webhooks = WebhookHandler(
        platforms=platforms,
        engine=engine,
        store=store,
        writer=writer,
        public_url=settings.public_url,
        on_escalation=on_escalation,
    )
    app.add_routes(webhooks.routes())
    mount(app, bolt_app)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        if await store.ping():
            return web.json_response({"status": "ready"})
        return error_response(503, "database unreachable")

    app.add_routes([web.get("/healthz", healthz), web.get("/readyz", readyz)])
    return app


def slack_client(settings: Settings) -> AsyncWebClient:
    return quiet_client(
        AsyncWebClient(token=settings.secret("slack_bot_token"), base_url=settings.slack_api_url, timeout=10)
    )


def build_platforms_from(settings: Settings) -> dict[str, Platform]:
    routing = load_routing(settings.routing_file, chatbot_authors=settings.chatbot_authors)

    def secret(name: str) -> str | None:
        value = getattr(settings, name)
        return value.get_secret_value() if value is not None else None

    return build_platforms(
        webhook_secret=secret("webhook_secret"),
        discourse_secret=secret("discourse_secret"),
        twilio_auth_token=secret("twilio_auth_token"),
        routing=routing,
        discourse_base_url=settings.discourse_base_url,
    )


def instance_id() -> str:
    """Names this process in outbox leases, so a crashed instance's rows are told apart."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Service:
    settings: Settings
    store: Store
    writer: GroupCommitWriter
    app: web.Application
    url: str  # http://host:port, the port the listener really bound (port 0 picks a free one)
    worker: DeliveryWorker
    scheduler: RenotifyScheduler


@asynccontextmanager
async def build_service(settings: Settings, *, tuning: Tuning | None = None) -> AsyncIterator[Service]:
    """Open, migrate, start everything, listen; on exit stop taking requests, flush the writer, stop
    the loops and close the store, in that order, so nothing answered 2xx is lost."""
    tuning = tuning or Tuning()
    settings.require(*REQUIRED_SETTINGS)
    if settings.twilio_auth_token is not None:
        settings.require("public_url")
    quiet_third_party_loggers()
    platforms = build_platforms_from(settings)
    leads = tuple(settings.slack_leads)
    renderer = Renderer()

    store = await Store.open(settings.database_url)
    stop = asyncio.Event()
    wake = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    runner: web.AppRunner | None = None
    writer = GroupCommitWriter(store, ack_timeout_seconds=settings.ack_timeout_seconds)
    try:
        await store.migrate()
        await writer.start()
        client = slack_client(settings)
        bolt_app = build_bolt_app(
            signing_secret=settings.secret("slack_signing_secret"),
            client=client,
            store=store,
            leads=leads,
            renderer=renderer,
        )
        worker = DeliveryWorker(
            store,
            client,
            channel=settings.slack_channel or "",
            leads=leads,
            renderer=renderer,
            worker_id=instance_id(),
            per_channel_interval=tuning.per_channel_interval,
            retry_wait_seconds=tuning.retry_wait_seconds,
            backoff_seconds=tuning.backoff_seconds,
            defer_seconds=tuning.defer_seconds,
            lease_seconds=tuning.lease_seconds,
            idle_seconds=tuning.delivery_idle_seconds,
        )
        scheduler = RenotifyScheduler(store, timeout_seconds=settings.ack_timeout_seconds, leads=leads)
        app = create_app(
            settings,
            store=store,
            writer=writer,
            engine=Engine.default(),
            platforms=platforms,
            bolt_app=bolt_app,
            on_escalation=lambda _escalation_id: wake.set(),
        )
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=tuning.shutdown_timeout_seconds, handle_signals=False
        )
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        if tuning.run_delivery:
            tasks.append(
                asyncio.create_task(
                    delivery_loop(worker, stop, wake, tuning.delivery_idle_seconds), name="delivery"
                )
            )
        tasks.append(
            asyncio.create_task(
                scheduler.run_forever(stop, interval_seconds=tuning.renotify_interval_seconds),
                name="renotify",
            )
        )
        log.info("service listening: host=%s port=%d", host, port)
        yield Service(settings, store, writer, app, f"http://{host}:{port}", worker, scheduler)
    finally:
        if runner is not None:
            await runner.cleanup()
        await writer.stop()
        stop.set()
        if tasks:
            # A Slack call waiting out a Retry-After may hold a loop; a cancelled post is reconciled
            # (looked up in the channel) by whichever instance works its row next.
            _done, pending = await asyncio.wait(tasks, timeout=tuning.shutdown_timeout_seconds)
            for task in pending:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
        await store.close()
        log.info("service stopped")
