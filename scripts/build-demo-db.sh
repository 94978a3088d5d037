#!/usr/bin/env bash
# Rebuild demo/label_studio.sqlite3 from the real Label Studio 1.23.2 schema, its
# migration list and demo/seed.sql. Needs the sqlite3 command-line shell.
set -euo pipefail
cd "$(dirname "$0")/.."
out=demo/label_studio.sqlite3
tmp=$(mktemp demo/.build.XXXXXX)
trap 'rm -f "$tmp"' EXIT
rm -f "$tmp"
{
  cat schema/schema-1.23.2.sqlite.sql
  echo "BEGIN;"
  while read -r app name; do
    [ -n "$app" ] && echo "INSERT INTO django_migrations (app, name, applied) VALUES ('$app', '$name', '2025-11-03 09:12:40.000000');"
  done < schema/django-migrations-1.23.2.txt
  echo "COMMIT;"
  cat demo/seed.sql
  echo "VACUUM;"
} | sqlite3 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out ($(stat -c %s "$out") bytes)"
