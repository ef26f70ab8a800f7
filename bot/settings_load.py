"""Read Settings for a command, turning every configuration problem into one line naming it."""
from __future__ import annotations

from pydantic import ValidationError

from bot.config import ConfigError, Settings


def load_settings() -> Settings:
    """Settings from the environment and .env; ConfigError (one line) when a value is unusable."""
    try:
        return Settings()
    except ValidationError as exc:
        # Name the setting, never its value (it may be a secret).
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "?"
        raise ConfigError(f"invalid setting SAFEGUARD_{name} ({first.get('type', 'invalid')})") from None
