"""Settings read from the environment and `.env` (prefix ``STUDYBOT_``).

Settings are built once by the composition root and passed to whatever needs them;
nothing imports a settings global.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///studybot.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STUDYBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,  # `NAME=` (as in .env.example) means "use the default"
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
    guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="The servers the bot serves (comma-separated ids); it leaves any other. "
        "Empty: every server it is invited to (keep Public Bot off).",
    )
    admin_role: str | None = Field(
        default=None, description="Name of a Discord role whose members are group admins."
    )
    shard_count: int | None = Field(
        default=None,
        ge=1,
        description="Discord shards in all; empty: as many as Discord recommends (one "
        "process runs them all).",
    )
    shard_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        description="The shards this process runs (comma-separated, with shard_count); "
        "several processes on one PostgreSQL database each run some. Empty: all.",
    )
    default_timezone: str = "Asia/Seoul"
    default_locale: str = "ko"
    reconcile_grace_hours: float = Field(
        default=3.0, ge=0, description="How late a missed duty may still run at start-up."
    )
    outbox_poll_seconds: float = Field(default=5.0, gt=0)
    group_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="How long a group's row read by one command serves the next ones; a "
        "change made by another process sharing the database shows within it (0: never kept).",
    )
    log_level: str = "INFO"
    programmers_base_url: str = "https://school.programmers.co.kr"
    programmers_page_delay: float = Field(default=5.0, ge=0)
    programmers_timeout: float = Field(default=10.0, gt=0)
    programmers_retries: int = Field(default=3, ge=0, le=10)
    # the code sandbox (sandbox; defaults suit torch lessons)
    sandbox_timeout_s: float = Field(default=20.0, gt=0, le=3600, description="wall time a job")
    sandbox_cpu_s: float = Field(default=20.0, gt=0, le=3600, description="CPU time a process")
    sandbox_memory_mb: int = Field(default=2048, ge=256, description="memory cgroup a sandbox")
    sandbox_pids: int = Field(default=64, ge=8, description="processes and threads a sandbox")
    sandbox_nofile: int = Field(default=256, ge=16)
    sandbox_fsize_mb: int = Field(default=16, ge=1)
    sandbox_output_kb: int = Field(default=64, ge=1, description="stdout and stderr, each")
    sandbox_tmp_mb: int = Field(default=64, ge=1, description="private /tmp and /dev/shm, each")
    sandbox_files_max: int = Field(default=8, ge=0)
    sandbox_file_kb: int = Field(default=2048, ge=1)
    sandbox_image_pixels_max: int = Field(default=25_000_000, ge=1, description="PNG pixels")
    sandbox_image_side_max: int = Field(default=10_000, ge=1, description="PNG side, pixels")
    sandbox_code_kb: int = Field(default=256, ge=1, description="largest program accepted")
    sandbox_threads: int = Field(default=1, ge=1)
    sandbox_pool_size: int = Field(default=2, ge=0, description="warm sandboxes kept ready")
    sandbox_concurrency: int = Field(default=2, ge=1, description="jobs at once (capped at cores)")
    sandbox_queue_max: int = Field(default=10, ge=0)
    sandbox_rate_per_minute: float = Field(default=6.0, gt=0)
    sandbox_rate_burst: int = Field(default=3, ge=1)
    sandbox_allow_unsandboxed_lessons: bool = False
    sandbox_gpu_for_members: bool = False
    sandbox_gpu_memory_mb: int = Field(default=8192, ge=256)
    sandbox_uid_base: int = Field(default=990_000, ge=1000)
    sandbox_python: str | None = None
    sandbox_site_packages: str | None = None
    sandbox_preload_torch: bool = Field(default=True, description="warm sandboxes import torch")
    sandbox_fork_server: bool = Field(
        default=True, description="CPU lanes: a warm zygote forks each job (off: single-use)"
    )
    # where jobs run: "local" (this machine) or "celery" (studybot worker processes reached
    # through a broker; sandbox.remote, README "Runners on other machines")
    sandbox_backend: Literal["local", "celery"] = "local"
    broker_url: SecretStr | None = Field(
        default=None, description="redis://, rediss://, amqp(s)://"
    )
    result_backend_url: SecretStr | None = Field(
        default=None, description="redis(s)://; default: the broker"
    )
    sandbox_remote_namespace: str = "studybot"
    sandbox_remote_queue_wait_s: float = Field(default=120.0, gt=0, le=3600)
    sandbox_remote_gpu_fallback_s: float = Field(default=10.0, gt=0, le=3600)
    sandbox_remote_grace_s: float = Field(default=15.0, gt=0, le=3600)

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated_shards(cls, value: Any) -> Any:
        """``STUDYBOT_SHARD_IDS=0,2`` (spaces allowed); a list is taken as it is."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return [value] if isinstance(value, int) else value

    @model_validator(mode="after")
    def _shards_within_count(self) -> Settings:
        if self.shard_ids and self.shard_count is None:
            raise ValueError("shard_ids needs shard_count (the number of shards in all)")
        count = self.shard_count or 0
        if any(not 0 <= shard < count for shard in self.shard_ids):
            raise ValueError(f"shard_ids must be between 0 and shard_count - 1 ({count - 1})")
        return self

    @field_validator("guild_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """``STUDYBOT_GUILD_IDS=123,456`` (spaces allowed); a list is taken as it is."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

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
