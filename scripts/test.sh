#!/usr/bin/env bash
# The whole test suite: installs the test dependencies, then runs every
# unit and integration test. Each integration test starts its own D-Bus
# session bus, gnome-keyring, registry or AppView on 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
export ATCR_TEST_PYTHON="$PWD/target/test-venv/bin/python"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets "$@" 2>&1 | tee "$log"

# Packaging checks run here, before the summary.
# Every Linux artifact is built into dist/, then installed with its real
# package manager.
scripts/install-pkg-deps.sh
scripts/install-windows-deps.sh  # MinGW, wine, msitools, osslsigncode for the Windows checks
cargo pkg snapshot
cargo pkg check dist/
scripts/check-release.sh

# One closing line for the whole run: cargo prints a result line per test binary.
awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($i ~ /^passed;?$/) passed += $(i - 1); if ($i ~ /^failed;?$/) failed += $(i - 1) } }
     END { printf "summary: %d passed, %d failed\n", passed, failed }' "$log"
