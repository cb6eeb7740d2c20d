#!/bin/sh
# Puts the static Linux binaries from the release archives in RELEASE_DIR
# where the Dockerfile copies them from: CONTEXT_DIR/linux/<amd64|arm64>/,
# named by Docker's TARGETARCH. Each archive is checked against
# RELEASE_DIR/checksums.txt first.
#
# Usage: scripts/release/stage-image.sh RELEASE_DIR CONTEXT_DIR
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 RELEASE_DIR CONTEXT_DIR" >&2
    exit 2
fi
release_dir=$1
context_dir=$2
package=docker-credential-atcr

[ -f "$release_dir/checksums.txt" ] || {
    echo "stage-image.sh: $release_dir/checksums.txt is missing: download it with the archives" >&2
    exit 1
}

# Docker's TARGETARCH, then the architecture in release archive names.
for pair in amd64:x86_64 arm64:arm64; do
    docker_arch=${pair%%:*}
    archive_arch=${pair#*:}
    set -- "$release_dir"/${package}_*_Linux_"$archive_arch".tar.gz
    if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
        echo "stage-image.sh: expected one ${package}_<version>_Linux_${archive_arch}.tar.gz in $release_dir" >&2
        exit 1
    fi
    archive=$1
    name=$(basename "$archive")

    listed=$(awk -v name="$name" '{ file = $2; sub(/^\*/, "", file); if (file == name) print $1 }' "$release_dir/checksums.txt")
    actual=$(sha256sum "$archive" | cut -d ' ' -f 1)
    if [ -z "$listed" ] || [ "$listed" != "$actual" ]; then
        echo "stage-image.sh: $name has SHA-256 $actual, but checksums.txt lists '${listed:-nothing}'" >&2
        exit 1
    fi

    target="$context_dir/linux/$docker_arch"
    mkdir -p "$target"
    tar -xzf "$archive" -C "$target" "$package"
    chmod 755 "$target/$package"
    echo "stage-image.sh: $target/$package from $name"
done
