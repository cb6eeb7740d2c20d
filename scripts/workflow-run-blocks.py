"""Writes each `run:` block of a GitHub workflow for one shell to its own
file, so a checker can read it: scripts/check-release.sh runs shellcheck on
the bash blocks and a PowerShell parser on the pwsh blocks.

Usage: python3 scripts/workflow-run-blocks.py WORKFLOW OUT_DIR [bash|pwsh]

The shell defaults to bash. A block runs in PowerShell when it sets
`shell: pwsh`, or when its job may run on Windows and names no shell. Each
`${{ expression }}` becomes the word EXPRESSION, because GitHub substitutes
it before the shell starts.
"""

import re
import sys
from pathlib import Path

from ruamel.yaml import YAML


def main() -> int:
    workflow, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    shell_name = sys.argv[3] if len(sys.argv) > 3 else "bash"
    if shell_name not in ("bash", "pwsh"):
        print(f"unknown shell {shell_name!r}: expected bash or pwsh", file=sys.stderr)
        return 2
    document = YAML(typ="safe").load(workflow.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for job_id, job in document["jobs"].items():
        # A job whose runner comes from its matrix may run on any runner listed there.
        matrix = job.get("strategy", {}).get("matrix", {})
        runners = [str(job.get("runs-on", ""))] + [str(value) for value in matrix.get("os", [])]
        runners += [str(entry.get("runner", "")) for entry in matrix.get("include", [])]
        on_windows = any("windows" in runner for runner in runners)
        job_shell = job.get("defaults", {}).get("run", {}).get("shell")
        for index, step in enumerate(job.get("steps", [])):
            if "run" not in step:
                continue
            shell = step.get("shell", job_shell) or ("pwsh" if on_windows else "bash")
            if shell != shell_name:
                continue
            script = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", step["run"])
            if shell_name == "bash":
                path = out_dir / f"{workflow.stem}.{job_id}.{index}.sh"
                path.write_text(f"#!/usr/bin/env bash\n# {workflow}: job {job_id}, step {index}\nset -eo pipefail\n{script}")
            else:
                path = out_dir / f"{workflow.stem}.{job_id}.{index}.ps1"
                path.write_text(f"# {workflow}: job {job_id}, step {index}\n{script}")
            written += 1
    print(f"{workflow}: wrote {written} run blocks to {out_dir}")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
