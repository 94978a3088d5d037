#!/usr/bin/env bash
# Build what PyPI serves, into target/wheels/, and print its path on the last line:
#   x86_64   (default) the lsauth executable in a manylinux2014 (glibc 2.17) x86_64 wheel
#   aarch64  the same for arm64 (Graviton, Docker on Apple silicon), cross-built
#   sdist    the source distribution pip falls back to where no wheel fits (it builds the
#            executable with cargo, so it needs a Rust toolchain there)
# maturin and zig come from PyPI into a throwaway venv; zig is the C toolchain and linker
# that targets the old glibc on either CPU (maturin --zig), for the C parts too (SQLite,
# ring). The aarch64 build needs Rust's standard library for that target (rustup target
# add aarch64-unknown-linux-gnu; .ci/run adds it when missing).
#
#   scripts/build-wheel.sh [x86_64|aarch64|sdist]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-x86_64}
MATURIN_VERSION=${MATURIN_VERSION:-1.16.0}
ZIG_VERSION=${ZIG_VERSION:-0.17.1}
case "$kind" in x86_64|aarch64|sdist) ;; *) echo "usage: scripts/build-wheel.sh [x86_64|aarch64|sdist]" >&2; exit 2 ;; esac
tools=$(mktemp -d /tmp/lsauth-wheel-tools.XXXXXX)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/venv" || { echo "build-wheel: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
"$tools/venv/bin/pip" install -q "maturin==$MATURIN_VERSION" "ziglang==$ZIG_VERSION" >&2 \
  || { echo "build-wheel: pip install maturin ziglang failed" >&2; exit 1; }
export PATH="$tools/venv/bin:$PATH"
mkdir -p target/wheels
if [ "$kind" = sdist ]; then
  rm -f target/wheels/lsauth-*.tar.gz
  maturin sdist --out target/wheels >&2
  artifact=$(ls target/wheels/lsauth-*.tar.gz)
else
  triple=$kind-unknown-linux-gnu
  if ! rustc --print target-libdir --target "$triple" >/dev/null 2>&1 \
     || [ ! -d "$(rustc --print target-libdir --target "$triple")" ]; then
    echo "build-wheel: Rust's standard library for $triple is missing: rustup target add $triple" >&2
    exit 1
  fi
  rm -f target/wheels/lsauth-*_"$kind".whl
  # A target dir of its own: the zig-linked release build must not replace the one the
  # tests and benchmarks use.
  CARGO_TARGET_DIR=${WHEEL_TARGET_DIR:-target/wheel} maturin build --release --locked --zig \
    --compatibility manylinux2014 --target "$triple" --out target/wheels >&2
  artifact=$(ls target/wheels/lsauth-*-manylinux*_"$kind".whl)
fi
echo "build-wheel: built $artifact" >&2
echo "$artifact"
