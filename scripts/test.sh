#!/usr/bin/env bash
# Every test: unit and integration tests (SQLite, a throwaway PostgreSQL with TLS, the
# in-process fake Label Studio); the crate as it would be published (`cargo package`);
# the PyPI wheel built, checked and installed (scripts/test-wheel.sh); then the end-to-end
# suite against real Label Studio releases on SQLite and PostgreSQL, which also installs
# that wheel into Label Studio's own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked
cargo package --locked --quiet
wheel=$(scripts/build-wheel.sh | tail -1)
scripts/test-wheel.sh "$wheel"
LSAUTH_WHEEL=$wheel scripts/e2e.sh all
