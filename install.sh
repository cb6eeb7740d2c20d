#!/bin/sh
# Installs docker-credential-atcr from a GitHub release on Linux or macOS.
#
#   curl -fsSL https://github.com/atcr-io/docker-credential-atcr/releases/latest/download/install.sh | sh
#
# The script downloads the release archive for this OS and CPU, checks its
# SHA-256 against the release's checksums.txt, installs the binary into
# INSTALL_DIR and runs `docker-credential-atcr version`.
#
# Environment variables:
#   INSTALL_DIR            where the binary goes (default: /usr/local/bin);
#                          sudo is used when the directory is not writable
#   ATCR_VERSION           the release to install, such as 1.2.0 or v1.2.0
#                          (default: the newest release)
#   ATCR_RELEASE_BASE_URL  the releases URL, laid out as GitHub releases:
#                          <base>/latest/download/<file> and
#                          <base>/download/v<version>/<file>
#                          (default: https://github.com/atcr-io/docker-credential-atcr/releases);
#                          https only, except http for 127.0.0.1, localhost and [::1].
#                          The helper's `update` command reads the same variable.
#
# The OS and CPU come from `uname -s` and `uname -m`. Releases exist for
# Linux and macOS (Darwin) on x86_64 and arm64; Windows uses install.ps1.

set -eu

PACKAGE=docker-credential-atcr
DEFAULT_BASE_URL=https://github.com/atcr-io/docker-credential-atcr/releases

base_url=${ATCR_RELEASE_BASE_URL:-$DEFAULT_BASE_URL}
base_url=${base_url%/}
install_dir=${INSTALL_DIR:-/usr/local/bin}
requested_version=${ATCR_VERSION:-}

fail() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

say() {
    printf 'install.sh: %s\n' "$*" >&2
}

# Prints the OS as release archive names spell it: Linux or Darwin.
detect_os() {
    os=$(uname -s) || fail "uname -s failed: cannot tell the operating system"
    case $os in
        Linux) echo Linux ;;
        Darwin) echo Darwin ;;
        MINGW* | MSYS* | CYGWIN* | Windows_NT)
            fail "this is Windows ($os): run install.ps1 in PowerShell instead, or use winget, Scoop or Chocolatey (see INSTALLATION.md)" ;;
        *)
            fail "unsupported operating system '$os': releases are built for Linux and macOS only; build from source with 'cargo install --locked docker-credential-atcr'" ;;
    esac
}

# Prints the CPU as release archive names spell it: x86_64 or arm64.
detect_arch() {
    arch=$(uname -m) || fail "uname -m failed: cannot tell the CPU architecture"
    case $arch in
        x86_64 | amd64)
            # A shell translated by Rosetta 2 reports x86_64 on Apple silicon,
            # where the native arm64 binary is the right one.
            if [ "$1" = Darwin ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
                echo arm64
            else
                echo x86_64
            fi
            ;;
        aarch64 | arm64) echo arm64 ;;
        *)
            fail "unsupported CPU architecture '$arch' on $1: releases are built for x86_64 and arm64 only; build from source with 'cargo install --locked docker-credential-atcr'" ;;
    esac
}

# is_loopback_http URL: succeeds when URL is http:// with the host 127.0.0.1,
# localhost or [::1] and at most a numeric port. The whole authority is
# compared, so http://localhost:80@example.com/ (host example.com) fails.
is_loopback_http() {
    authority=${1#http://}
    authority=${authority%%[/?#]*}
    case $authority in
        127.0.0.1 | localhost | '[::1]') return 0 ;;
        127.0.0.1:*) port=${authority#127.0.0.1:} ;;
        localhost:*) port=${authority#localhost:} ;;
        '[::1]':*) port=${authority#'[::1]':} ;;
        *) return 1 ;;
    esac
    case $port in
        '' | *[!0-9]*) return 1 ;;
    esac
}

# Plain http is accepted only for a server on this machine, as the helper's
# `update` command accepts it; everything else must use https.
case $base_url in
    https://*) allowed_protocols='=https' ;;
    http://*) is_loopback_http "$base_url" || fail "invalid ATCR_RELEASE_BASE_URL '$base_url': expected an https:// URL (http:// is accepted only for 127.0.0.1, localhost and [::1], with a numeric port)"
        allowed_protocols='=https,http' ;;
    *) fail "invalid ATCR_RELEASE_BASE_URL '$base_url': expected an https:// URL (http:// is accepted only for 127.0.0.1, localhost and [::1])" ;;
esac

# download URL FILE: writes the body of URL to FILE, failing on HTTP errors.
download() {
    if command -v curl >/dev/null 2>&1; then
        curl --fail --silent --show-error --location --proto "$allowed_protocols" --proto-redir "$allowed_protocols" --retry 3 --output "$2" "$1" ||
            fail "cannot download $1 (see the curl error above): check ATCR_VERSION and ATCR_RELEASE_BASE_URL"
    elif command -v wget >/dev/null 2>&1; then
        https_only=
        [ "$allowed_protocols" = '=https' ] && https_only=--https-only
        # shellcheck disable=SC2086 # $https_only is one flag or nothing.
        wget --quiet --tries=3 $https_only --output-document="$2" "$1" ||
            fail "cannot download $1: check ATCR_VERSION and ATCR_RELEASE_BASE_URL"
    else
        fail "neither curl nor wget is installed: install one of them and run install.sh again"
    fi
}

# Prints the lowercase hex SHA-256 of FILE.
sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    elif command -v openssl >/dev/null 2>&1; then
        openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
    else
        fail "none of sha256sum, shasum or openssl is installed: install one to verify the download"
    fi
}

