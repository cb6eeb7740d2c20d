#!/usr/bin/env bash
# Installs what bench/bench.sh runs: the test dependencies (D-Bus,
# gnome-keyring, Debian's docker-credential-secretservice), GNU time for the
# peak RSS, file(1) for the binary's linkage, and the musl target for the
# static build whose size and speed the benchmark reports.
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/install-test-deps.sh

apt_packages=(
  time  # GNU time: /usr/bin/time -f %M prints the peak RSS
  file  # reports whether a binary is static and stripped
)
scripts/apt-install-missing.sh "${apt_packages[@]}"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx x86_64-unknown-linux-musl; then
  rustup target add x86_64-unknown-linux-musl
fi
