"""Settings, read once from the environment (and an optional `.env`).

The variable names are the configuration contract in ARCHITECTURE.md: operators and tests rely on them.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadloop_bot.crypto import Keyring


class Environment(StrEnum):
    LOCAL = "local"
    PRODUCTION = "production"


class ProviderSettings:
    """One mailbox provider's OAuth client, as configured."""

    def __init__(self, *, client_id: str | None, client_secret: SecretStr | None, metadata_url: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.metadata_url = metadata_url

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


class Settings(BaseSettings):
    """Everything the process needs to know about its surroundings."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Environment = Field(default=Environment.LOCAL, alias="LEADLOOP_ENV")
    database_url: str = Field(default="sqlite:///./leadloop.db", alias="DATABASE_URL")
    host: str = Field(default="127.0.0.1", alias="HOST")
    port: int = Field(default=3000, alias="PORT")
    public_url_setting: str | None = Field(default=None, alias="PUBLIC_URL")
    data_dir: Path = Field(default=Path(".leadloop"), alias="LEADLOOP_DATA_DIR")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")

    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    admin_user_ids: str = Field(default="", alias="ADMIN_USER_IDS")

    encryption_keys: SecretStr | None = Field(default=None, alias="ENCRYPTION_KEYS")

    google_client_id: str | None = Field(default=None, alias="GOOGLE_CLIENT_ID")
    google_client_secret: SecretStr | None = Field(default=None, alias="GOOGLE_CLIENT_SECRET")
    google_metadata_url: str = Field(
        default="https://accounts.google.com/.well-known/openid-configuration", alias="GOOGLE_METADATA_URL"
    )
    microsoft_client_id: str | None = Field(default=None, alias="MICROSOFT_CLIENT_ID")
    microsoft_client_secret: SecretStr | None = Field(default=None, alias="MICROSOFT_CLIENT_SECRET")
    microsoft_metadata_url: str = Field(
        default="https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        alias="MICROSOFT_METADATA_URL",
    )
    yahoo_client_id: str | None = Field(default=None, alias="YAHOO_CLIENT_ID")
    yahoo_client_secret: SecretStr | None = Field(default=None, alias="YAHOO_CLIENT_SECRET")
    yahoo_metadata_url: str = Field(
        default="https://api.login.yahoo.com/.well-known/openid-configuration", alias="YAHOO_METADATA_URL"
    )

    support_email: str = Field(default="support@example.com", alias="SUPPORT_EMAIL")
    health_sweep_seconds: int = Field(default=900, alias="HEALTH_SWEEP_SECONDS")
    alert_reminder_hours: int = Field(default=24, alias="ALERT_REMINDER_HOURS")

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """A malformed key must stop start-up, not surface later as credentials nobody can read."""
        if value is not None:
            Keyring.parse(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        """Outside local mode a missing or placeholder secret is a misconfiguration, not a default."""
        if self.environment is Environment.PRODUCTION:
            problems = []
            if not self.encryption_keys:
                problems.append("ENCRYPTION_KEYS is required in production")
            if not self.public_url.startswith("https://"):
                problems.append("PUBLIC_URL must be https:// in production")
            if (self.slack_bot_token or self.slack_client_id) and not self.slack_signing_secret:
                problems.append("SLACK_SIGNING_SECRET is required when Slack is configured")
            if problems:
                raise ValueError("; ".join(problems))
        return self

    @property
    def public_url(self) -> str:
        base = self.public_url_setting or f"http://127.0.0.1:{self.port}"
        return base.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Browsers only send `Secure` cookies over https, so loopback http development can't use them."""
        return self.public_url.startswith("https://")

    @cached_property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admin_user_ids.split(",") if part.strip())

    def provider(self, name: str) -> ProviderSettings:
        return ProviderSettings(
            client_id=getattr(self, f"{name}_client_id"),
            client_secret=getattr(self, f"{name}_client_secret"),
            metadata_url=getattr(self, f"{name}_metadata_url"),
        )


def load_settings() -> Settings:
    """Read settings from the environment and the `.env` file (LEADLOOP_ENV_FILE names another)."""
    return Settings(_env_file=os.environ.get("LEADLOOP_ENV_FILE", ".env"))  # type: ignore[call-arg]
