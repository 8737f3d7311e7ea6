"""Settings: one root made of small sections, read from FINAGENCY_* variables and a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./data/finagency.db"
    echo: bool = False
    pool_size: int = 10
    # SQLite: how long a writer waits for the lock before giving up (ms).
    sqlite_busy_timeout_ms: int = 5000


class RedisSettings(BaseModel):
    url: str | None = None


class WorkerSettings(BaseModel):
    queues: list[str] = Field(default_factory=lambda: ["default", "publish", "ingest", "content"])
    concurrency: int = 8
    lease_seconds: float = 30.0
    poll_interval: float = 0.5
    batch_size: int = 10
    shutdown_grace_seconds: float = 10.0
    heartbeat_stale_seconds: float = 30.0
    rescue_interval: float = 5.0
    # Finished jobs are pruned after these ages; their counts survive in job_counter.
    keep_completed_hours: float = 24.0
    keep_dead_letters_days: float = 14.0


class SchedulerSettings(BaseModel):
    enabled: bool = True
    tick_seconds: float = 1.0
    ingest_every_seconds: int = 300
    generate_every_seconds: int = 600
    engagement_every_seconds: int = 120


class HttpSettings(BaseModel):
    timeout: float = 10.0
    user_agent: str = "finagency/0.1 (+https://github.com/finagency/finagency)"
    # Hosts, IPs or CIDRs that the guarded client may reach although they are private.
    allow_private: list[str] = Field(default_factory=list)


class LLMSettings(BaseModel):
    generator: str = "template"
    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None


class PlatformAppSettings(BaseModel):
    """An OAuth 2.0 app registered with a platform (X, LinkedIn), for connecting accounts."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Where people consent; None: the platform's own page.
    authorize_url: str | None = None
    # The API host, also where tokens are issued; None: the platform's own.
    api_base_url: str | None = None


class PlatformsSettings(BaseModel):
    x: PlatformAppSettings = Field(default_factory=PlatformAppSettings)
    linkedin: PlatformAppSettings = Field(default_factory=PlatformAppSettings)


class SourcesSettings(BaseModel):
    """Keys of market data sources that need one (free tiers are enough for both)."""

    fred_api_key: SecretStr | None = None
    coingecko_api_key: SecretStr | None = None
    coingecko_pro: bool = False


class SecuritySettings(BaseModel):
    secret_key: SecretStr | None = None
    session_max_age_seconds: int = 12 * 3600
    cookie_secure: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    login_attempts_per_minute: int = 10


class Settings(BaseSettings):
    """The root settings; nested sections read FINAGENCY_<SECTION>__<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix="FINAGENCY_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    # Shortcuts for the common cases; they override the nested sections when set.
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    demo: bool = False
    # Share of sandbox publishes that fail with a simulated 503, to show retries working.
    sandbox_failure_rate: float = 0.0
    # Where the demo publishes: "sandbox" (into the database) or "fake" (the local fakes of
    # X, LinkedIn, Mastodon, Bluesky and Telegram, served by the same process under /fakes).
    demo_platforms: Literal["sandbox", "fake"] = "sandbox"

    @property
    def public_url(self) -> str:
        """How this process reaches itself (the demo's fake platforms live here)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    log_level: str = "INFO"
    log_json: bool = False

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    platforms: PlatformsSettings = Field(default_factory=PlatformsSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        if self.database.url == DatabaseSettings().url:
            return f"sqlite+aiosqlite:///{self.data_dir / 'finagency.db'}"
        return self.database.url

    @property
    def effective_redis_url(self) -> str | None:
        return self.redis_url or self.redis.url

    @property
    def effective_secret_key(self) -> str | None:
        key = self.secret_key or self.security.secret_key
        return key.get_secret_value() if key else None
