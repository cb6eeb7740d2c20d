#!/bin/sh
# Checks that every file in BUILT_DIR is listed in CHECKSUMS with the same
# SHA-256: the release's Linux files, built per target, must be
# byte-identical to the snapshot that `cargo pkg check` checked.
#
# Usage: scripts/release/same-as-checked.sh BUILT_DIR CHECKSUMS
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 BUILT_DIR CHECKSUMS" >&2
    exit 2
fi
built_dir=$1
checksums=$2

count=0
for file in "$built_dir"/*; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    listed=$(awk -v name="$name" '$2 == name { print $1 }' "$checksums")
    actual=$(sha256sum "$file" | cut -d ' ' -f 1)
    if [ -z "$listed" ]; then
        echo "same-as-checked.sh: $checksums does not list $name: the checked snapshot has no such file" >&2
        exit 1
    fi
    if [ "$listed" != "$actual" ]; then
        echo "same-as-checked.sh: $name differs from the checked snapshot ($actual, expected $listed): the build is not reproducible across jobs" >&2
        exit 1
    fi
    count=$((count + 1))
done
if [ "$count" -eq 0 ]; then
    echo "same-as-checked.sh: $built_dir holds no files to compare" >&2
    exit 1
fi
echo "same-as-checked.sh: $count files are byte-identical to the checked snapshot"
