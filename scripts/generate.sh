#!/usr/bin/env bash
# Regenerate the files produced by the binary: shell completions and the man page.
# tests/it/generated.rs fails when they are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/lsauth
$bin completions bash > completions/lsauth.bash
$bin completions zsh > completions/_lsauth
$bin completions fish > completions/lsauth.fish
$bin completions powershell > completions/_lsauth.ps1
$bin completions elvish > completions/lsauth.elv
$bin manpage > docs/lsauth.1
echo "regenerated completions/ and docs/lsauth.1"
