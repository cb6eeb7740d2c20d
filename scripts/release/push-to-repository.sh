#!/bin/sh
# Commits files into a git repository and pushes it: the Scoop bucket, the
# Homebrew tap and the AUR packages are each a repository that a release
# updates with one commit.
#
# Usage: scripts/release/push-to-repository.sh URL MESSAGE SOURCE=DESTINATION...
#   URL          https://github.com/OWNER/REPO.git, ssh://… for the AUR, or
#                file://… for a local repository (scripts/check-release.sh)
#   MESSAGE      the commit message
#   SOURCE=DEST  copy SOURCE (a local file) to DEST (a path in the repository)
#
# Credentials come from the environment and never reach the command line:
#   PUSH_TOKEN           a token with write access, for https:// URLs
#   AUR_SSH_PRIVATE_KEY  an SSH private key, for ssh:// URLs
# With no change to commit, the script pushes nothing and succeeds, so a
# rerun of the same release is harmless.
set -eu

if [ "$#" -lt 3 ]; then
    echo "usage: $0 URL MESSAGE SOURCE=DESTINATION..." >&2
    exit 2
fi
url=$1
message=$2
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case $url in
    https://*)
        [ -n "${PUSH_TOKEN:-}" ] || { echo "push-to-repository.sh: PUSH_TOKEN is not set: it is needed to push to $url" >&2; exit 1; }
        # The token goes through git's credential store in the temporary
        # directory, which the trap removes.
        host=$(printf '%s\n' "$url" | sed 's|^https://\([^/]*\)/.*|\1|')
        printf 'https://x-access-token:%s@%s\n' "$PUSH_TOKEN" "$host" > "$work/credentials"
        chmod 600 "$work/credentials"
        export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=credential.helper GIT_CONFIG_VALUE_0="store --file=$work/credentials"
        ;;
    ssh://*)
        [ -n "${AUR_SSH_PRIVATE_KEY:-}" ] || { echo "push-to-repository.sh: AUR_SSH_PRIVATE_KEY is not set: it is needed to push to $url" >&2; exit 1; }
        host=$(printf '%s\n' "$url" | sed 's|^ssh://\([^@]*@\)\{0,1\}\([^/:]*\).*|\2|')
        printf '%s\n' "$AUR_SSH_PRIVATE_KEY" > "$work/key"
        chmod 600 "$work/key"
        # NOTE: the host key is trusted on first use; pin it in known_hosts
        # here if the AUR publishes fingerprints that should be enforced.
        ssh-keyscan -t ed25519,rsa "$host" > "$work/known_hosts" 2>/dev/null
        [ -s "$work/known_hosts" ] || { echo "push-to-repository.sh: ssh-keyscan returned no host key for $host" >&2; exit 1; }
        export GIT_SSH_COMMAND="ssh -i $work/key -o IdentitiesOnly=yes -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes"
        ;;
    file://*) ;;
    *)
        echo "push-to-repository.sh: unsupported URL '$url': expected https://, ssh:// or file://" >&2
        exit 1
        ;;
esac

git clone --quiet --depth 1 "$url" "$work/repository"
for pair in "$@"; do
    source=${pair%%=*}
    destination=${pair#*=}
    if [ "$source" = "$pair" ] || [ -z "$destination" ]; then
        echo "push-to-repository.sh: invalid argument '$pair': expected SOURCE=DESTINATION" >&2
        exit 2
    fi
    [ -f "$source" ] || { echo "push-to-repository.sh: $source does not exist: render the manifests first" >&2; exit 1; }
    mkdir -p "$(dirname "$work/repository/$destination")"
    cp "$source" "$work/repository/$destination"
    git -C "$work/repository" add -- "$destination"
done

if git -C "$work/repository" diff --cached --quiet; then
    echo "push-to-repository.sh: $url already has these files; nothing to push"
    exit 0
fi
git -C "$work/repository" -c user.name="atcr release" -c user.email="maintainers@atcr.io" commit --quiet -m "$message"
git -C "$work/repository" push --quiet origin HEAD
echo "push-to-repository.sh: pushed \"$message\" to $url"
