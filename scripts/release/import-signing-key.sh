#!/bin/sh
# Imports the repository signing key (an ASCII-armored OpenPGP secret key
# without a passphrase, in SIGNING_KEY) into a new GnuPG home, and prints
# `fingerprint=<hex>` and `gnupghome=<dir>` as GitHub step outputs.
#
# Usage: SIGNING_KEY=... scripts/release/import-signing-key.sh >> "$GITHUB_OUTPUT"
set -eu

[ -n "${SIGNING_KEY:-}" ] || { echo "import-signing-key.sh: SIGNING_KEY is empty: set the REPOSITORY_SIGNING_KEY secret" >&2; exit 1; }

home=$(mktemp -d "${RUNNER_TEMP:-/tmp}/gnupg.XXXXXX")
chmod 700 "$home"
printf '%s\n' "$SIGNING_KEY" | gpg --homedir "$home" --batch --quiet --import
fingerprint=$(gpg --homedir "$home" --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
[ -n "$fingerprint" ] || { echo "import-signing-key.sh: SIGNING_KEY holds no secret key" >&2; exit 1; }

echo "fingerprint=$fingerprint"
echo "gnupghome=$home"
