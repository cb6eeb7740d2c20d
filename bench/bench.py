"""Time the credential helpers' protocol verbs and print one Markdown report.

bench/bench.sh starts the private gnome-keyring and runs this script; see
there for the usage. Each command runs with stdin from a file and stdout to
/dev/null through os.posix_spawn, and its wall time is measured from the
spawn to waitpid's return, so every row, /bin/true included, pays the same
process start-up. Each round runs every command once in a shuffled order, so
load from other processes on the machine spreads over all cells alike. Peak RSS comes from
GNU time's %M (the child's ru_maxrss, in KiB). Standard library only.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

SERVER = "atcr.io"
MISSING_SERVER = "localhost:5999"
USERNAME = "bench-user"
SECRET = "bench-secret-not-a-real-token"
NOT_FOUND = "credentials not found in native keychain"

WARMUP_RUNS = 5
RSS_RUNS = 20
RSS_TARGET_KIB = 4 * 1024

VERBS = ["get hit", "get miss", "list", "store"]
SHUFFLE_SEED = 1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, required=True, help="timed runs per command")
    parser.add_argument("--work", required=True, help="a temporary directory for homes and stdin files")
    parser.add_argument("--bus", required=True, help="D-Bus address of the private gnome-keyring")
    parser.add_argument("--helper", required=True, help="the release docker-credential-atcr")
    parser.add_argument("--musl-helper", help="the static musl build, timed in extra columns")
    parser.add_argument("--secretservice", required=True, help="docker-credential-secretservice")
    return parser.parse_args()


def home_env(work, name):
    """Return an environment with its own HOME and XDG directories under work/name."""
    home = os.path.join(work, name)
    os.makedirs(home, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_DATA_HOME": os.path.join(home, ".local/share"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_RUNTIME_DIR": os.path.join(home, "no-runtime-dir"),
    }


def implementations(args):
    """Return the benchmarked programs: name -> (executable, environment)."""
    atcr_keyring = home_env(args.work, "atcr-keyring")
    atcr_keyring["DBUS_SESSION_BUS_ADDRESS"] = args.bus
    atcr_file = home_env(args.work, "atcr-file")
    atcr_file["ATCR_CREDENTIAL_STORE"] = "file"
    secretservice = home_env(args.work, "secretservice")
    secretservice["DBUS_SESSION_BUS_ADDRESS"] = args.bus
    programs = {
        "atcr keyring": (args.helper, atcr_keyring),
        "atcr file": (args.helper, atcr_file),
    }
    if args.musl_helper:
        musl_keyring = home_env(args.work, "atcr-musl-keyring")
        musl_keyring["DBUS_SESSION_BUS_ADDRESS"] = args.bus
        musl_file = home_env(args.work, "atcr-musl-file")
        musl_file["ATCR_CREDENTIAL_STORE"] = "file"
        programs["atcr musl keyring"] = (args.musl_helper, musl_keyring)
        programs["atcr musl file"] = (args.musl_helper, musl_file)
    programs["secretservice"] = (args.secretservice, secretservice)
    programs["/bin/true"] = ("/bin/true", {"PATH": "/usr/bin:/bin"})
    return programs


def stdin_files(work):
    """Write each verb's stdin to a file and return verb -> (argument, path)."""
    inputs = {
        "get hit": ("get", SERVER + "\n"),
        "get miss": ("get", MISSING_SERVER + "\n"),
        "store": ("store", json.dumps({"ServerURL": SERVER, "Username": USERNAME, "Secret": SECRET})),
        "list": ("list", ""),
    }
    files = {}
    for verb, (argument, text) in inputs.items():
        path = os.path.join(work, verb.replace(" ", "-") + ".stdin")
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        files[verb] = (argument, path)
    return files


