"""The API's knobs (``CW_API_*``) on top of the shared connection settings (``CW_*``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch_runtime.settings import CommonSettings


class ApiSettings(CommonSettings):
    """Built once in ``main()`` or a test; ``DATABASE_URL``/``CW_DATABASE_URL`` is shared.

    Binds to 127.0.0.1 by default: exposing the API is a decision (``CW_API_HOST=0.0.0.0``
    behind TLS), not an accident.
    """

    model_config = SettingsConfigDict(env_prefix="CW_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    db_pool_size: int = Field(10, ge=1)
    rate_limit_per_s: float = Field(
        50.0, ge=0, description="steady requests per second per key (0: no limit)"
    )
    rate_limit_burst: int = Field(200, ge=1, description="requests a key may send at once")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser (none: CORS closed)",
    )
    cookie_secure: bool = Field(
        True, description="session cookie only over HTTPS (false for a plain-http localhost demo)"
    )
    session_lifetime: timedelta = Field(timedelta(hours=12), description="dashboard session")
    auth_cache_ttl_s: float = Field(
        5.0, ge=0, description="how long a verified key is trusted without asking PostgreSQL"
    )
    access_log: bool = False
