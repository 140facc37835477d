"""Every knob of the platform, read from ``FORUM_*`` variables and an optional ``forum.toml``.

Precedence, highest first: keyword arguments (tests), environment, ``forum.toml``
(path in ``FORUM_CONFIG_FILE``, default ``./forum.toml``), defaults.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FORUM_", extra="forbid", validate_default=True)

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = Field("", description="public URL; derived from host and port when empty")
    data_dir: Path = Path("var")
    debug: bool = False
    log_level: str = "INFO"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="requests over this get 413")

    # Secrets: the session/token key. Generated once into data_dir when unset.
    secret_key: SecretStr | None = None

    # Database: SQLite file by default, PostgreSQL with postgres://...
    database_url: str = ""
    sqlite_busy_timeout_ms: int = Field(5000, ge=0)

    # Jobs: embedded DB-backed runner unless a Redis URL is set.
    redis_url: str = ""
    run_embedded_worker: bool = True
    job_poll_seconds: float = Field(1.0, gt=0)
    job_max_tries: int = Field(5, ge=1)
    job_retry_base_seconds: float = Field(10.0, gt=0)
    job_lease_seconds: float = Field(300.0, gt=0)

    # Accounts
    require_email_verification: bool = True
    session_max_age_seconds: int = Field(14 * 24 * 3600, ge=60)
    token_max_age_seconds: int = Field(24 * 3600, ge=60)
    rate_limit_login: str = "10/minute"
    rate_limit_signup: str = "5/minute"
    rate_limit_reset: str = "5/minute"
    github_client_id: str = ""
    github_client_secret: SecretStr = SecretStr("")
    github_oauth_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"

    # Outgoing mail: files under data_dir/mail when smtp_host is empty
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    mail_from: str = "forum@localhost"

    # Incoming mail (forum/mail/inbound.py): replies to notifications, support addresses.
    # Reply by email is off (no Reply-To on notifications) while mail_in_domain is empty.
    mail_in_domain: str = Field("", description="domain of reply+<token>@ and support+<project>@")
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = Field(2525, ge=1, le=65535)
    mail_in_max_bytes: int = Field(10 * 1024 * 1024, ge=1024,
                                   description="incoming messages over this are refused")
    mail_in_secret: SecretStr = SecretStr("")  # X-Forum-Inbound-Secret of POST /mail/inbound
    # PEM files; with both set, forum mail-in offers STARTTLS to sending servers.
    mail_in_tls_cert: str = ""
    mail_in_tls_key: str = ""
    mail_in_bounces_per_hour: int = Field(5, ge=0, description="bounces per sender and hour")
    reply_token_max_age_days: int = Field(90, ge=1)
    mail_in_keep_days: int = Field(90, ge=1, description="recorded incoming mail is kept so long")

    # Platform
    platform_name: str = "Forum"
    platform_fee_percent: float = Field(5.0, ge=0, le=100)

    # Search (later issues)
    meilisearch_url: str = ""
    meilisearch_api_key: SecretStr = SecretStr("")

    # Billing: Stripe (the platform's account) and the platform's share of each payment
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = ""  # e.g. stripe-mock or a proxy; empty: Stripe itself

    # Bridges (plugins): may a project's settings point them at private or local addresses
    # (a GitHub Enterprise Server on this network)? Off: only public hosts.
    allow_private_outbound: bool = False
    # Stack Exchange API
    stackexchange_key: SecretStr = SecretStr("")
    stackexchange_api_url: str = "https://api.stackexchange.com/2.3"

    # Plugins: entry-point names to leave unloaded, comma separated
    disabled_plugins: str = ""

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("FORUM_CONFIG_FILE", "forum.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_path))

    # Derived values

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite://{self.data_dir / 'forum.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite://")

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def secret(self) -> str:
        """The signing key; a random one is created once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def masked(self) -> dict[str, Any]:
        """Effective settings for display, secrets replaced by asterisks."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name in {"database_url", "redis_url"} and "@" in str(value):
                scheme, _, rest = str(value).partition("://")
                value = f"{scheme}://********@{rest.rpartition('@')[2]}"
            shown[name] = str(value) if isinstance(value, Path) else value
        return shown


class SettingsError(Exception):
    """An invalid setting; the message names it in one line."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "_".join(str(part) for part in first["loc"]) or "settings"
        env_name = f"FORUM_{name.upper()}"
        raise SettingsError(f"invalid setting {env_name}: {first['msg']}") from None
