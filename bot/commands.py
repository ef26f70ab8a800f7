"""Service subcommands (serve, demo, escalations). Registered by bot.cli; each imports its module
only when run, so `safeguard assess` stays fast to start."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the service's subcommands to the `safeguard` parser."""
    p = sub.add_parser("serve", help="run the service (configured by SAFEGUARD_* settings)")
    p.set_defaults(run=_serve)

    p = sub.add_parser("demo", help="run the whole pipeline locally: no accounts, no network")
    p.set_defaults(run=_demo)

    p = sub.add_parser("escalations", help="read escalations from SAFEGUARD_DATABASE_URL")
    esc_sub = p.add_subparsers(dest="escalations_command", required=True)
    c = esc_sub.add_parser("list", help="list escalations, newest first")
    c.add_argument("--status", choices=["open", "acknowledged", "resolved"])
    c.add_argument("--limit", type=int, default=100)
    c.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    c.set_defaults(run=_escalations_list)
    c = esc_sub.add_parser("show", help="one escalation with its timeline")
    c.add_argument("id")
    c.add_argument("--json", action="store_true", help="one JSON object instead of text")
    c.set_defaults(run=_escalations_show)


def _serve(args: argparse.Namespace) -> int:
    from bot.serve_cli import run_serve

    return run_serve()


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo()


def _escalations_list(args: argparse.Namespace) -> int:
    from bot.escalations_cli import run_list

    return run_list(status=args.status, limit=args.limit, as_json=args.json)


def _escalations_show(args: argparse.Namespace) -> int:
    from bot.escalations_cli import run_show

    return run_show(args.id, as_json=args.json)
