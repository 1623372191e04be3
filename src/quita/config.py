"""Settings, read once from the environment (prefix ``QUITA_``) or a ``.env`` file.

One setting picks the database: ``QUITA_DATABASE_URL``. A SQLite URL means the embedded
mode (a file in the working directory); a PostgreSQL URL means the scaled mode.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUITA_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///quita.db"
    data_dir: Path = Path("quita-data")
    import_batch_size: int = Field(default=5000, ge=100, le=100_000)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "info"
    # Embedded job runner threads (the in-process stand-in for a broker-backed worker pool).
    job_threads: int = Field(default=8, ge=1, le=64)
    # Load the bot's NLU model at start (in the background) in processes that run jobs, not on the first message.
    nlu_preload: bool = True
    # Embedded mode: `quita serve` on SQLite also runs the cadence planner and the dispatcher.
    # (With PostgreSQL that work belongs to `quita worker` processes and this is ignored.)
    embedded_dispatch: bool = True
    # Scaled mode's job engine: amqp://… (RabbitMQ) or redis://… sends jobs to Dramatiq, consumed by
    # `quita worker` processes. Absent: jobs run on the in-process threads above (embedded).
    broker_url: str | None = None
    # The broker queue (one per deployment; tests use their own).
    job_queue: str = "quita-jobs"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
