#!/bin/sh
# Downloads the manifests that the draft job rendered (winget, Scoop,
# Chocolatey, AUR, Homebrew) from the published release TAG and unpacks
# them into ./manifests. Needs the GitHub CLI with GH_TOKEN set.
#
# Usage: scripts/release/download-manifests.sh TAG VERSION
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 TAG VERSION" >&2
    exit 2
fi
tag=$1
version=$2
asset="docker-credential-atcr_${version}_manifests.tar.gz"

gh release download "$tag" --repo "$GITHUB_REPOSITORY" --pattern "$asset" --dir .
mkdir -p manifests
tar -xzf "$asset" -C manifests
echo "download-manifests.sh: unpacked $asset into manifests/"
