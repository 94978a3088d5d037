#!/usr/bin/env bash
# What PyPI serves, as a user gets it (scripts/build-wheel.sh builds each):
# - a manylinux2014 wheel (x86_64, or aarch64 run under qemu-user): tagged for glibc 2.17,
#   an ELF of its CPU needing no glibc symbol newer than 2.17 and no library beyond glibc,
#   installed by pip, and run: `lsauth --version` and the README's demo doctor;
# - the sdist: installed by pip into a fresh venv (built there with cargo), and run.
# Prints the artifact's size, the installed size and the start-up time (docs/performance.md).
#
#   scripts/test-wheel.sh [WHEEL|SDIST]     (the x86_64 wheel built when not given)
set -euo pipefail
cd "$(dirname "$0")/.."
artifact=${1:-$(scripts/build-wheel.sh | tail -1)}
[ -f "$artifact" ] || { echo "test-wheel: nothing at $artifact" >&2; exit 1; }
work=$(mktemp -d /tmp/lsauth-wheel-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
check() { local what=$1; shift; if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi; }
case "$artifact" in
  *_x86_64.whl) kind=x86_64 machine="Advanced Micro Devices X86-64" loader=ld-linux-x86-64 ;;
  *_aarch64.whl) kind=aarch64 machine=AArch64 loader=ld-linux-aarch64 ;;
  *.tar.gz) kind=sdist ;;
  *) echo "test-wheel: not a wheel or sdist of lsauth: $artifact" >&2; exit 1 ;;
esac
echo "$kind: $artifact"

python3 -m venv "$work/venv"
run=()
if [ "$kind" = sdist ]; then
  # pip builds it as on a machine without a wheel: maturin from PyPI, then cargo. A target
  # directory that outlives the run keeps a second build incremental.
  sdist_target=$(pwd)/target/sdist-build
  CARGO_TARGET_DIR=$sdist_target "$work/venv/bin/pip" install -q "$artifact" >"$work/pip.log" 2>&1 \
    || { sed 's/^/  /' "$work/pip.log"; echo "  FAIL pip installs the sdist (builds it with cargo)"; exit 1; }
  bin=$work/venv/bin/lsauth
  check "pip builds and installs the sdist" test -x "$bin"
else
  tag=manylinux_2_17_$kind
  case "$artifact" in *"$tag"*) check "tagged $tag (manylinux2014)" true ;; *) check "tagged $tag (manylinux2014)" false ;; esac
  if [ "$kind" = x86_64 ]; then
    "$work/venv/bin/pip" install -q --no-index "$artifact"
    bin=$work/venv/bin/lsauth
  else
    # pip on this x86_64 machine installs it as it would on arm64, told the platform.
    "$work/venv/bin/pip" install -q --no-index --no-deps --only-binary=:all: --platform manylinux2014_aarch64 \
      --target "$work/arm64" "$artifact"
    bin=$work/arm64/bin/lsauth
    command -v qemu-aarch64 >/dev/null || { echo "  FAIL qemu-aarch64 is missing (apt-get install qemu-user)"; exit 1; }
    [ -d /usr/aarch64-linux-gnu/lib ] || { echo "  FAIL no arm64 glibc (apt-get install libc6-arm64-cross)"; exit 1; }
    run=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
  fi
  check "pip installs an lsauth executable" test -x "$bin"
  check "an ELF for $machine" sh -c "readelf -h '$bin' | grep -q 'Machine:.*$machine'"
  # The newest glibc symbol version the binary needs, and the libraries it links.
  newest=$(readelf -V -W "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  echo "  newest glibc symbol: $newest"
  check "no glibc symbol newer than 2.17" test "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" = 2.17
  libs=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
  echo "  links: $libs"
  others=$(printf '%s\n' $libs | grep -Ev "^(libc|libm|libpthread|libdl|librt|$loader)\.so\.[0-9]+$" || true)
  check "no shared library beyond glibc" test -z "$others"
fi

want="lsauth $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
check "lsauth --version says $want" test "$("${run[@]}" "$bin" --version)" = "$want"
set +e; "${run[@]}" "$bin" --db demo/label_studio.sqlite3 doctor >"$work/doctor.out" 2>&1; code=$?; set -e
check "the README's demo doctor exits 1 (problems found)" test "$code" = 1
check "and names the disabled legacy tokens" grep -q 'orgs.legacy_disabled' "$work/doctor.out"
check "and the fix, carrying --db" grep -q 'fix: lsauth --db demo/label_studio.sqlite3 enable-legacy' "$work/doctor.out"

# Figures for docs/performance.md (printed, never asserted).
artifact_kb=$(( $(stat -c %s "$artifact") / 1024 ))
installed_kb=$(( $(stat -c %s "$bin") / 1024 ))
startup_ms=$(python3 - "${run[@]}" "$bin" <<'PY'
import statistics, subprocess, sys, time
runs = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run(sys.argv[1:] + ["--version"], stdout=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(runs):.1f}")
PY
)
echo "figures ($kind): artifact ${artifact_kb} KiB, installed executable ${installed_kb} KiB, lsauth --version ${startup_ms} ms (median of 30${run:+, under qemu-user})"
echo "test-wheel: $failures failed"
[ "$failures" = 0 ]
