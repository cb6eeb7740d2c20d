"""Drive docker-credential-atcr through docker-py, as Python tools use it.

Usage: docker_py_store.py store|erase, with {"server", "username", "secret",
"config"} as JSON on stdin, where "config" is a Docker config.json whose
credHelpers name the helper for "server". The store phase stores a
credential and reads it back, the erase phase erases it, so the test can
check the store in between. Each phase runs docker.credentials.Store and
docker.auth against the helper found on PATH, and prints one JSON object
with what each step returned or raised, for the Rust test to check. The helper's own stdout never reaches
this output: docker-py parses it.
"""

import json
import sys
import warnings

import docker
import docker.auth
from docker.credentials import Store


def outcome(action):
    """Run action() and describe its return value or its exception."""
    try:
        return {"returned": action()}
    except Exception as error:  # noqa: BLE001 - the test asserts on the type
        return {"raised": type(error).__name__, "message": str(error)}


def main():
    request = json.load(sys.stdin)
    server = request["server"]

    with warnings.catch_warnings():
        # Store() only warns when the helper is missing from PATH; fail instead.
        warnings.simplefilter("error")
        store = Store("atcr")

    steps = {"docker_py_version": docker.__version__, "helper_path": store.exe}
    phase = sys.argv[1]
    if phase == "store":
        steps["get_before_store"] = outcome(lambda: store.get(server))
        steps["store"] = outcome(lambda: store.store(server, request["username"], request["secret"]).decode())
        steps["get"] = outcome(lambda: store.get(server))
        steps["list"] = outcome(store.list)

        auth_config = docker.auth.load_config(config_path=request["config"])
        steps["cred_helper_for_server"] = auth_config.get_credential_store(server)
        steps["resolve_authconfig"] = outcome(lambda: auth_config.resolve_authconfig(server))
    elif phase == "erase":
        steps["erase"] = outcome(lambda: store.erase(server))
        steps["get_after_erase"] = outcome(lambda: store.get(server))
        steps["erase_missing"] = outcome(lambda: store.erase(server))
        steps["list_after_erase"] = outcome(store.list)
    else:
        sys.exit(f"unknown phase {phase!r}: expected store or erase")

    json.dump(steps, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
