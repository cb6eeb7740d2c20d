#!/usr/bin/env bash
# Installs what `cargo pkg snapshot` and `cargo pkg check` need. The build
# needs the musl Rust targets, C compilers for musl builds, qemu-user (runs
# the aarch64 binary), and cargo-deb and cargo-generate-rpm at pinned
# releases. The checks run the real package tools: lintian, apt-utils,
# debootstrap and gnupg for the .deb; rpm, rpmlint, dnf and createrepo-c for
# the .rpm; makepkg, pacman and fakeroot for the AUR packages. `cargo pkg
# repo` builds the apt and dnf repositories with apt-utils, gnupg, rpm and
# createrepo-c.
#
# Usage: scripts/install-pkg-deps.sh [--repo-only]
#   --repo-only  install only the apt packages that `cargo pkg repo` runs, and
#                no Rust target or cargo tool
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."

repo_only=false
case "${1:-}" in
  "") ;;
  --repo-only) repo_only=true ;;
  *)
    echo "install-pkg-deps.sh: unknown argument \`$1\`; usage: scripts/install-pkg-deps.sh [--repo-only]" >&2
    exit 2
    ;;
esac

# Keep in step with CARGO_DEB_VERSION in pkg/src/deb.rs and
# CARGO_GENERATE_RPM_VERSION in pkg/src/rpm.rs, because cargo pkg rejects
# other releases.
cargo_deb_version=3.8.0
cargo_generate_rpm_version=0.21.1

rust_targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

apt_packages=(
  musl-tools              # musl-gcc for C code in x86_64 musl builds
  gcc-aarch64-linux-gnu   # the C compiler for C code in aarch64 musl builds
  qemu-user               # runs the aarch64 binary (man page, completions, version)
  lintian                 # the .deb policy check
  apt-utils               # apt-ftparchive writes the apt repository's indexes
  debootstrap             # the fresh Debian root the .deb is installed into
  gnupg                   # signs the apt and dnf repositories
  rpm                     # rpmsign signs the .rpm files; rpm -V, -K and -q in the install root
  rpmlint                 # the .rpm policy check
  dnf                     # installs the .rpm into an empty --installroot
  createrepo-c            # the dnf repository's metadata
  makepkg                 # builds the AUR -bin package, prints .SRCINFO
  pacman-package-manager  # installs it into a scratch root
  fakeroot                # makepkg packages as fake root
  libarchive-tools        # bsdtar, which makepkg extracts sources with
  zstd                    # makepkg's and pacman's package compression
)

# What `cargo pkg repo` runs: apt-ftparchive, gpg, rpmsign and createrepo_c.
# Keep in step with TOOLS in pkg/src/repo/mod.rs, whose test reads this line.
repo_apt_packages=(apt-utils gnupg rpm createrepo-c)
if [ "$repo_only" = true ]; then
  apt_packages=("${repo_apt_packages[@]}")
fi

scripts/apt-install-missing.sh "${apt_packages[@]}"

if [ "$repo_only" = true ]; then
  exit 0
fi

installed_targets="$(rustup target list --installed)"
for target in "${rust_targets[@]}"; do
  if ! grep -qx "$target" <<<"$installed_targets"; then
    echo "adding the Rust target $target"
    rustup target add "$target"
  fi
done
installed_targets="$(rustup target list --installed)"
for target in "${rust_targets[@]}"; do
  grep -qx "$target" <<<"$installed_targets" || {
    echo "error: the Rust target $target is still missing: run \`rustup target add $target\`" >&2
    exit 1
  }
done

# Installs crate $1 at version $2 unless `$1 --version` already prints it.
install_cargo_tool() {
  local crate="$1" version="$2"
  if "$crate" --version 2>/dev/null | grep -qw "$version"; then
    return
  fi
  echo "installing $crate $version"
  cargo install --locked --quiet "$crate" --version "$version"
}
install_cargo_tool cargo-deb "$cargo_deb_version"
install_cargo_tool cargo-generate-rpm "$cargo_generate_rpm_version"
