"""Settings of `kb serve`: flags on the command line, else KB_* environment variables, else
defaults. Bad values fail at start-up with a ServiceError naming the variable and the fix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from kb_tools.errors import ServiceError
from kb_tools.service.contacts import ENV as CONTACT_ENV
from kb_tools.service.contacts import ContactSettings

# ServiceSettings field -> ContactSettings field (the handoff: KB_CONTACT_* and KB_TIMEZONE).
CONTACT_FIELDS = {("timezone" if name == "timezone" else f"contact_{name}"): name for name in CONTACT_ENV}

# name -> (environment variable, one-line help). The help text is reused by the CLI.
ENV: dict[str, tuple[str, str]] = {
    "host": ("KB_HOST", "Interface to listen on."),
    "port": ("KB_PORT", "TCP port to listen on."),
    "site_dir": ("KB_SITE_DIR", "The built site (mkdocs build output)."),
    "index_dir": ("KB_INDEX_DIR", "The search index written by mkdocs build."),
    "allowed_origins": ("KB_ALLOWED_ORIGINS", "Comma-separated origins allowed to call the API from a browser (CORS); * for any."),
    "rate_limit": ("KB_RATE_LIMIT", "API requests per second per client IP (token bucket); 0 disables the limit."),
    "rate_burst": ("KB_RATE_BURST", "Requests a client may make at once before the rate limit applies."),
    "trust_proxy": ("KB_TRUST_PROXY", "Take the client IP from X-Forwarded-For (only behind your own proxy): the address your proxies appended, counted from the right."),
    "trusted_hops": ("KB_TRUSTED_HOPS", "With KB_TRUST_PROXY: how many proxies of yours append to X-Forwarded-For (the client is that many entries from the right)."),
    "header_timeout": ("KB_HEADER_TIMEOUT", "Seconds a client has to send a request's headers (then 408 and the connection is closed)."),
    "body_timeout": ("KB_BODY_TIMEOUT", "Seconds a client has to send a request's body after its headers."),
    "send_timeout": ("KB_SEND_TIMEOUT", "Seconds a client may leave an answer unread before it is disconnected."),
    "max_connections": ("KB_MAX_CONNECTIONS", "Open connections at most (0: from the open-file limit); at the cap the connection waiting longest on its client is closed first."),
    "max_query_length": ("KB_MAX_QUERY_LENGTH", "Longest accepted query, in characters."),
    **{field: CONTACT_ENV[name] for field, name in CONTACT_FIELDS.items()},
    "assistant_name": ("KB_ASSISTANT_NAME", "Name shown on the widget's panel."),
    "assistant_avatar": ("KB_ASSISTANT_AVATAR", "URL of the assistant's avatar image (empty: initials)."),
    "database_url": ("KB_DATABASE_URL", "Analytics store, an SQLAlchemy URL (sqlite:///analytics.db or postgresql+psycopg://...)."),
    "demo_shop": ("KB_DEMO_SHOP", "Also serve the demo shop pages at /examples/shop/."),
    "shop_dir": ("KB_SHOP_DIR", "Folder of the demo shop pages."),
    "reload_interval": ("KB_RELOAD_INTERVAL", "Seconds between checks for a newer search index."),
    "cache_size": ("KB_CACHE_SIZE", "Search answers kept in memory for repeated queries; 0 disables."),
    "search_threads": ("KB_SEARCH_THREADS", "Searches run at once (each is CPU-bound); more than the cores lets the queries that wait share the encoder's passes."),
}


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    site_dir: Path = Path("site")
    index_dir: Path = Path("search_index")
    allowed_origins: tuple[str, ...] = ("*",)
    rate_limit: float = 20.0
    rate_burst: int = 40
    trust_proxy: bool = False
    trusted_hops: int = 1
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    send_timeout: float = 60.0
    max_connections: int = 0
    max_query_length: int = 512
    contact_email: str = ""
    contact_phone: str = ""
    contact_whatsapp: str = ""
    contact_chat_url: str = ""
    contact_messenger: str = ""
    contact_hours: str = ""
    contact_reply_time: str = ""
    timezone: str = ""
    assistant_name: str = "Nodi Help"
    assistant_avatar: str = ""
    database_url: str = "sqlite:///analytics.db"
    demo_shop: bool = False
    shop_dir: Path = Path("examples/shop")
    reload_interval: float = 1.0
    cache_size: int = 256
    search_threads: int = 2

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:
        """Defaults, then KB_* variables, then `overrides` (the CLI flags; None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in ENV:
                continue
            var = ENV[f.name][0]
            if var in environ:
                values[f.name] = _convert(f.name, var, environ[var])
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in ENV:
                raise ServiceError(f"unknown setting {name!r}")
            values[name] = _convert(name, f"--{name.replace('_', '-')}", value) if isinstance(value, str) else value
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if not 0 < self.port < 65536:
            raise ServiceError(f"port {self.port} is out of range: use 1-65535 (KB_PORT or --port)")
        if self.rate_limit < 0 or self.rate_burst < 1:
            raise ServiceError("KB_RATE_LIMIT must be >= 0 and KB_RATE_BURST >= 1")
        if not 1 <= self.trusted_hops <= 10:
            raise ServiceError("KB_TRUSTED_HOPS must be between 1 and 10 (the proxies of yours in front of kb serve)")
        for name in ("header_timeout", "body_timeout", "send_timeout"):
            value = getattr(self, name)
            if not 0 < value <= 3600:  # also refuses nan
                raise ServiceError(f"{ENV[name][0]}={value!r}: give a number of seconds between 0 and 3600")
        if self.max_connections and not 16 <= self.max_connections <= 1_000_000:
            raise ServiceError(f"KB_MAX_CONNECTIONS={self.max_connections}: give 0 (automatic) or at least 16")
        if not 1 <= self.max_query_length <= 10_000:
            raise ServiceError("KB_MAX_QUERY_LENGTH must be between 1 and 10000 characters")
        if self.reload_interval <= 0:
            raise ServiceError("KB_RELOAD_INTERVAL must be a positive number of seconds")
        if self.search_threads < 1:
            raise ServiceError("KB_SEARCH_THREADS must be at least 1")
        self.contact.check()
        if self.demo_shop and not self.shop_dir.is_dir():
            raise ServiceError(
                f"demo shop folder '{self.shop_dir}' does not exist: run kb serve from the project "
                "folder or set KB_SHOP_DIR"
            )

    @property
    def contact(self) -> ContactSettings:
        """The handoff channels, hours and reply times."""
        return ContactSettings(**{name: getattr(self, field) for field, name in CONTACT_FIELDS.items()})

    def contacts(self) -> dict[str, Any]:
        """The handoff as the widget reads it at /api/config: time zone and channels."""
        return self.contact.to_config()


def _convert(name: str, source: str, raw: str) -> Any:
    default = ServiceSettings.__dataclass_fields__[name].default
    try:
        if isinstance(default, bool):
            return _bool(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, tuple):
            return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
        return raw
    except ValueError as e:
        raise ServiceError(f"{source}={raw!r} is not valid for {name}: {e}") from None
