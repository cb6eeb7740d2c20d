#!/usr/bin/env bash
# Benchmarks the helper's protocol verbs against its peers and prints one
# Markdown report. It times `get` (hit and miss), `list` and `store` for this
# helper on the keyring and on the file store, for Debian's
# docker-credential-secretservice on the same gnome-keyring, and for
# /bin/true. Then it measures the peak RSS of `get` and the binaries' sizes.
#
# Usage: bench/bench.sh [RUNS]   (RUNS per command, default 200, minimum 100)
# With BENCH_SKIP_BUILD=1 it times the binaries already in the target
# directory instead of running cargo build first.
#
# The keyring is a private gnome-keyring, unlocked with an empty password,
# on a private D-Bus session bus in a temporary directory; both are stopped
# on exit. Nothing touches the user's keyring, files or session bus.
# scripts/install-bench-deps.sh installs what this script runs.
set -euo pipefail

cd "$(dirname "$0")/.."
runs="${1:-200}"
if [ "$runs" -lt 100 ]; then
  echo "error: RUNS is $runs; use at least 100 so the median is stable" >&2
  exit 2
fi

for tool in dbus-daemon dbus-send gnome-keyring-daemon docker-credential-secretservice python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing: run scripts/install-bench-deps.sh" >&2; exit 1; }
done

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  echo "building the release binary" >&2
  cargo build --release --quiet
fi
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
helper="$target_dir/release/docker-credential-atcr"

musl_helper=""
if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
    echo "building the static musl binary" >&2
    cargo build --release --quiet --target x86_64-unknown-linux-musl
  fi
  musl_helper="$target_dir/x86_64-unknown-linux-musl/release/docker-credential-atcr"
  [ -x "$musl_helper" ] || musl_helper=""
fi

work="$(mktemp -d)"
bus_pid=""
keyring_pid=""
cleanup() {
  if [ -n "$keyring_pid" ]; then kill "$keyring_pid" 2>/dev/null || true; fi
  if [ -n "$bus_pid" ]; then kill "$bus_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A session bus with no service directories: nothing is started by D-Bus
# activation, so the only Secret Service on it is the gnome-keyring below.
cat >"$work/session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$work/session.conf" --nofork </dev/null >/dev/null 2>&1 &
bus_pid=$!
for _ in $(seq 150); do [ -S "$work/bus" ] && break; sleep 0.02; done
[ -S "$work/bus" ] || { echo "error: dbus-daemon did not create $work/bus" >&2; exit 1; }
bus_address="unix:path=$work/bus"

mkdir -p "$work/keyring-home"
# An empty line on stdin is the empty password: gnome-keyring creates and
# unlocks the login keyring with it.
echo | env -i PATH="$PATH" HOME="$work/keyring-home" XDG_DATA_HOME="$work/keyring-home/data" \
  XDG_RUNTIME_DIR="$work" DBUS_SESSION_BUS_ADDRESS="$bus_address" \
  gnome-keyring-daemon --unlock --components=secrets --foreground >/dev/null 2>&1 &
keyring_pid=$!
ready=""
for _ in $(seq 300); do
  if dbus-send --bus="$bus_address" --print-reply --reply-timeout=2000 --dest=org.freedesktop.secrets \
    /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null |
    grep -q /org/freedesktop/secrets/collection/; then
    ready=1
    break
  fi
  sleep 0.05
done
[ -n "$ready" ] || { echo "error: gnome-keyring did not publish its default collection" >&2; exit 1; }

python3 bench/bench.py --runs "$runs" --work "$work" --bus "$bus_address" \
  --helper "$helper" ${musl_helper:+--musl-helper "$musl_helper"} \
  --secretservice "$(command -v docker-credential-secretservice)"
