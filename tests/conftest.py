"""Shared fixtures. `store` runs each test against SQLite and PostgreSQL.

PostgreSQL: every test session gets its own throw-away database (created from TEST_DATABASE_URL's
server, default postgresql+asyncpg://postgres@127.0.0.1:5432/test), so parallel runs never collide.
Unreachable: the postgresql cases skip, except under CI (env CI set), where they fail."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.delivery import DeliveryWorker
from bot.slack_emulator import SlackEmulator
from bot.store import EscalationRecord, IngestItem, MessageFields, Store
from policy.types import Assessment, AuthorKind, Category, Channel, Indicator, Severity

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
T = TypeVar("T")
_PG_TABLES = "outbox, events, identities, escalations, assessments, messages"


def _plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_pg_database() -> str:
    name = f"safeguard_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(_plain_dsn(PG_URL), timeout=3)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    store = await Store.open(url)
    try:
        await store.migrate()
    finally:
        await store.close()
    return url


async def _drop_pg_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_plain_dsn(PG_URL), timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run_aside(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a thread: session fixtures may be set up from inside a
    test's running loop, and a session-wide database must not belong to one test's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass(frozen=True)
class PgDatabase:
    url: str | None
    unreachable: str = ""


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """A migrated database for this session, or the reason there is none."""
    try:
        url = _run_aside(_create_pg_database())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        where = make_url(PG_URL).render_as_string()
        yield PgDatabase(None, f"PostgreSQL not reachable at {where} ({type(exc).__name__})")
        return
    yield PgDatabase(url)
    _run_aside(_drop_pg_database(url))


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'safeguard.db'}")
        await s.migrate()
    else:
        pg: PgDatabase = request.getfixturevalue("pg_database")
        if pg.url is None:
            if os.environ.get("CI"):
                pytest.fail(pg.unreachable)
            pytest.skip(pg.unreachable)
        s = await Store.open(pg.url)
        await s.migrate()  # already at head: proves re-running is a no-op
        async with s.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {_PG_TABLES} RESTART IDENTITY CASCADE"))
    try:
        yield s
    finally:
        await s.close()


def escalating_assessment(redacted: str = "I want to end it all [NAME]") -> Assessment:
    return Assessment(
        escalate=True,
        categories=(Category.LIFE_IN_DANGER,),
        severity=Severity.CRITICAL,
        indicators=(Indicator("suicidal_intent", 0, 10),),
        redacted_text=redacted,
        identifiers=(),
        suppressed=None,
        policy_version="test-1",
    )


def calm_assessment(redacted: str = "had a good day") -> Assessment:
    return Assessment(
        escalate=False,
        categories=(),
        severity=None,
        indicators=(),
        redacted_text=redacted,
        identifiers=(),
        suppressed=None,
        policy_version="test-1",
    )


@pytest.fixture
def make_item() -> Callable[..., IngestItem]:
    """Build an IngestItem; escalating by default, with one identity value to keep for the reveal."""

    def build(
        message_id: str,
        *,
        escalate: bool = True,
        author_id: str = "u-77",
        conversation_id: str = "c-9",
        platform: str = "webchat",
        author_kind: AuthorKind = AuthorKind.YOUNG_PERSON,
        redacted: str | None = None,
    ) -> IngestItem:
        text_ = redacted or (f"help me {message_id}" if escalate else f"fine {message_id}")
        assessment = escalating_assessment(text_) if escalate else calm_assessment(text_)
        return IngestItem(
            message=MessageFields(
                platform=platform,
                message_id=message_id,
                channel=Channel.COUNSELLING,
                conversation_id=conversation_id,
                author_id=author_id,
                author_kind=author_kind,
                sent_at=datetime.now(UTC),
                link=f"https://chat.example.org/conversations/{conversation_id}",
            ),
            redacted_text=text_,
            assessment=assessment,
            identity={"name": "Sam Example", "phone": "07700 900123"},
            masked_identity={"name": "S** E******", "phone": "077** ***123"},
        )

    return build


# -- Slack delivery: the emulator, a plain renderer, delivery workers -------------------------

CHANNEL = "C0SAFE"
LEADS = ("U0LEAD0001", "U0LEAD0002")
SLACK_TOKEN = "xoxb-test"


class PlainRenderer:
    """Stands in for bot/slack/views.py: enough text to see which message is which."""

    def escalation_message(self, esc: EscalationRecord) -> dict:
        return {"text": f"escalation {esc.id} {esc.severity}", "blocks": []}

    def acknowledged_message(self, esc: EscalationRecord) -> dict:
        return {"text": f"escalation {esc.id} acknowledged by {esc.acknowledged_by}", "blocks": []}

    def ack_thread_reply(self, esc: EscalationRecord) -> dict:
        return {"text": f"acknowledged by <@{esc.acknowledged_by}>"}

    def renotify_thread_reply(self, esc: EscalationRecord, leads: tuple[str, ...]) -> dict:
        return {"text": "still unacknowledged " + " ".join(f"<@{u}>" for u in leads)}

    def renotify_dm(self, esc: EscalationRecord) -> dict:
        return {"text": f"escalation {esc.id} is still unacknowledged"}


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(bot_token=SLACK_TOKEN, signing_secret="s3cret") as emulator:
        emulator.add_channel(CHANNEL, "safeguarding")
        yield emulator


@pytest.fixture
def make_worker(store: Store, emu: SlackEmulator) -> Callable[..., DeliveryWorker]:
    def build(worker_id: str = "w1", *, channel: str = CHANNEL, **options: object) -> DeliveryWorker:
        settings: dict = {
            "per_channel_interval": 0.0,
            "retry_wait_seconds": 0.01,
            "backoff_seconds": 0.0,
            "defer_seconds": 0.0,
            "lease_seconds": 30.0,
            "renderer": PlainRenderer(),
            **options,
        }
        client = AsyncWebClient(token=SLACK_TOKEN, base_url=emu.api_url, timeout=5)
        return DeliveryWorker(
            store,
            client,
            channel=channel,
            leads=LEADS,
            worker_id=worker_id,
            **settings,
        )

    return build
