#!/usr/bin/env bash
# Installs what the Windows checks of `cargo pkg check` run against.
# MinGW-w64 and Rust's x86_64-pc-windows-gnu target build the test .exe.
# wine runs it and msiexec. wixl and msitools build and read the MSI.
# osslsigncode and openssl sign with a throwaway certificate, xmllint checks
# the nuspec, and check-jsonschema (in a virtual environment under target/)
# checks the winget and Scoop manifests.
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

apt_packages=(
  gcc-mingw-w64-x86-64  # links the windows-gnu .exe and builds the wine test shim DLL
  wine                  # the wine launcher
  wine64                # 64-bit wine: runs the .exe and msiexec
  wixl                  # builds the test MSI from wix/main.wxs
  msitools              # msiinfo, msibuild: read and extend the MSI
  osslsigncode          # Authenticode signing and verification
  openssl               # makes the check's throwaway code-signing certificate
  libxml2-utils         # xmllint validates the nuspec against nuspec.xsd
  python3-venv          # the virtual environment for check-jsonschema
)

scripts/apt-install-missing.sh "${apt_packages[@]}"

if ! rustup target list --installed | grep -qx x86_64-pc-windows-gnu; then
  echo "adding the Rust target x86_64-pc-windows-gnu"
  rustup target add x86_64-pc-windows-gnu
fi

venv=target/windows-venv
check_jsonschema_version=0.39.0
if ! "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -q "$check_jsonschema_version"; then
  echo "creating $venv with check-jsonschema $check_jsonschema_version"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "check-jsonschema==$check_jsonschema_version"
fi
