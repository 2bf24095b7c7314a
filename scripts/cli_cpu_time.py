"""CPU time (user + system, child process) of the light CLI commands, median over repeated runs.

Usage: python scripts/cli_cpu_time.py [RUNS] [CHECKOUT]. Prints a Markdown table for
docs/benchmarks.md. CHECKOUT (default: this one) is the source tree whose ``motionprog`` runs,
so an older commit exported elsewhere (``git archive``) is measured on the same programs.
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
SCENES = [p for p in EXAMPLES if "scene {" in Path(p).read_text()]
SCENE_FREE = str(ROOT / "examples" / "hand_touches_head.mprog")
SCENE = str(ROOT / "examples" / "duck_under_bar.mprog")
MESH = str(ROOT / "examples" / "sit_on_chair.mprog")
COMMANDS = {
    "--help": ["--help"],
    "check (every example)": ["check", *EXAMPLES],
    f"check (the {len(SCENES)} examples with a scene)": ["check", *SCENES],
    "check (one program, no scene)": ["check", SCENE_FREE],
    "fmt": ["fmt", SCENE_FREE],
    "explain": ["explain", SCENE_FREE],
    "check (one program with a scene: duck_under_bar)": ["check", SCENE],
    "check (a scene with a mesh file: sit_on_chair)": ["check", MESH],
    "fmt (duck_under_bar)": ["fmt", SCENE],
    "explain (duck_under_bar)": ["explain", SCENE],
}


def cpu_seconds(args: list[str], checkout: Path) -> float:
    """CPU seconds one ``motionprog ARGS`` process spends, start-up and imports included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "motionprog", *args], cwd=checkout, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    checkout = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else ROOT
    print("| command | CPU s (median of %d) |\n|---|---|" % runs)
    for name, args in COMMANDS.items():
        print(f"| `{name}` | {statistics.median(cpu_seconds(args, checkout) for _ in range(runs)):.2f} |")


if __name__ == "__main__":
    main()
