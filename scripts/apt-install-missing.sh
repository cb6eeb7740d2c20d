#!/usr/bin/env bash
# Installs those of the Debian packages named as arguments that are not
# installed yet, with sudo unless run as root. The install-*-deps.sh scripts
# and check-release.sh call it. apt-get waits up to 10 minutes for the dpkg
# lock, which unattended-upgrades may hold on a freshly booted machine.
#
# Usage: scripts/apt-install-missing.sh PACKAGE...
set -euo pipefail

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
# env, because sudo does not pass DEBIAN_FRONTEND on by default.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
