#!/bin/sh
# Runs install.sh against the archives in DIST served on 127.0.0.1, in
# GitHub's release layout, and checks that the installed helper runs. The
# release workflow runs it on the macOS runners, where the Rust tests of
# install.sh cannot install a Darwin archive.
#
# Usage: scripts/release/smoke-install-sh.sh DIST
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: $0 DIST" >&2
    exit 2
fi
dist=$1
root=$(cd "$(dirname "$0")/../.." && pwd)

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/site/latest/download"
for archive in "$dist"/docker-credential-atcr_*.tar.gz; do
    [ -f "$archive" ] || { echo "smoke-install-sh.sh: $dist holds no release archive" >&2; exit 1; }
    cp "$archive" "$work/site/latest/download/"
done
(cd "$work/site/latest/download" && shasum -a 256 ./*.tar.gz | sed 's| \./| |' > checksums.txt)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/site" > "$work/server.log" 2>&1 &
server_pid=$!
attempt=0
until curl --silent --fail --output /dev/null "http://127.0.0.1:$port/latest/download/checksums.txt"; do
    attempt=$((attempt + 1))
    [ "$attempt" -lt 50 ] || { echo "smoke-install-sh.sh: the server on 127.0.0.1:$port did not start" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
done

ATCR_RELEASE_BASE_URL="http://127.0.0.1:$port" INSTALL_DIR="$work/bin" sh "$root/install.sh"
"$work/bin/docker-credential-atcr" version
echo "smoke-install-sh.sh: install.sh installed and ran the helper from $dist"
