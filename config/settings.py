"""Settings: one typed object read from the environment and checked at start-up."""

import hashlib
import hmac
import re
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.logs import LogFormat

PLACEHOLDERS = {"", "changeme", "change-me", "secret", "dev", "test"}
MIN_ADMIN_TOKEN_CHARS = 16
SANDBOX_CODE = re.compile(r"[a-z]+(?:-[a-z]+)*")


class LogSettings(BaseSettings):
    """How the process logs: read first, alone, so that a command logs as asked even
    before (or without) the rest of the settings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    log_format: LogFormat = "text"


class Settings(LogSettings):
    """Configuration; see the table in docs/DESIGN.md."""

    database_url: str = "sqlite:///turnero.db"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_url: str | None = None
    # the code of the account's WhatsApp sandbox, as Twilio's console shows it ("join <code>")
    twilio_sandbox_code: str | None = None
    public_base_url: str = "http://localhost:5000"
    secret_key: str | None = None
    turnero_env: str = "development"
    notifications_interval_seconds: float = 60.0
    instance_dir: Path = Path("instance")
    worker_interval_seconds: float = 2.0
    admin_api_token: str | None = None
    trusted_proxies: int = Field(default=0, ge=0)
    redis_url: str | None = None
    outbox_sends_at_once: int = Field(default=16, ge=1, le=64)
    # at least twice a send's timeout (10 s): a batch sends for half of it, and a send it
    # started then must have ended before anyone takes it for a dead worker's
    outbox_claim_timeout_seconds: float = Field(default=120.0, ge=20.0, le=3600.0)
    rasa_clinic_id: int | None = None  # the clinic `turnero actions` books into, unless a slot says
    # an OpenAI-compatible API the findings' narrative is asked of; unset, there is none
    report_narrative_url: str | None = None
    report_narrative_model: str = "gpt-4o-mini"
    report_narrative_api_key: str | None = None
    report_narrative_timeout_seconds: float = Field(default=20.0, gt=0.0, le=120.0)

    @field_validator("report_narrative_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        """An http(s) base URL, or none (an empty value is none)."""
        url = (url or "").strip().rstrip("/")
        if not url:
            return None
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("REPORT_NARRATIVE_URL must be an http(s) URL")
        return url

    @field_validator("twilio_sandbox_code")
    @classmethod
    def _sandbox_code(cls, code: str | None) -> str | None:
        """The words after "join" (the whole "join happy-tiger" is taken too), or none."""
        code = (code or "").strip().lower().removeprefix("join ").strip()
        if not code:
            return None
        if not SANDBOX_CODE.fullmatch(code):
            raise ValueError("TWILIO_SANDBOX_CODE must be words joined by hyphens: happy-tiger")
        return code

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> "Settings":
        if self.turnero_env == "production":
            if (self.secret_key or "").strip().lower() in PLACEHOLDERS:
                raise ValueError("SECRET_KEY must be set to a real secret in production")
            if not (self.twilio_account_sid and self.twilio_auth_token):
                raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
            token = (self.admin_api_token or "").strip()
            if token.lower() in PLACEHOLDERS or len(token) < MIN_ADMIN_TOKEN_CHARS:
                raise ValueError(
                    f"ADMIN_API_TOKEN must be a real secret of {MIN_ADMIN_TOKEN_CHARS}+ "
                    "characters in production"
                )
        return self

    @property
    def sandbox(self) -> bool:
        """Without Twilio credentials nothing leaves the machine."""
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @cached_property
    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or one generated on first run and kept in the instance folder."""
        if self.secret_key:
            return self.secret_key
        path = self.instance_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def webhook_auth_token(self) -> str:
        """The token inbound signatures are checked with: Twilio's, or in the sandbox one
        derived from the secret key (the terminal chat signs with the same)."""
        if self.twilio_auth_token:
            return self.twilio_auth_token
        digest = hmac.new(self.resolved_secret_key.encode(), b"sandbox-webhook", hashlib.sha256)
        return digest.hexdigest()

    @property
    def admin_token(self) -> str:
        """The bearer token of the admin API: ADMIN_API_TOKEN, or outside production one
        derived from the secret key (`turnero demo` prints it)."""
        if self.admin_api_token:
            return self.admin_api_token
        digest = hmac.new(self.resolved_secret_key.encode(), b"admin-api", hashlib.sha256)
        return digest.hexdigest()

    @property
    def account_sid(self) -> str:
        return self.twilio_account_sid or "AC" + "0" * 32

    def webhook_url(self, path: str) -> str:
        return self.public_base_url.rstrip("/") + path
