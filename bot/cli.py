"""`safeguard` command line. Each subcommand imports what it needs, so `assess` starts fast."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="safeguard", description="Safeguard Relay")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("assess", help="assess JSON Lines messages from stdin (see CONTRACT.md)")
    p.add_argument("--rules", help="rules file to use instead of the built-in one")
    p.set_defaults(run=_assess)

    p = sub.add_parser("policy", help="work with the rules file")
    policy_sub = p.add_subparsers(dest="policy_command", required=True)
    c = policy_sub.add_parser("check", help="validate a rules file and report every mistake")
    c.add_argument("path", nargs="?", help="rules file (default: the built-in policy/rules.toml)")
    c.set_defaults(run=_policy_check)

    from bot import commands  # the service commands register themselves here

    commands.register(sub)

    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


def _assess(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.assess_cli import run_assess
    from policy.engine import Engine
    from policy.rules import RulesError

    try:
        engine = Engine.from_file(Path(args.rules)) if args.rules else Engine.default()
    except (RulesError, OSError) as exc:
        print(f"safeguard: rules file unusable: {exc}", file=sys.stderr)
        return 2
    return run_assess(engine, sys.stdin, sys.stdout)


def _policy_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from policy.rules import RulesError, check_rules, default_rules_path, parse_rules, read_rules_file

    path = Path(args.path) if args.path else default_rules_path()
    try:
        problems = check_rules(read_rules_file(path))
        if not problems:
            # Everything the engine loads beside the file, too: the learned model and its pinned version.
            parse_rules(read_rules_file(path), base=path.parent)
    except RulesError as exc:
        problems = exc.problems
    except OSError as exc:
        problems = [f"{path}: cannot be read ({exc.strerror})"]
    for problem in problems:
        print(f"{path.name}: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    data = read_rules_file(path)
    print(f"{path.name}: OK, version {data['version']}, {len(data['signals'])} signals, "
          f"{len(data['rules'])} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
