"""Block Kit for escalations: pure functions from an EscalationRecord to chat.* keyword arguments.

Nothing here talks to Slack or the database, so every view can be unit-tested and reused by the
delivery worker and the re-notify scheduler. Views only ever see an EscalationRecord, which holds
masked identity values; the one exception is `reveal_ephemeral`, which is handed the raw values and
is only ever sent ephemerally to a safeguarding lead.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.slack.actions import ESCALATION_EVENT_TYPE, ActionId
from bot.store.records import EscalationRecord
from policy.types import Category, Channel, Severity

Block = dict[str, Any]
ChatKwargs = dict[str, Any]

# Slack's documented limits (Block Kit reference): going over makes chat.* fail with invalid_blocks,
# which would lose an escalation, so every builder stays under them by construction.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 3000

CATEGORY_WORDS: dict[Category, str] = {
    Category.LIFE_IN_DANGER: "Life in danger",
    Category.HARMING_OTHERS: "Harming others",
    Category.THREAT_TO_STAFF: "Threat to staff or services",
    Category.POSITION_OF_TRUST: "Harm by someone in a position of trust",
    Category.TERRORISM: "Terrorism",
}

SEVERITY_WORDS: dict[Severity, str] = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
}

SEVERITY_EMOJI: dict[Severity, str] = {
    Severity.CRITICAL: ":rotating_light:",
    Severity.HIGH: ":warning:",
    Severity.MEDIUM: ":large_yellow_circle:",
}

CHANNEL_WORDS: dict[Channel, str] = {
    Channel.COUNSELLING: "Counselling chat",
    Channel.GROUP_CHAT: "Group chat",
    Channel.DISCUSSION_BOARD: "Discussion board",
    Channel.CHATBOT: "Chatbot",
}

IDENTITY_FIELD_WORDS: dict[str, str] = {
    "name": "Name",
    "date_of_birth": "Date of birth",
    "phone": "Phone",
    "email": "Email",
    "ip_address": "IP address",
    "location": "Location",
}

# The confidentiality policy's own limits on sharing, shown wherever staff might act on an escalation.
SHARING_REMINDER = (
    "Try to tell the young person first; share only identifying and locating details "
    "(e.g. name, date of birth, phone number, IP address) and what is needed to keep them "
    "and others safe. Do not pass on anything else they told us."
)
REVEAL_REMINDER = (
    "Only you can see this. Use these details only to contact the emergency services or another "
    "agency under the confidentiality policy: try to tell the young person first, share only what "
    "identifies or locates them or is needed to keep them and others safe, and do not copy these "
    "details into any channel, thread or ticket."
)


def escape(text: str) -> str:
    """Escape Slack's mrkdwn control characters, so user text cannot form mentions such as <!channel>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate_escaped(
    text: str, limit: int, suffix: str = "…", escape_char: Callable[[str], str] = escape
) -> str:
    """Escape `text` and cut it to at most `limit` characters without splitting an entity like &amp;."""
    escaped = "".join(escape_char(c) for c in text)
    if len(escaped) <= limit:
        return escaped
    budget = limit - len(suffix)
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = escape_char(char)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + suffix


def _quote_char(char: str) -> str:
    # Every new line must start with ">" again, or the rest of the excerpt falls out of the quote.
    return "\n>" if char == "\n" else escape(char)


def quote(text: str, limit: int) -> str:
    """User text as an escaped mrkdwn block quote of at most `limit` characters."""
    return ">" + truncate_escaped(text.replace("\r\n", "\n").replace("\r", "\n"), limit - 1,
                                  escape_char=_quote_char)


def category_words(esc: EscalationRecord) -> str:
    names = [CATEGORY_WORDS.get(c, str(c).replace("_", " ").capitalize()) for c in esc.categories]
    return ", ".join(names) or "Escalation"


