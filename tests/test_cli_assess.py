"""`safeguard assess` as a subprocess, against CONTRACT.md §1."""
from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CMD = [sys.executable, "-m", "bot.cli", "assess"]
FIELDS = {"id", "escalate", "categories", "severity", "indicators", "redacted_text", "suppressed", "policy_version"}
CATEGORIES = {"life_in_danger", "harming_others", "threat_to_staff", "position_of_trust", "terrorism"}


def _run(lines: list[str]) -> tuple[int, list[dict], str]:
    stdin = "".join(line + "\n" for line in lines)
    result = subprocess.run(CMD, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def _line(**row) -> str:
    return json.dumps(row)


def test_one_line_out_per_line_in_in_order_with_exactly_the_contract_fields():
    rows = [
        _line(id="a", text="I am going to kill myself tonight"),
        _line(id="b", text="what time does the group chat start?", channel="group_chat"),
        _line(id="c", text="My football coach touches me when I'm alone with him", channel="discussion_board"),
        _line(id="d", text="sorry wrong chat", author="staff"),
    ]
    status, out, _ = _run(rows)
    assert status == 0
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    for o in out:
        assert set(o) == FIELDS
        assert isinstance(o["escalate"], bool)
        assert set(o["categories"]) <= CATEGORIES
        assert o["severity"] in {"critical", "high", "medium", None}
        assert isinstance(o["policy_version"], str) and o["policy_version"]
        for ind in o["indicators"]:
            assert set(ind) == {"name", "start", "end"}
    a, b, c, _d = out
    assert a["escalate"] and a["categories"] == ["life_in_danger"] and a["severity"] == "critical"
    text = "I am going to kill myself tonight"
    assert any(text[i["start"]:i["end"]] == "tonight" for i in a["indicators"])
    assert not b["escalate"] and b["categories"] == [] and b["severity"] is None and b["indicators"] == []
    assert c["categories"] == ["position_of_trust"]


def test_conversation_id_carries_context_across_lines():
    rows = [
        _line(id="1", conversation_id="c1", text="everyone would be better off without me"),
        _line(id="2", conversation_id="other", text="the date is set"),
        _line(id="3", conversation_id="c1", text="the date is set"),
        _line(id="4", text="the date is set"),
    ]
    status, out, _ = _run(rows)
    assert status == 0
    assert [o["escalate"] for o in out] == [False, False, True, False]
    assert out[2]["categories"] == ["life_in_danger"]


def test_bad_lines_yield_errors_and_processing_continues():
    rows = [
        "{not json",
        _line(text="no id here"),
        _line(id="x2"),
        _line(id="x3", text="hello", channel="carrier_pigeon"),
        _line(id="ok", text="I am going to kill myself tonight"),
    ]
    status, out, _ = _run(rows)
    assert status == 2
    assert len(out) == 5
    for n, o in enumerate(out[:4], start=1):
        assert set(o) == {"id", "line", "error"}, o
        assert o["line"] == n
        assert isinstance(o["error"], str) and o["error"]
    assert out[0]["id"] is None and "JSON" in out[0]["error"]
    assert out[1]["id"] is None and "id" in out[1]["error"]
    assert out[2]["id"] == "x2" and "text" in out[2]["error"]
    assert out[3]["id"] == "x3" and "channel" in out[3]["error"]
    assert set(out[4]) == FIELDS and out[4]["escalate"] is True


def test_empty_input_exits_0_with_no_output():
    status, out, _ = _run([])
    assert status == 0 and out == []


def test_chatbot_line_is_suppressed():
    status, out, _ = _run([
        _line(id="bot1", channel="chatbot", text="I am going to kill myself tonight"),
        _line(id="bot2", author="bot", text="I am going to kill myself tonight"),
    ])
    assert status == 0
    assert out[0]["suppressed"] == "chatbot" and out[0]["escalate"] is False
    assert out[1]["suppressed"] == "bot_author" and out[1]["escalate"] is False
    for o in out:
        assert o["categories"] == [] and o["severity"] is None and o["indicators"] == []


def test_redacted_text_has_no_phone_or_email():
    phone, email = "07700 900456", "sky.walker99@example.org"
    status, out, _ = _run([_line(id="p", text=f"text me on {phone} or email {email} tonight")])
    assert status == 0
    red = out[0]["redacted_text"]
    assert phone not in red and "900456" not in red and email not in red
    assert "[PHONE]" in red and "[EMAIL]" in red


def test_output_is_flushed_line_by_line():
    proc = subprocess.Popen(CMD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=ROOT, bufsize=1)
    answers: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [answers.put(line) for line in proc.stdout], daemon=True).start()
    try:
        for n, text in enumerate(["hello", "I am going to kill myself tonight", "ok"]):
            proc.stdin.write(_line(id=str(n), conversation_id="live", text=text) + "\n")
            proc.stdin.flush()
            # stdin stays open: an answer only arrives now if the command flushed it.
            got = json.loads(answers.get(timeout=30))
            assert got["id"] == str(n)
            assert got["escalate"] is (n == 1)
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
