"""The bot's settings: everything the index needs plus Telegram, access and storage."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from index.settings import IndexSettings


class Settings(IndexSettings):
    """One frozen settings object for the bot process, built once in ``main``."""

    model_config = SettingsConfigDict(env_prefix="POMOCNIK_", env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN")
    )
    # Prefix to which the token is appended, as PTB's ``base_url``.
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_BASE_URL"),
    )
    webhook_url: str | None = None  # POMOCNIK_WEBHOOK_URL: public URL → webhook mode
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: SecretStr | None = None
    allowed_ids: frozenset[int] = frozenset()  # users or chats; empty = everyone
    admin_ids: frozenset[int] = frozenset()
    questions_per_minute: int = 10
    db: Path | None = None  # default: data_dir / "pomocnik.sqlite3"
    log_message_text: bool = False
    retention_days: int = 180  # feedback and unanswered questions are deleted after this
    # How often the running bot looks for an index version built by another process
    # (`python -m index build`); 0 turns the check off.
    index_check_seconds: float = Field(default=30.0, ge=0)
    # How often the bot looks for changes to announce to /subskrybuj chats; 0 turns alerts off.
    alerts_check_seconds: float = Field(default=60.0, ge=0)

    @field_validator("allowed_ids", "admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @property
    def db_path(self) -> Path:
        """The SQLite file for feedback and unanswered questions."""
        return self.db if self.db is not None else self.data_dir / "pomocnik.sqlite3"