def spawn_and_wait(executable, argument, env, stdin_path, stdout_path=os.devnull):
    """Run one command; return (exit status, wall time in seconds)."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    started = time.perf_counter()
    pid = os.posix_spawn(executable, [executable, argument], env, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    return os.waitstatus_to_exitcode(status), elapsed


def expected_status(name, verb):
    if name == "/bin/true":
        return 0
    return 1 if verb == "get miss" else 0


def check_outputs(programs, files, work):
    """Store a credential with each helper and check what each verb prints.

    Fails before any timing when a helper does not store or find the
    credential, so no row can time an error path by mistake.
    """
    for name, (executable, env) in programs.items():
        if name == "/bin/true":
            continue
        output_path = os.path.join(work, "check.out")
        for verb in ["store", "get hit", "get miss", "list"]:
            argument, stdin_path = files[verb]
            status, _ = spawn_and_wait(executable, argument, env, stdin_path, output_path)
            with open(output_path, encoding="utf-8") as file:
                output = file.read()
            if status != expected_status(name, verb):
                sys.exit(f"error: {name} {verb} exited with {status}: {output.strip()}")
            if verb == "get hit" and json.loads(output).get("Secret") != SECRET:
                sys.exit(f"error: {name} get returned another credential for {SERVER}")
            if verb == "get miss" and NOT_FOUND not in output:
                sys.exit(f"error: {name} get of {MISSING_SERVER} printed {output.strip()!r}, expected {NOT_FOUND!r}")
            if verb == "list" and SERVER not in json.loads(output):
                sys.exit(f"error: {name} list does not include {SERVER}: {output.strip()}")

    for name, (_, env) in programs.items():
        if not name.startswith("atcr"):
            continue
        expected = name.split()[-1]
        index_path = os.path.join(env["XDG_CONFIG_HOME"], "docker-credential-atcr", "index.json")
        with open(index_path, encoding="utf-8") as file:
            stored_in = json.load(file)["credentials"][SERVER]["store"]
        if stored_in != expected:
            sys.exit(f"error: {name} stored the secret in the {stored_in} store, expected {expected}")


def time_commands(programs, files, runs):
    """Return (name, verb) -> wall times in seconds, from shuffled rounds."""
    cases = [(name, verb) for verb in VERBS for name in programs]
    samples = {case: [] for case in cases}
    shuffler = random.Random(SHUFFLE_SEED)
    for round_number in range(WARMUP_RUNS + runs):
        # Reads run before the writes in every round, so no read waits on a store's fsync.
        reads = [case for case in cases if case[1] != "store"]
        writes = [case for case in cases if case[1] == "store"]
        shuffler.shuffle(reads)
        shuffler.shuffle(writes)
        for name, verb in reads + writes:
            executable, env = programs[name]
            argument, stdin_path = files[verb]
            status, elapsed = spawn_and_wait(executable, argument, env, stdin_path)
            if status != expected_status(name, verb):
                sys.exit(f"error: {name} {verb} exited with {status} in round {round_number}")
            if round_number >= WARMUP_RUNS:
                samples[(name, verb)].append(elapsed)
    return samples


def peak_rss_kib(executable, env, stdin_path):
    """Return the peak RSS of each of RSS_RUNS `get` runs, in KiB, from GNU time."""
    peaks = []
    for _ in range(RSS_RUNS):
        with open(stdin_path, "rb") as stdin:
            result = subprocess.run(
                ["/usr/bin/time", "-f", "%M", executable, "get"],
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                check=False,
            )
        peaks.append(int(result.stderr.decode().strip().splitlines()[-1]))
    return peaks


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError as error:
        return f"unavailable ({error})"


def cpu_model():
    with open("/proc/cpuinfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def milliseconds(seconds):
    return f"{seconds * 1000:.2f}"


def verdict(value, limit):
    return "met" if value <= limit else "MISSED"


def print_report(args, programs, samples, rss, load_before):
    medians = {case: statistics.median(times) for case, times in samples.items()}
    names = list(programs)

    print("## Median wall time (ms)\n")
    print(f"{args.runs} timed runs per cell after {WARMUP_RUNS} warm-up rounds; each round runs every cell once, in a shuffled order.\n")
    print("| command | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for verb in VERBS:
        cells = [milliseconds(medians[(name, verb)]) for name in names]
        print(f"| {verb} | " + " | ".join(cells) + " |")

    print("\n## Interquartile range of the wall time (ms)\n")
    print("The spread between the 25th and the 75th percentile: a ratio near its target is")
    print("only meaningful when the difference exceeds these.\n")
    print("| command | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for verb in VERBS:
        cells = []
        for name in names:
            quartiles = statistics.quantiles(samples[(name, verb)], n=4)
            cells.append(milliseconds(quartiles[2] - quartiles[0]))
        print(f"| {verb} | " + " | ".join(cells) + " |")

    print("\n## Ratios against the targets\n")
    print("| ratio | value | target | verdict |")
    print("|---|---|---|---|")
    rows = [
        ("atcr keyring get hit / secretservice get hit", medians[("atcr keyring", "get hit")] / medians[("secretservice", "get hit")], 0.5),
    ]
    if "atcr musl keyring" in programs:
        ratio = medians[("atcr musl keyring", "get hit")] / medians[("secretservice", "get hit")]
        rows.append(("atcr musl keyring get hit / secretservice get hit", ratio, 0.5))
    for name in [name for name in names if name.startswith("atcr")]:
        for verb in ["get miss", "list"]:
            ratio = medians[(name, verb)] / medians[("/bin/true", verb)]
            rows.append((f"{name} {verb} / /bin/true", ratio, 1.5))
    for label, value, limit in rows:
        print(f"| {label} | {value:.2f} | <= {limit} | {verdict(value, limit)} |")

    print("\n## Peak RSS of `get` (KiB, GNU time %M)\n")
    print(f"{RSS_RUNS} runs each. Target for this helper: at most {RSS_TARGET_KIB} KiB (4 MiB).\n")
    print("| program | median | max | verdict |")
    print("|---|---|---|---|")
    for name, peaks in rss.items():
        target = verdict(max(peaks), RSS_TARGET_KIB) if name.startswith("atcr") else "-"
        print(f"| {name} | {statistics.median(peaks):.0f} | {max(peaks)} | {target} |")

    print("\n## Binary size\n")
    print("| binary | bytes | MiB | file(1) |")
    print("|---|---|---|---|")
    binaries = [("release, x86_64-unknown-linux-gnu", args.helper), ("secretservice (Debian)", args.secretservice)]
    if args.musl_helper:
        binaries.insert(1, ("release, x86_64-unknown-linux-musl", args.musl_helper))
    for label, path in binaries:
        size = os.path.getsize(path)
        description = command_output(["file", "-b", path])
        kind = "not stripped" if "not stripped" in description else "stripped"
        linkage = "static" if "static-pie linked" in description or "statically linked" in description else "dynamic"
        print(f"| {label} | {size} | {size / 2**20:.2f} | {linkage}, {kind} |")

    print("\n## Machine\n")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs")
    print(f"- kernel: {platform.system()} {platform.release()}")
    print(f"- load average (1, 5, 15 min) before: {load_before}, after: {os.getloadavg()}")
    print(f"- helper: {command_output([args.helper, 'version'])}")
    print(f"- rustc: {command_output(['rustc', '-V'])}")
    print(f"- gnome-keyring: {command_output(['gnome-keyring-daemon', '--version']).splitlines()[0]}")
    package = command_output(["dpkg-query", "-W", "-f=${Version}", "golang-docker-credential-helpers"])
    print(f"- docker-credential-secretservice: golang-docker-credential-helpers {package}")
    print(f"- python: {platform.python_version()}")


def main():
    args = parse_args()
    programs = implementations(args)
    files = stdin_files(args.work)
    load_before = os.getloadavg()

    check_outputs(programs, files, args.work)
    samples = time_commands(programs, files, args.runs)

    rss = {}
    for name, (executable, env) in programs.items():
        rss[name] = peak_rss_kib(executable, env, files["get hit"][1])

    print_report(args, programs, samples, rss, load_before)


if __name__ == "__main__":
    main()
