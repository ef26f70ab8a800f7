"""Service subcommands (serve, demo, escalations). Registered by bot.cli."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the service's subcommands to the `safeguard` parser."""
