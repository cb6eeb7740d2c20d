#!/bin/sh
# Prints the release plan as GitHub step outputs (key=value lines):
#   tag         the tag, such as v1.2.0
#   version     the version without the v, such as 1.2.0
#   prerelease  true when the version has a -suffix, such as 1.2.0-rc.1
#   build       true for a tag push, false for a workflow_dispatch rerun of one channel
#
# Usage: scripts/release/plan.sh TAG EVENT_NAME
# Fails when TAG is not vMAJOR.MINOR.PATCH[-PRERELEASE] or differs from the
# version in Cargo.toml, so a tag on the wrong commit publishes nothing.
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 TAG EVENT_NAME" >&2
    exit 2
fi
tag=$1
event=$2

version=${tag#v}
if [ "$version" = "$tag" ] || ! printf '%s\n' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'; then
    echo "plan.sh: invalid tag '$tag': expected vMAJOR.MINOR.PATCH such as v1.2.0, optionally with a -PRERELEASE suffix" >&2
    exit 1
fi

cd "$(dirname "$0")/../.."
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if [ "$cargo_version" != "$version" ]; then
    echo "plan.sh: tag $tag does not match version \"$cargo_version\" in Cargo.toml: set the version in Cargo.toml and tag that commit" >&2
    exit 1
fi

case $version in
    *-*) prerelease=true ;;
    *) prerelease=false ;;
esac
case $event in
    push) build=true ;;
    *) build=false ;;
esac

echo "tag=$tag"
echo "version=$version"
echo "prerelease=$prerelease"
echo "build=$build"