def headline(esc: EscalationRecord) -> str:
    """e.g. "Life in danger — CRITICAL"."""
    return f"{category_words(esc)} — {SEVERITY_WORDS.get(esc.severity, str(esc.severity).upper())}"


def channel_words(channel: Channel) -> str:
    return CHANNEL_WORDS.get(channel, str(channel).replace("_", " ").capitalize())


def indicator_words(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize()


def slack_time(at: datetime) -> str:
    """A Slack date token, shown in each reader's own time zone; the fallback is UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def duration_words(seconds: float) -> str:
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    parts: list[str] = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def field_label(key: str) -> str:
    """An identity field's name in words, escaped (keys come from the store, not from us)."""
    return truncate_escaped(IDENTITY_FIELD_WORDS.get(key, indicator_words(key)), 60)


def mention(user_id: str) -> str:
    return f"<@{escape(user_id)}>"


def safe_link(url: str | None, label: str) -> str | None:
    """A mrkdwn link only for plain http(s) URLs; anything else could break out of the <url|label> form."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    if any(c in url for c in "<>| \t\r\n"):
        return None
    return f"<{url.replace('&', '&amp;')}|{label}>"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_SECTION_TEXT]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_CONTEXT_TEXT]}]}


def _header(text: str) -> Block:
    plain = text if len(text) <= MAX_HEADER_TEXT else text[: MAX_HEADER_TEXT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}


def _bulleted(lines: Iterable[str], limit: int) -> str:
    """Join already-escaped, already-bounded lines as a list; drop whole lines (with a count) to fit."""
    items = [f"• {line}" for line in lines]
    out: list[str] = []
    used = 0
    reserve = 24  # room for the "…and N more" line
    for i, item in enumerate(items):
        if used + len(item) + reserve > limit:
            out.append(f"• …and {len(items) - i} more")
            break
        out.append(item)
        used += len(item) + 1
    return "\n".join(out)


def _cap(blocks: list[Block]) -> list[Block]:
    # Builders produce a fixed, small number of blocks; this is a last guard, never expected to cut.
    return blocks[:MAX_BLOCKS]


def _ack_button(esc: EscalationRecord) -> Block:
    return {
        "type": "button",
        "action_id": ActionId.ESCALATION_ACK.value,
        "value": esc.id,
        "style": "primary",
        "text": {"type": "plain_text", "text": "Acknowledge", "emoji": True},
    }


def _reveal_button(esc: EscalationRecord) -> Block:
    # Danger style and a confirmation: revealing identity is the one sensitive act, and it is recorded.
    return {
        "type": "button",
        "action_id": ActionId.ESCALATION_REVEAL.value,
        "value": esc.id,
        "style": "danger",
        "text": {"type": "plain_text", "text": "Reveal identifying details", "emoji": True},
        "confirm": {
            "title": {"type": "plain_text", "text": "Reveal identifying details?"},
            "text": {
                "type": "mrkdwn",
                "text": "Only safeguarding leads may see them; they are shown only to you. "
                "Every reveal and every refused reveal is recorded.",
            },
            "confirm": {"type": "plain_text", "text": "Reveal"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        },
    }


class Renderer:
    """Builds the keyword arguments for chat.postMessage / chat.update / chat.postEphemeral.

    Every method is pure: same record in, same dict out. Callers add `channel` (and `ts`, `user`,
    `thread_ts`) themselves."""

    # -- the channel message ------------------------------------------------------------------------

    def escalation_message(self, esc: EscalationRecord) -> ChatKwargs:
        """The escalation as first posted: full content with Acknowledge and Reveal buttons."""
        blocks = self._body(esc)
        blocks.append({"type": "actions", "block_id": "escalation_actions",
                       "elements": [_ack_button(esc), _reveal_button(esc)]})
        return self._chat(esc, blocks, self._fallback(esc))

    def acknowledged_message(self, esc: EscalationRecord) -> ChatKwargs:
        """The same message after acknowledgement (chat.update, same ts): who and when; Reveal stays."""
        blocks = self._body(esc)
        blocks.append(_context(f":white_check_mark: {self._acknowledged_line(esc)}"))
        blocks.append({"type": "actions", "block_id": "escalation_actions",
                       "elements": [_reveal_button(esc)]})
        return self._chat(esc, blocks, f"{self._fallback(esc)} — acknowledged")

    # -- thread replies and DMs ---------------------------------------------------------------------

    def ack_thread_reply(self, esc: EscalationRecord) -> ChatKwargs:
        text = f":white_check_mark: {self._acknowledged_line(esc)}."
        return {"text": text, "blocks": [_section(text)]}

    def renotify_thread_reply(
        self, esc: EscalationRecord, leads: Iterable[str], *, now: datetime | None = None
    ) -> ChatKwargs:
        """A nudge in the thread naming every lead. `now` defaults to the current time."""
        waited = duration_words(self._age_seconds(esc, now))
        mentions = " ".join(mention(u) for u in leads) or "Safeguarding leads"
        text = (
            f":bell: {mentions} — this escalation ({escape(headline(esc))}) has been "
            f"unacknowledged for {waited}. Please acknowledge it or take it on."
        )
        return {"text": text[:MAX_FALLBACK_TEXT], "blocks": [_section(text)]}

    def renotify_dm(self, esc: EscalationRecord, *, now: datetime | None = None) -> ChatKwargs:
        """A direct message to a lead; it names the channel but carries no excerpt or identity."""
        waited = duration_words(self._age_seconds(esc, now))
        where = f" in <#{escape(esc.slack_channel)}>" if esc.slack_channel else ""
        text = (
            f":bell: An escalation{where} has been unacknowledged for {waited}: "
            f"*{escape(headline(esc))}* ({escape(channel_words(esc.channel))}). "
            "Please open it and acknowledge it."
        )
        blocks = [_section(text), _context(f"Escalation `{escape(esc.id)}`")]
        return {"text": f"Unacknowledged escalation: {headline(esc)}", "blocks": blocks}

    # -- ephemerals ---------------------------------------------------------------------------------

    def reveal_ephemeral(self, esc: EscalationRecord, values: Mapping[str, str]) -> ChatKwargs:
        """The ONLY view carrying raw identity values: send it only by chat.postEphemeral to a lead."""
        lines = [
            f"*{field_label(k)}:* {truncate_escaped(v, 500)}"
            for k, v in values.items()
        ]
        details = "\n".join(lines) if lines else "_No identifying details were provided._"
        blocks = [
            _section(f":lock: *Identifying details* — {escape(headline(esc))}"),
            _section(details),
            _context(f":scales: {REVEAL_REMINDER}"),
        ]
        # The fallback text is kept free of values: it can surface in notifications and previews.
        return {"text": "Identifying details (only visible to you)", "blocks": blocks}

    def reveal_refused_ephemeral(self, esc: EscalationRecord) -> ChatKwargs:
        text = (
            ":no_entry: Only safeguarding leads can reveal identifying details. "
            "This request has been recorded. Please ask a safeguarding lead if details are needed."
        )
        return {"text": "Only safeguarding leads can reveal identifying details.", "blocks": [_section(text)]}

    def already_acknowledged_ephemeral(self, esc: EscalationRecord) -> ChatKwargs:
        text = f":information_source: Already {self._acknowledged_line(esc, capital=False)}."
        return {"text": text, "blocks": [_section(text)]}

    def acknowledged_ephemeral(self, esc: EscalationRecord) -> ChatKwargs:
        """Confirms a click at once; the channel message itself is updated by the delivery worker."""
        text = ":white_check_mark: Acknowledged — thank you. The escalation message will update shortly."
        return {"text": text, "blocks": [_section(text)]}

    def not_found_ephemeral(self, escalation_id: str) -> ChatKwargs:
        text = f":grey_question: Escalation `{truncate_escaped(escalation_id, 100)}` was not found."
        return {"text": text, "blocks": [_section(text)]}

    def error_ephemeral(self) -> ChatKwargs:
        text = (
            ":x: Something went wrong handling that click. Please try again; if it keeps failing, "
            "contact the safeguarding lead directly rather than waiting."
        )
        return {"text": text, "blocks": [_section(text)]}

    # -- parts --------------------------------------------------------------------------------------

    def _chat(self, esc: EscalationRecord, blocks: list[Block], fallback: str) -> ChatKwargs:
        return {
            "text": fallback[:MAX_FALLBACK_TEXT],
            "blocks": _cap(blocks),
            "metadata": {"event_type": ESCALATION_EVENT_TYPE, "event_payload": {"escalation_id": esc.id}},
        }

    def _fallback(self, esc: EscalationRecord) -> str:
        # Fallback text shows in push notifications: category and source only, never the excerpt.
        return f"Safeguarding escalation: {headline(esc)} ({channel_words(esc.channel)})"

    def _acknowledged_line(self, esc: EscalationRecord, *, capital: bool = True) -> str:
        who = mention(esc.acknowledged_by) if esc.acknowledged_by else "someone"
        when = f" at {slack_time(esc.acknowledged_at)}" if esc.acknowledged_at else ""
        return f"{'A' if capital else 'a'}cknowledged by {who}{when}"

    @staticmethod
    def _age_seconds(esc: EscalationRecord, now: datetime | None) -> float:
        now = now or datetime.now(UTC)
        created = esc.created_at if esc.created_at.tzinfo else esc.created_at.replace(tzinfo=UTC)
        return (now - created).total_seconds()

    def _body(self, esc: EscalationRecord) -> list[Block]:
        emoji = SEVERITY_EMOJI.get(esc.severity, ":warning:")
        link = safe_link(esc.link, "Open conversation")
        source = [
            f"*Source:* {escape(channel_words(esc.channel))} on {truncate_escaped(esc.platform, 100)}",
            f"*Conversation:* `{truncate_escaped(esc.conversation_id, 200)}`",
        ]
        if link:
            source.append(f"*Link:* {link}")
        elif esc.link:
            source.append(f"*Link:* {truncate_escaped(esc.link, 500)}")
        source.append(f"*Raised:* {slack_time(esc.created_at)}")

        blocks: list[Block] = [
            _header(f"{emoji} {headline(esc)}"),
            _section("\n".join(source)),
        ]

        indicators = sorted({indicator_words(i.name) for i in esc.indicators})
        if indicators:
            blocks.append(_section("*Why:* " + ", ".join(escape(n) for n in indicators)))

        label = "*Message (identifying details removed):*\n"
        blocks.append(_section(label + quote(esc.redacted_text, MAX_SECTION_TEXT - len(label))))

        if esc.actions:
            steps = _bulleted((truncate_escaped(a.text, 500) for a in esc.actions), MAX_SECTION_TEXT - 40)
            blocks.append(_section("*Suggested actions:*\n" + steps))

        if esc.masked_identity:
            fields = _bulleted(
                (f"{field_label(k)}: {truncate_escaped(v, 200)}" for k, v in esc.masked_identity.items()),
                MAX_SECTION_TEXT - 80,
            )
            blocks.append(_section("*Identifying details on record (masked):*\n" + fields))
        else:
            blocks.append(_section("*Identifying details on record:* none provided"))

        prior = esc.prior_escalations
        blocks.append(_context(
            f":file_folder: Earlier escalations for this young person: {prior}" if prior
            else ":file_folder: No earlier escalations for this young person."
        ))
        blocks.append(_context(f":scales: {SHARING_REMINDER}"))
        blocks.append(_context(
            f"Escalation `{escape(esc.id)}` · policy {escape(esc.policy_version)}"
        ))
        return blocks
