"""The process environment (SPEC.md "Environment"), read with pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    config_path: Path = Field(Path("statusbot.yaml"), validation_alias="STATUSBOT_CONFIG")
    redis_url: SecretStr | None = Field(None, validation_alias="REDIS_URL")
    redis_prefix: str = Field("statusbot:", validation_alias="STATUSBOT_REDIS_PREFIX")
    database: Path = Field(Path("statusbot.db"), validation_alias="STATUSBOT_DB")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")

    teams_app_id: str | None = Field(None, validation_alias="TEAMS_APP_ID")
    teams_app_password: SecretStr | None = Field(None, validation_alias="TEAMS_APP_PASSWORD")
    teams_openid_metadata_url: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        validation_alias="TEAMS_OPENID_METADATA_URL",
    )
    teams_login_url: str = Field(
        "https://login.microsoftonline.com/botframework.com", validation_alias="TEAMS_LOGIN_URL"
    )
    teams_service_url: str = Field(
        "https://smba.trafficmanager.net/teams/", validation_alias="TEAMS_SERVICE_URL"
    )

    host: str = Field("0.0.0.0", validation_alias="STATUSBOT_HOST")
    port: int = Field(3000, validation_alias="PORT")
    alertmanager_token: SecretStr | None = Field(None, validation_alias="ALERTMANAGER_TOKEN")
    public_url: str = Field("http://localhost:3000", validation_alias="STATUSBOT_PUBLIC_URL")
    # Who is typing at the console: roles and four eyes apply to this ID as to any chat user.
    console_user: str = Field("console", min_length=1, validation_alias="STATUSBOT_CONSOLE_USER")
    static_dir: Path | None = Field(None, validation_alias="STATUSBOT_STATIC_DIR")
    # Status-page subscribers by email: smtp://user:pass@host:587 or smtps://host:465.
    smtp_url: SecretStr | None = Field(None, validation_alias="SMTP_URL")
    mail_from: str | None = Field(None, validation_alias="STATUSBOT_MAIL_FROM")

    # Approved statements are mirrored to an existing Atlassian Statuspage page when this key
    # and the config's `statuspage_io` section are both given.
    statuspage_api_key: SecretStr | None = Field(None, validation_alias="STATUSPAGE_API_KEY")
    statuspage_api_url: str = Field(
        "https://api.statuspage.io/v1", validation_alias="STATUSPAGE_API_URL"
    )

    # Outgoing HTTPS trusts these CA bundles when set (corporate CAs, tests).
    ssl_cert_file: Path | None = Field(
        None, validation_alias=AliasChoices("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    )
