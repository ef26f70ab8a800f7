"""`safeguard serve`: run the service until SIGINT or SIGTERM, then stop cleanly (bot.app)."""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.app import build_service
from bot.config import ConfigError, Settings
from bot.settings_load import load_settings
from integrations.routing import RoutingConfigError

EXIT_CONFIG = 2


def run_serve() -> int:
    try:
        settings = load_settings()
        return asyncio.run(_serve(settings))
    except (ConfigError, RoutingConfigError) as exc:
        print(f"safeguard: {exc}", file=sys.stderr)
        return EXIT_CONFIG


async def _serve(settings: Settings) -> int:
    # Log lines carry ids, counts and error types only (see the modules that write them).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with build_service(settings) as service:
        print(f"safeguard: listening on {service.url}", file=sys.stderr, flush=True)
        await stop.wait()
    return 0
