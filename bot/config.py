"""Settings read from the environment and `.env` (prefix ``STUDYBOT_``).

Settings are built once by the composition root and passed to whatever needs them;
nothing imports a settings global.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///studybot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STUDYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    discord_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("STUDYBOT_DISCORD_TOKEN", "DISCORD_TOKEN"),
        description="Bot token from the Discord developer portal; no default.",
    )
    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    dev_guild_id: int | None = Field(
        default=None, description="Sync slash commands to this guild only (fast, for testing)."
    )
    admin_role: str | None = Field(
        default=None, description="Name of a Discord role whose members are group admins."
    )
    default_timezone: str = "Asia/Seoul"
    default_locale: str = "ko"
    reconcile_grace_hours: float = Field(
        default=3.0, ge=0, description="How late a missed duty may still run at start-up."
    )
    outbox_poll_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"
    programmers_base_url: str = "https://school.programmers.co.kr"
    programmers_page_delay: float = Field(default=5.0, ge=0)
    programmers_timeout: float = Field(default=10.0, gt=0)
    programmers_retries: int = Field(default=3, ge=0, le=10)

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("ko", "en"):
            raise ValueError("default_locale must be 'ko' or 'en'")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
        return value
