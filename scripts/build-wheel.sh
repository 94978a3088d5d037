#!/usr/bin/env bash
# Build the PyPI wheel: the lsauth executable for manylinux2014 (glibc 2.17) x86_64, into
# target/wheels/. maturin and zig come from PyPI into a throwaway venv; zig is the C
# toolchain and linker that targets the old glibc (maturin --zig), for the C parts too
# (SQLite, ring). Prints the wheel's path on its last line.
#
#   scripts/build-wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MATURIN_VERSION=${MATURIN_VERSION:-1.16.0}
ZIG_VERSION=${ZIG_VERSION:-0.17.1}
tools=$(mktemp -d /tmp/lsauth-wheel-tools.XXXXXX)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv" || { echo "build-wheel: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
"$tools/venv/bin/pip" install -q "maturin==$MATURIN_VERSION" "ziglang==$ZIG_VERSION" >&2 \
  || { echo "build-wheel: pip install maturin ziglang failed" >&2; exit 1; }
export PATH="$tools/venv/bin:$PATH"
rm -f target/wheels/lsauth-*.whl
# A target dir of its own: the zig-linked release build must not replace the one the
# tests and benchmarks use.
CARGO_TARGET_DIR=${WHEEL_TARGET_DIR:-target/wheel} maturin build --release --locked --zig \
  --compatibility manylinux2014 --target x86_64-unknown-linux-gnu --out target/wheels >&2
wheel=$(ls target/wheels/lsauth-*-manylinux*_x86_64.whl)
echo "build-wheel: built $wheel" >&2
echo "$wheel"
