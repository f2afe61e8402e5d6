"""Turn environment values into Django settings, failing with one line that names the setting."""

from __future__ import annotations

import os
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

    # Persistent connections (one per gunicorn thread / Celery process), checked before reuse.
    # Connection budget and PgBouncer: see deploy/gunicorn.conf.py.
    max_age = os.environ.get("DATABASE_CONN_MAX_AGE", "600")
    if not max_age.isdigit():
        raise ImproperlyConfigured(f"DATABASE_CONN_MAX_AGE: expected seconds (0 = close after each request), got {max_age!r}")
    try:
        config = dj_database_url.parse(url, conn_max_age=int(max_age), conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("OPTIONS", {})["connect_timeout"] = 5
        # Behind PgBouncer in transaction mode a server-side cursor cannot outlive its transaction.
        pgbouncer = os.environ.get("DATABASE_PGBOUNCER", "").lower() in {"1", "true", "yes"}
        config["DISABLE_SERVER_SIDE_CURSORS"] = pgbouncer
        # Parameters bound on the server let psycopg prepare a statement the fifth time a
        # connection runs it: the many-join queries of the desk then skip the planner (planning
        # them costs more than running them). PgBouncer before 1.21 cannot keep prepared statements.
        config["OPTIONS"]["server_side_binding"] = not pgbouncer
    return config
