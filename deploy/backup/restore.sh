#!/usr/bin/env bash
# Restore a backup made by backup.sh into a fresh, empty PostgreSQL database, then check that the
# desk starts on it.
#
#   createdb -h db -U opsdesk opsdesk_restored
#   deploy/backup/restore.sh var/backups/opsdesk-20261203T020000Z postgresql://opsdesk:…@db:5432/opsdesk_restored
#
# The target URL may also be given as OPSDESK_RESTORE_DATABASE_URL. The media archive (if the backup
# has one) is unpacked into OPSDESK_MEDIA_ROOT (default $OPSDESK_VAR_DIR/media) of this environment,
# which must be empty or absent. Then, with DATABASE_URL set to the target:
# `manage.py migrate --check` (the schema is the code's) and `manage.py check`.
# The target database must exist and hold no table: restore.sh never overwrites a live desk.
# PYTHON and OPSDESK_MANAGE name the desk's Python and manage.py (default: this checkout's .venv and
# manage.py; in the image: PYTHON=python OPSDESK_MANAGE=/app/manage.py).
# Any failure: one line on stderr naming what failed, exit status 1 or 2.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/../.." && pwd)"
# The desk's Python: PYTHON, else the checkout's .venv, else python3 (the image).
if [[ -z "${PYTHON:-}" && -x "$project/.venv/bin/python" ]]; then python="$project/.venv/bin/python"; else python="${PYTHON:-python3}"; fi
manage="${OPSDESK_MANAGE:-$project/manage.py}"
fail() { echo "restore: $*" >&2; exit 1; }
usage() { echo "restore: usage: restore.sh BACKUP_DIR TARGET_DATABASE_URL (or OPSDESK_RESTORE_DATABASE_URL)" >&2; exit 2; }

backup="${1:-}"
target="${2:-${OPSDESK_RESTORE_DATABASE_URL:-}}"
[[ -n "$backup" && -n "$target" ]] || usage
[[ -f "$backup/database.dump" ]] || fail "$backup/database.dump not found (a directory made by backup.sh?)"
if [[ -f "$backup/SHA256SUMS" ]]; then
    (cd "$backup" && sha256sum --quiet --check SHA256SUMS >/dev/null 2>&1) || fail "$backup: checksums do not match SHA256SUMS (damaged copy?)"
fi
pgenv="$("$python" "$here/pgenv.py" TARGET_DATABASE_URL "$target" 2>&1)" || { echo "restore: $pgenv" >&2; exit 2; }
eval "$pgenv"
command -v pg_restore >/dev/null || fail "pg_restore not found (install postgresql-client of the server's version)"

where="$PGUSER@${PGHOST:-localhost}:${PGPORT:-5432}/$PGDATABASE"
tables="$(psql -XAtqc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" 2>&1)" \
    || fail "cannot connect to the target database $where: $(echo "$tables" | head -n 1)"
[[ "$tables" == "0" ]] || fail "the target database $where is not empty ($tables tables); restore into a new one (createdb)"

media="${OPSDESK_MEDIA_ROOT:-${OPSDESK_VAR_DIR:-$project/var}/media}"
if [[ -f "$backup/media.tar.gz" && "${OPSDESK_STORAGE:-filesystem}" != "s3" ]]; then
    if [[ -d "$media" && -n "$(ls -A "$media")" ]]; then
        fail "the media directory $media is not empty; set OPSDESK_MEDIA_ROOT to a new directory"
    fi
fi

err="$(mktemp)"
trap 'rm -f "$err"' EXIT
# One transaction: a failed restore leaves the target as empty as it was.
if ! pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$PGDATABASE" \
        "$backup/database.dump" 2>"$err"; then
    fail "pg_restore into $where failed: $(grep -v '^\s*$' "$err" | head -n 1)"
fi
echo "database: restored into $where"

if [[ -f "$backup/media.tar.gz" && "${OPSDESK_STORAGE:-filesystem}" != "s3" ]]; then
    mkdir -p "$media"
    tar -xzf "$backup/media.tar.gz" -C "$media" || fail "unpacking the media archive into $media failed"
    echo "media: restored into $media"
else
    echo "media: no archive in this backup (object store, or no attachments)"
fi

# The desk on the restored database: same schema as the code, and it passes its own checks.
export DATABASE_URL="$target"
if ! out="$("$python" "$manage" migrate --check 2>&1)"; then
    fail "manage.py migrate --check on $where: $(echo "$out" | tail -n 1)"
fi
if ! out="$("$python" "$manage" check 2>&1)"; then
    fail "manage.py check on $where: $(echo "$out" | tail -n 1)"
fi
echo "check: migrations applied, system check passed"
echo "restore: done; start the desk with DATABASE_URL pointing at $where"
