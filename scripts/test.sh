#!/usr/bin/env bash
# The whole test suite: installs the test dependencies, then runs every
# unit and integration test. Each integration test starts its own D-Bus
# session bus, gnome-keyring, registry or AppView on 127.0.0.1.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
export ATCR_TEST_PYTHON="$PWD/target/test-venv/bin/python"
cargo test --workspace --all-targets "$@"
