#!/usr/bin/env bash
# Every test: unit and integration tests (SQLite, a throwaway PostgreSQL with TLS, the
# in-process fake Label Studio), then the end-to-end suite against a real Label Studio
# 1.23.2 on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked
scripts/e2e.sh all
