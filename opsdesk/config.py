"""Turn environment values into Django settings, failing with one line that names the setting."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

__all__ = ["database_from_url", "SUPPORTED_DATABASE_SCHEMES"]

SUPPORTED_DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "sqlite")


def database_from_url(url: str, var_dir: Path) -> dict:
    """DATABASE_URL → a Django DATABASES entry; empty means SQLite under var_dir."""
    if not url:
        var_dir.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(var_dir / "opsdesk.sqlite3"),
            # SQLite serialises writers; wait instead of failing when the poller and web write at once.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL: unsupported scheme {scheme or url!r}; "
            "use postgresql://user:password@host:5432/name or sqlite:///path"
        )
    import dj_database_url

    try:
        config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
    return config
