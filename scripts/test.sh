#!/usr/bin/env bash
# Every test: unit and integration tests (SQLite, a throwaway PostgreSQL with TLS, the
# in-process fake Label Studio); the crate as it would be published (`cargo package`);
# what PyPI serves built, checked, installed and run (scripts/test-wheel.sh): the x86_64 and
# aarch64 (under qemu-user) wheels and the sdist; then the end-to-end suite against real
# Label Studio releases on SQLite and PostgreSQL, which also installs the x86_64 wheel into
# Label Studio's own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked
cargo package --locked --quiet
wheel=$(scripts/build-wheel.sh | tail -1)
scripts/test-wheel.sh "$wheel"
scripts/test-wheel.sh "$(scripts/build-wheel.sh aarch64 | tail -1)"
scripts/test-wheel.sh "$(scripts/build-wheel.sh sdist | tail -1)"
LSAUTH_WHEEL=$wheel scripts/e2e.sh all