# Prints the name of the one archive for OS and ARCH that checksums.txt lists.
# checksums.txt lines are `<sha256>  <file>`, or `<sha256> *<file>` in
# sha256sum's binary mode.
archive_in_checksums() {
    suffix="_${2}_${3}.tar.gz"
    names=$(sed -n 's/^[0-9a-f]\{64\} [ *]\(.*\)$/\1/p' "$1" | grep "^${PACKAGE}_.*${suffix}\$" || true)
    count=$(printf '%s' "$names" | grep -c . || true)
    if [ "$count" -eq 0 ]; then
        fail "$4 lists no archive for $2 $3 (expected a name like ${PACKAGE}_<version>${suffix}): this release has no binary for this platform"
    fi
    if [ "$count" -gt 1 ]; then
        fail "$4 lists several archives for $2 $3: set ATCR_VERSION to choose one"
    fi
    printf '%s\n' "$names"
}

# Prints the SHA-256 that checksums.txt lists for NAME.
listed_sha256() {
    awk -v name="$2" '{ file = $2; sub(/^\*/, "", file); if (file == name) { print $1; exit } }' "$1"
}

# Runs a command, with sudo when INSTALL_DIR is not writable by this user.
as_installer() {
    if [ "$use_sudo" = yes ]; then
        sudo "$@"
    else
        "$@"
    fi
}

os=$(detect_os)
arch=$(detect_arch "$os")

if [ -n "$requested_version" ]; then
    version=${requested_version#v}
    # A SemVer version: the character check rejects newlines before grep,
    # which matches line by line, reads the value.
    case $version in
        '' | *[!0-9A-Za-z.+-]*) semver=no ;;
        *) printf '%s\n' "$version" |
            grep -Eq '^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$' &&
            semver=yes || semver=no ;;
    esac
    [ "$semver" = yes ] ||
        fail "invalid ATCR_VERSION '$requested_version': expected MAJOR.MINOR.PATCH such as 1.2.0, optionally with a -PRERELEASE suffix"
    release_url="$base_url/download/v$version"
else
    release_url="$base_url/latest/download"
fi

work_dir=$(mktemp -d 2>/dev/null || mktemp -d -t docker-credential-atcr)
trap 'rm -rf "$work_dir"' EXIT
trap 'exit 130' INT TERM

checksums_url="$release_url/checksums.txt"
say "downloading $checksums_url"
download "$checksums_url" "$work_dir/checksums.download"
# Tools on Windows may write CRLF line ends or upper-case hex digits, which
# the lookups below would not match, so both are normalized first.
tr -d '\r' <"$work_dir/checksums.download" |
    awk '{ print tolower(substr($0, 1, 64)) substr($0, 65) }' >"$work_dir/checksums.txt"

if [ -n "$requested_version" ]; then
    archive="${PACKAGE}_${version}_${os}_${arch}.tar.gz"
    [ -n "$(listed_sha256 "$work_dir/checksums.txt" "$archive")" ] ||
        fail "$checksums_url does not list $archive: release v$version has no binary for $os $arch"
else
    archive=$(archive_in_checksums "$work_dir/checksums.txt" "$os" "$arch" "$checksums_url")
fi
expected=$(listed_sha256 "$work_dir/checksums.txt" "$archive")

say "downloading $release_url/$archive"
download "$release_url/$archive" "$work_dir/$archive"

actual=$(sha256_of "$work_dir/$archive")
if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $archive: $checksums_url lists $expected, the download has $actual; nothing was installed. Download it again, and report it if the mismatch persists"
fi
say "verified the SHA-256 of $archive"

mkdir "$work_dir/unpacked"
tar -xzf "$work_dir/$archive" -C "$work_dir/unpacked" || fail "cannot unpack $archive"
binary="$work_dir/unpacked/$PACKAGE"
[ -f "$binary" ] || fail "$archive contains no $PACKAGE at its top level"

# mv would move the binary into a directory of that name and report success.
if [ -d "$install_dir/$PACKAGE" ]; then
    fail "$install_dir/$PACKAGE is a directory: remove it, or set INSTALL_DIR to another directory"
fi

use_sudo=no
if [ ! -d "$install_dir" ]; then
    parent=$(dirname "$install_dir")
    while [ ! -d "$parent" ]; do parent=$(dirname "$parent"); done
    [ -w "$parent" ] || use_sudo=yes
elif [ ! -w "$install_dir" ]; then
    use_sudo=yes
fi
if [ "$use_sudo" = yes ]; then
    if [ "$(id -u)" -eq 0 ] || ! command -v sudo >/dev/null 2>&1; then
        fail "cannot write to $install_dir: set INSTALL_DIR to a writable directory such as \$HOME/.local/bin, or run install.sh as a user who can write there"
    fi
    say "$install_dir is not writable by $(id -un): using sudo"
fi

# Copy next to the target, then rename, so a running helper is never left
# with a half-written file.
as_installer mkdir -p "$install_dir"
staged="$install_dir/.$PACKAGE.install.$$"
as_installer cp "$binary" "$staged"
as_installer chmod 755 "$staged"
as_installer mv -f "$staged" "$install_dir/$PACKAGE"
say "installed $install_dir/$PACKAGE"

"$install_dir/$PACKAGE" version || fail "$install_dir/$PACKAGE was installed but does not run: check that the archive matches this $os $arch machine"

case ":${PATH:-}:" in
    *":$install_dir:"*) ;;
    *) say "$install_dir is not on PATH: add it, so that Docker finds $PACKAGE by name" ;;
esac
say "next: run '$PACKAGE configure-docker' to make Docker use the helper for atcr.io"
