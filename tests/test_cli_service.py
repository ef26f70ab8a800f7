"""The service's command line as a user runs it: demo, serve, escalations list/show."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.samples import load_conversations
from bot.store import GroupCommitWriter, IngestItem, Store
from tests.service_harness import database_url

SAFEGUARD = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parent.parent


def _env(**values: str) -> dict[str, str]:
    """The caller's environment without any SAFEGUARD_ setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


def _sample_identity_values() -> list[str]:
    values: list[str] = []
    for conv in load_conversations():
        for msg in conv["messages"]:
            values.extend((msg.get("identity") or {}).values())
            values.extend(v for k, v in msg.items() if k in ("name",) and v)
            if conv["platform"] == "twilio":
                values.append(msg["author"])
    return values


def test_demo_runs_the_pipeline_and_prints_no_identity_value(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [*SAFEGUARD, "demo"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 30
    out = done.stdout
    assert "[shown only to lead U0LEAD0001]" in out
    assert "Only safeguarding leads can reveal" in out  # the refused reveal
    assert "acknowledged by U0STAFF001" in out
    assert re.search(r"2 stored as suppressed chatbot output", out)
    values = _sample_identity_values()
    assert values
    for value in values:
        assert value not in out and value not in done.stderr


def test_serve_with_a_missing_setting_prints_one_line_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SAFEGUARD, "serve"], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    expected = "safeguard: missing required setting SAFEGUARD_SLACK_BOT_TOKEN"
    assert done.stderr.strip().splitlines() == [expected]


def test_serve_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = _env(
        SAFEGUARD_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        SAFEGUARD_PORT="0",
        SAFEGUARD_SLACK_BOT_TOKEN="xoxb-test",
        SAFEGUARD_SLACK_SIGNING_SECRET="s",
        SAFEGUARD_SLACK_CHANNEL="C0SAFE",
        SAFEGUARD_SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    proc = subprocess.Popen(
        [*SAFEGUARD, "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            found = re.search(r"listening on (http://\S+)", line)
            url = found.group(1) if found else None
        assert url, "serve never said where it listens"
        with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
            assert json.load(resp) == {"status": "ok"}
        with urllib.request.urlopen(url + "/readyz", timeout=5) as resp:
            assert json.load(resp) == {"status": "ready"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_escalations_list_and_show_json(store: Store, make_item: Callable[..., IngestItem]) -> None:
    writer = GroupCommitWriter(store)
    await writer.start()
    try:
        first = (await writer.submit(make_item("m1"))).escalation_id
        second = (await writer.submit(make_item("m2"))).escalation_id
        await writer.submit(make_item("m3", escalate=False))
    finally:
        await writer.stop()
    assert first and second
    assert await store.acknowledge(first, "U0LEAD0001", datetime.now(UTC))
    env = _env(SAFEGUARD_DATABASE_URL=database_url(store))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*SAFEGUARD, "escalations", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    listed = json.loads(run("list", "--json").stdout)
    assert {row["id"] for row in listed} == {first, second}
    assert set(listed[0]) >= {"id", "status", "severity", "categories", "acknowledged_by", "acknowledged_at"}
    open_only = json.loads(run("list", "--status", "open", "--json").stdout)
    assert [row["id"] for row in open_only] == [second]

    shown = json.loads(run("show", first, "--json").stdout)
    assert shown["status"] == "acknowledged" and shown["acknowledged_by"] == "U0LEAD0001"
    assert shown["acknowledged_at"] and shown["severity"] == "critical"
    assert shown["categories"] == ["life_in_danger"]
    assert [e["kind"] for e in shown["timeline"]] == ["created", "acknowledged"]
    assert "Sam Example" not in json.dumps(shown)  # masked identity only

    text = run("show", first)
    assert text.returncode == 0 and "acknowledged_by: U0LEAD0001" in text.stdout
    missing = run("show", "no-such-id")
    assert missing.returncode == 1 and "no escalation no-such-id" in missing.stderr
