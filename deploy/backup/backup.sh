#!/usr/bin/env bash
# Back up the desk: the PostgreSQL database (pg_dump custom format) and, when attachments are on a
# filesystem, the media directory (tar), into one dated directory.
#
#   DATABASE_URL=postgresql://opsdesk:…@db:5432/opsdesk deploy/backup/backup.sh [BACKUP_ROOT]
#
# BACKUP_ROOT (or OPSDESK_BACKUP_DIR; default ./var/backups) gets opsdesk-YYYYMMDDTHHMMSSZ/ with
#   database.dump   pg_dump -Fc: every table, sequence and constraint; restore with restore.sh
#   media.tar.gz    OPSDESK_MEDIA_ROOT (default $OPSDESK_VAR_DIR/media), when OPSDESK_STORAGE is filesystem
#   SHA256SUMS      checksums of both, checked by restore.sh
#   INFO            when, from which database (no password), pg_dump's version
# The directory appears only when everything in it is complete (written as *.partial, then renamed).
# pg_dump takes a consistent snapshot without stopping the desk. pg_dump must be the server's major
# version or newer. Any failure: one line on stderr naming what failed, exit status 1 or 2.
set -euo pipefail
umask 077  # the dump holds password hashes, mail and phone numbers: owner-only

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
fail() { echo "backup: $*" >&2; exit 1; }

[[ -n "${DATABASE_URL:-}" ]] || { echo "backup: DATABASE_URL is not set (postgresql://user:password@host:5432/name)" >&2; exit 2; }
pgenv="$("$python" "$here/pgenv.py" DATABASE_URL "$DATABASE_URL" 2>&1)" || { echo "backup: $pgenv" >&2; exit 2; }
eval "$pgenv"
command -v pg_dump >/dev/null || fail "pg_dump not found (install postgresql-client of the server's version)"

root="${1:-${OPSDESK_BACKUP_DIR:-./var/backups}}"
mkdir -p "$root" || fail "cannot create the backup directory $root"
name="opsdesk-$(date -u +%Y%m%dT%H%M%SZ)"
final="$root/$name"
work="$final.partial"
[[ ! -e "$final" ]] || fail "$final exists already"
rm -rf "$work"
mkdir "$work"
trap 'rm -rf "$work"' EXIT

if ! pg_dump --format=custom --compress=6 --file="$work/database.dump" 2>"$work/pg_dump.err"; then
    fail "pg_dump of DATABASE_URL ($PGUSER@${PGHOST:-localhost}:${PGPORT:-5432}/$PGDATABASE) failed: $(grep -v '^\s*$' "$work/pg_dump.err" | head -n 1)"
fi
rm -f "$work/pg_dump.err"

storage="${OPSDESK_STORAGE:-filesystem}"
media="${OPSDESK_MEDIA_ROOT:-${OPSDESK_VAR_DIR:-./var}/media}"
if [[ "${storage,,}" == "s3" ]]; then
    media_note="media: in the object store (OPSDESK_S3_BUCKET=${OPSDESK_S3_BUCKET:-?}); back it up with the store's versioning or replication"
elif [[ -d "$media" ]]; then
    tar -czf "$work/media.tar.gz" -C "$media" . || fail "tar of the media directory $media failed"
    media_note="media: $media"
else
    media_note="media: $media does not exist (no attachments yet); nothing to archive"
fi

(cd "$work" && sha256sum database.dump $( [[ -f media.tar.gz ]] && echo media.tar.gz ) > SHA256SUMS)
{
    echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "database: $PGUSER@${PGHOST:-localhost}:${PGPORT:-5432}/$PGDATABASE"
    echo "server: $(psql -XAtc 'SHOW server_version' 2>/dev/null || echo unknown)"
    echo "pg_dump: $(pg_dump --version)"
    echo "$media_note"
} > "$work/INFO"

mv "$work" "$final"
trap - EXIT
echo "$media_note"
echo "backup: $final ($(du -sh "$final" | cut -f1))"
