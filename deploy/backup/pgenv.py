"""Print a DATABASE_URL as libpq environment variables (sourced by backup.sh and restore.sh).

The URL is not handed to pg_dump/pg_restore/psql on their command line, where every user of the
machine could read its password in the process list. One clear line on stderr and exit status 2
when the URL is not a PostgreSQL one.
"""

from __future__ import annotations

import shlex
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

# Query parameters of a DATABASE_URL that libpq knows as environment variables.
QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
             "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME", "options": "PGOPTIONS"}


def main(name: str, url: str) -> int:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"} or not parts.path.strip("/"):
        scheme = parts.scheme or "no scheme"
        print(f"{name}: expected postgresql://user:password@host:5432/name, got {scheme}://…", file=sys.stderr)
        return 2
    env = {"PGHOST": parts.hostname or "", "PGPORT": str(parts.port or ""), "PGUSER": unquote(parts.username or ""),
           "PGPASSWORD": unquote(parts.password or ""), "PGDATABASE": unquote(parts.path.lstrip("/"))}
    for key, value in parse_qsl(parts.query):
        if key in QUERY_ENV:
            env[QUERY_ENV[key]] = value
    for key, value in env.items():
        if value:
            print(f"export {key}={shlex.quote(value)}")
        else:
            print(f"unset {key}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except ValueError as exc:  # a port that is not a number, a malformed netloc
        print(f"{sys.argv[1]}: {exc}", file=sys.stderr)
        sys.exit(2)
