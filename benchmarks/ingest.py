"""Ingest benchmark: the generic webhook (verify, parse, policy, durable group-commit write) against a
bare aiohttp handler (read body, answer 202) on the same machine in the same run.

    .venv/bin/python benchmarks/ingest.py [--requests 3000] [--connections 32] [--seconds 20]

The server runs in a child process, the load generator (aiohttp client, N keep-alive connections on
loopback) in this one. Throughput requests are non-escalating messages with unique ids; the
webhook-to-Slack latency is measured separately, in process, over escalating messages sent one at a
time to the real service and the Slack emulator. PostgreSQL is included when BENCH_DATABASE_URL (or
postgresql+asyncpg://postgres@127.0.0.1:5432/test) is reachable: a throw-away database is created."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import webhook_signing as sign  # noqa: E402
from bot.app import Tuning, build_service  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.delivery import METADATA_EVENT_TYPE  # noqa: E402
from bot.slack_emulator import SlackEmulator  # noqa: E402

SECRET = "bench-secret"
CHANNEL = "C0BENCH"
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
CALM = "had a long day at college, going to watch something and sleep"
CRISIS = "I'm going to kill myself tonight"


def payload(message_id: str, text: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "platform": "bench",
        "channel": "counselling",
        "conversation_id": f"c-{message_id}",
        "author": {"id": "u-bench", "kind": "young_person"},
        "text": text,
        "sent_at": "2026-11-24T10:00:00Z",
        "identity": {"name": "Bench Example"},
    }


def settings(database_url: str, slack_api_url: str, port: int = 0) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        host="127.0.0.1",
        port=port,
        slack_bot_token="xoxb-bench",
        slack_signing_secret="bench-signing",
        slack_api_url=slack_api_url,
        slack_channel=CHANNEL,
        webhook_secret=SECRET,
    )


# -- servers, each in a child process ----------------------------------------------------------


async def _bare(ready: Any, stop: Any) -> None:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "stored"}, status=202)

    app = web.Application()
    app.router.add_post("/webhooks/generic", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ready.send(runner.addresses[0][1])
    while not stop.is_set():  # noqa: ASYNC110 - a process-shared event has no awaitable form
        await asyncio.sleep(0.1)
    await runner.cleanup()


async def _service(database_url: str, ready: Any, stop: Any) -> None:
    async with SlackEmulator(bot_token="xoxb-bench", signing_secret="bench-signing") as emu:
        emu.add_channel(CHANNEL)
        async with build_service(settings(database_url, emu.api_url)) as service:
            ready.send(int(service.url.rsplit(":", 1)[1]))
            while not stop.is_set():  # noqa: ASYNC110 - a process-shared event has no awaitable form
                await asyncio.sleep(0.1)


def _child(kind: str, database_url: str, ready: Any, stop: Any) -> None:
    if kind == "bare":
        asyncio.run(_bare(ready, stop))
    else:
        asyncio.run(_service(database_url, ready, stop))


# -- load ------------------------------------------------------------------------------------


async def load(port: int, requests: int, connections: int, seconds: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/webhooks/generic"
    # Signed up front, so the client's cost stays out of the measured loop as far as it can.
    bodies = [sign.generic(SECRET, payload(uuid.uuid4().hex, CALM)) for _ in range(requests)]
    latencies: list[float] = []
    errors = 0
    next_index = 0
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal next_index, errors
        while next_index < len(bodies) and time.monotonic() < deadline:
            req = bodies[next_index]
            next_index += 1
            t0 = time.perf_counter()
            async with session.post(url, data=req.body, headers=req.headers) as resp:
                await resp.read()
                if resp.status != 202:
                    errors += 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        # Warm-up: connections, the policy's compiled rules, the database's first pages.
        warm = [sign.generic(SECRET, payload(uuid.uuid4().hex, CALM)) for _ in range(50)]
        for req in warm:
            async with session.post(url, data=req.body, headers=req.headers) as resp:
                await resp.read()
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def run_server_and_load(kind: str, database_url: str, args: argparse.Namespace) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    stop = ctx.Event()
    proc = ctx.Process(target=_child, args=(kind, database_url, child, stop), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise RuntimeError(f"{kind} server did not start")
        port = parent.recv()
        return asyncio.run(load(port, args.requests, args.connections, args.seconds))
    finally:
        stop.set()
        proc.join(20)
        if proc.is_alive():
            proc.terminate()


# -- webhook -> chat.postMessage -----------------------------------------------------------------


async def post_latency(database_url: str, count: int) -> dict[str, float]:
    tuning = Tuning(per_channel_interval=0.0, delivery_idle_seconds=1.0)
    async with SlackEmulator(bot_token="xoxb-bench", signing_secret="bench-signing") as emu:
        emu.add_channel(CHANNEL)
        async with build_service(settings(database_url, emu.api_url), tuning=tuning) as service:
            samples: list[float] = []
            async with aiohttp.ClientSession() as http:
                for _ in range(count):
                    req = sign.generic(SECRET, payload(uuid.uuid4().hex, CRISIS))
                    before = len(emu.messages_with_metadata(METADATA_EVENT_TYPE))
                    t0 = time.perf_counter()
                    async with http.post(service.url + req.path, data=req.body, headers=req.headers) as r:
                        assert r.status == 202
                    # The emulator exposes no event; a 0.5 ms poll bounds the measurement error.
                    while len(emu.messages_with_metadata(METADATA_EVENT_TYPE)) == before:  # noqa: ASYNC110
                        await asyncio.sleep(0.0005)
                    samples.append(time.perf_counter() - t0)
    samples.sort()
    return {
        "count": len(samples),
        "p50_ms": statistics.median(samples) * 1000,
        "p99_ms": samples[max(0, int(len(samples) * 0.99) - 1)] * 1000,
    }


# -- PostgreSQL (optional) ---------------------------------------------------------------------


async def pg_create() -> str | None:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"safeguard_bench_{os.getpid()}"
    plain = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = await asyncpg.connect(plain, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def pg_drop(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    plain = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(plain, timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await conn.close()


# -- report ------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--escalations", type=int, default=50)
    args = parser.parse_args()

    print(f"# ingest benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"load: {args.connections} concurrent connections, up to {args.requests} requests or "
          f"{args.seconds:.0f} s per run, loopback, server in a separate process")
    bare = run_server_and_load("bare", "", args)
    rows = [("bare aiohttp handler (read body, 202)", bare)]
    latency: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        sqlite_run = run_server_and_load("app", sqlite_url, args)
        rows.append(("generic webhook, SQLite WAL synchronous=FULL", sqlite_run))
        latency_url = f"sqlite+aiosqlite:///{Path(tmp) / 'lat.db'}"
        latency.append(("SQLite", asyncio.run(post_latency(latency_url, args.escalations))))
    pg_url = asyncio.run(pg_create())
    if pg_url is not None:
        try:
            rows.append(("generic webhook, PostgreSQL (loopback)", run_server_and_load("app", pg_url, args)))
            latency.append(("PostgreSQL", asyncio.run(post_latency(pg_url, args.escalations))))
        finally:
            asyncio.run(pg_drop(pg_url))
    else:
        print("PostgreSQL: not reachable, skipped")

    print()
    print("| handler | requests | errors | req/s | share of bare | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['requests']:.0f} | {r['errors']:.0f} | {r['rps']:,.0f} | "
              f"{r['rps'] / bare['rps']:.0%} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    print()
    print("| webhook -> chat.postMessage at the emulator | escalations | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, r in latency:
        print(f"| {name} | {r['count']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
