"""Service configuration: environment variables prefixed SAFEGUARD_ (a .env file is read too)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CsvList = Annotated[tuple[str, ...], NoDecode]


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGUARD_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///safeguard.db"
    host: str = "127.0.0.1"
    port: int = 8080
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_channel: str | None = None
    slack_leads: CsvList = ()
    ack_timeout_seconds: float = Field(default=300, gt=0)
    webhook_secret: SecretStr | None = None
    discourse_secret: SecretStr | None = None
    twilio_auth_token: SecretStr | None = None
    public_url: str | None = None
    chatbot_authors: CsvList = ()
    # Optional, beyond the contract: a TOML file mapping conversations to channels and naming bot and
    # staff authors (integrations/routing.py), and the forum address used for Discourse links.
    routing_file: str | None = None
    discourse_base_url: str | None = None

    @field_validator("slack_leads", "chatbot_authors", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    def require(self, *names: str) -> None:
        """Stop with one clear line naming the first missing setting."""
        for name in names:
            if getattr(self, name) in (None, ""):
                raise ConfigError(f"missing required setting SAFEGUARD_{name.upper()}")

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ConfigError(f"missing required setting SAFEGUARD_{name.upper()}")
        return value.get_secret_value()
