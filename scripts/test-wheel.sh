#!/usr/bin/env bash
# The PyPI wheel, as a user gets it: built for manylinux2014 (scripts/build-wheel.sh),
# checked to need nothing newer than glibc 2.17 and no shared library beyond glibc,
# installed into a fresh venv, and run: `lsauth --version` and the README's demo doctor.
# Prints the wheel's size, the installed size and the start-up time (docs/performance.md).
#
#   scripts/test-wheel.sh [WHEEL]     (built when not given)
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=${1:-$(scripts/build-wheel.sh | tail -1)}
[ -f "$wheel" ] || { echo "test-wheel: no wheel at $wheel" >&2; exit 1; }
work=$(mktemp -d /tmp/lsauth-wheel-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
check() { local what=$1; shift; if "$@"; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi; }

echo "wheel: $wheel"
case "$wheel" in *manylinux_2_17_x86_64*) check "tagged manylinux_2_17 (manylinux2014) x86_64" true ;;
  *) check "tagged manylinux_2_17 (manylinux2014) x86_64" false ;; esac

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-index "$wheel"
bin=$work/venv/bin/lsauth
check "pip installs an lsauth executable" test -x "$bin"

# The newest glibc symbol version the binary needs, and the libraries it links.
newest=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
echo "  newest glibc symbol: $newest"
check "no glibc symbol newer than 2.17" test "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -1)" = 2.17
libs=$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "  links: $libs"
others=$(printf '%s\n' $libs | grep -Ev '^(libc|libm|libpthread|libdl|librt|ld-linux-x86-64)\.so\.[0-9]+$' || true)
check "no shared library beyond glibc" test -z "$others"

want="lsauth $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
check "lsauth --version says $want" test "$("$bin" --version)" = "$want"
set +e; "$bin" --db demo/label_studio.sqlite3 doctor >"$work/doctor.out" 2>&1; code=$?; set -e
check "the README's demo doctor exits 1 (problems found)" test "$code" = 1
check "and names the disabled legacy tokens" grep -q 'orgs.legacy_disabled' "$work/doctor.out"
check "and the fix" grep -q 'lsauth enable-legacy' "$work/doctor.out"

# Figures for docs/performance.md (printed, never asserted).
wheel_kb=$(( $(stat -c %s "$wheel") / 1024 ))
installed_kb=$(( $(stat -c %s "$bin") / 1024 ))
startup_ms=$(python3 - "$bin" <<'PY'
import statistics, subprocess, sys, time
runs = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run([sys.argv[1], "--version"], stdout=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(runs):.1f}")
PY
)
echo "figures: wheel ${wheel_kb} KiB, installed executable ${installed_kb} KiB, lsauth --version ${startup_ms} ms (median of 30)"
echo "test-wheel: $failures failed"
[ "$failures" = 0 ]
