"""CPU time (user + system, child process) of the light CLI commands, median over repeated runs.

Usage: python scripts/cli_cpu_time.py [RUNS]. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").glob("*.mprog"))
SCENE_FREE = str(ROOT / "examples" / "hand_touches_head.mprog")
COMMANDS = {
    "--help": ["--help"],
    "check (every example)": ["check", *EXAMPLES],
    "check (one program, no scene)": ["check", SCENE_FREE],
    "fmt": ["fmt", SCENE_FREE],
    "explain": ["explain", SCENE_FREE],
}


def cpu_seconds(args: list[str]) -> float:
    """CPU seconds one ``motionprog ARGS`` process spends, start-up and imports included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "motionprog", *args], cwd=ROOT, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("| command | CPU s (median of %d) |\n|---|---|" % runs)
    for name, args in COMMANDS.items():
        print(f"| `{name}` | {statistics.median(cpu_seconds(args) for _ in range(runs)):.2f} |")


if __name__ == "__main__":
    main()
