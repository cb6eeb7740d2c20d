#!/usr/bin/env bash
# Installs what the test suite runs against: a D-Bus session bus and
# gnome-keyring (a real Secret Service), skopeo and Distribution's registry
# with htpasswd, the Docker CLI, Python's docker package (docker-py) in a
# virtual environment, and the Rust targets that the tests build.
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

apt_packages=(
  dbus             # dbus-daemon for a private session bus per test
  gnome-keyring    # the Secret Service implementation
  skopeo           # pushes an image with credentials from the helper
  docker-registry  # Distribution's registry, run on 127.0.0.1
  apache2-utils    # htpasswd for the registry's basic auth
  python3-venv     # a virtual environment for docker-py
  man-db           # man, which renders the generated man page
  libsecret-tools  # secret-tool, which reads the keyring independently of the helper
  golang-docker-credential-helpers  # docker-credential-secretservice, the benchmark's peer
)

# The Docker CLI (client only; the tests never start a daemon), unless one
# is on PATH from another source.
command -v docker >/dev/null || apt_packages+=(docker.io)
scripts/apt-install-missing.sh "${apt_packages[@]}"

venv=target/test-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import docker" 2>/dev/null; then
  echo "creating $venv with docker-py"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "docker==7.1.0"
fi
