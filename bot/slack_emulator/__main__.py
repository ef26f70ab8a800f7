"""`python -m bot.slack_emulator --port 3000`: run the emulator alone for manual demos."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import SlackEmulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.slack_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--bot-token", default="xoxb-test")
    parser.add_argument("--signing-secret", default="emulator-signing-secret")
    parser.add_argument("--team-id", default="T0001")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    emu = SlackEmulator(bot_token=args.bot_token, signing_secret=args.signing_secret, team_id=args.team_id)
    api_url = await emu.start(host=args.host, port=args.port)
    print(f"Slack emulator API URL: {api_url}  (bot token {args.bot_token})", flush=True)
    stopped = asyncio.Event()
    # SIGTERM (e.g. from a supervisor or a test) should shut down as cleanly as Ctrl-C does.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
