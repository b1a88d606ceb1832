"""Configuration from the environment, with defaults that run on one machine.

Changing only DATABASE_URL (e.g. to PostgreSQL) and REDIS_URL moves the platform to shared servers.
"""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'marketing.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    default_in_progress_cap: int = 100
    session_days: int = 14


@lru_cache
def get_settings() -> Settings:
    return Settings()
