"""The policy's vocabulary: every value that crosses the package boundary."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Channel(StrEnum):
    GROUP_CHAT = "group_chat"
    COUNSELLING = "counselling"
    DISCUSSION_BOARD = "discussion_board"
    CHATBOT = "chatbot"


class AuthorKind(StrEnum):
    YOUNG_PERSON = "young_person"
    STAFF = "staff"
    BOT = "bot"


class Category(StrEnum):
    """The confidentiality policy's triggers, in the policy's own order."""

    LIFE_IN_DANGER = "life_in_danger"
    HARMING_OTHERS = "harming_others"
    THREAT_TO_STAFF = "threat_to_staff"
    POSITION_OF_TRUST = "position_of_trust"
    TERRORISM = "terrorism"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"

    @property
    def rank(self) -> int:
        return {"critical": 3, "high": 2, "medium": 1}[self.value]


class Suppression(StrEnum):
    """Why a message was never assessed (the chatbot rule)."""

    CHATBOT = "chatbot"
    BOT_AUTHOR = "bot_author"


@dataclass(frozen=True, slots=True)
class Indicator:
    """A named span of the original text that shows staff why a rule fired."""

    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Identifier:
    """One identifying detail found in a text: its kind (e.g. "phone"), value and span."""

    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redaction:
    text: str
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True, slots=True)
class SuggestedAction:
    """What staff should consider doing, from the rules file."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class Assessment:
    escalate: bool
    categories: tuple[Category, ...]
    severity: Severity | None
    indicators: tuple[Indicator, ...]
    redacted_text: str
    identifiers: tuple[Identifier, ...]
    suppressed: Suppression | None
    policy_version: str
    actions: tuple[SuggestedAction, ...] = field(default=())

    def to_contract(self, message_id: str) -> dict:
        """The `safeguard assess` output line (see CONTRACT.md)."""
        return {
            "id": message_id,
            "escalate": self.escalate,
            "categories": [c.value for c in self.categories],
            "severity": self.severity.value if self.severity else None,
            "indicators": [{"name": i.name, "start": i.start, "end": i.end} for i in self.indicators],
            "redacted_text": self.redacted_text,
            "suppressed": self.suppressed.value if self.suppressed else None,
            "policy_version": self.policy_version,
        }
