"""The one normalised message every platform module produces."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from policy.types import AuthorKind, Channel


class Identity(BaseModel):
    """Identifying and locating details: the only things the policy allows staff to share."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    date_of_birth: str | None = None
    phone: str | None = None
    email: str | None = None
    ip_address: str | None = None
    location: str | None = None

    def present(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v}


class Author(BaseModel):
    id: str = Field(min_length=1, max_length=256)
    kind: AuthorKind = AuthorKind.YOUNG_PERSON
    display_name: str | None = Field(default=None, max_length=256)


class InboundMessage(BaseModel):
    """A chat message from any platform, normalised.

    `platform` + `message_id` identify it: a repeat of the same pair is the same message.
    """

    platform: str = Field(min_length=1, max_length=64)
    message_id: str = Field(min_length=1, max_length=256)
    channel: Channel
    conversation_id: str = Field(min_length=1, max_length=256)
    author: Author
    text: str = Field(max_length=100_000)
    sent_at: datetime
    identity: Identity = Field(default_factory=Identity)
    link: str | None = Field(default=None, max_length=2048)
