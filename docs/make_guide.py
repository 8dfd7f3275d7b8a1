"""Run the commands of docs/user-guide.md with the real ``neurochip`` command and print
what they print; their plots land in docs/figures/.

    python docs/make_guide.py              # every command of the guide
    python docs/make_guide.py compare      # only those whose name starts with "compare"

Each command runs in a subprocess from the repository root, as a user would type it
(the console script beside this interpreter, else ``python -m neurochip.cli``). Its
output is printed under a ``$ neurochip ...`` line with the wall time; the numbers
quoted in the guide are these. A command that fails stops the script (exit 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "neurochip"
NEUROCHIP = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]
EXAMPLE = "examples/balanced.json"
FIGURES = "docs/figures"
EXPERIMENT_NAMES = ("fi-curve", "dimensionless", "impedance", "adaptation", "jitter",
                    "nonlinear-leak")

#: (name, arguments); plots are overwritten (--force): the guide's figures are these
COMMANDS = [
    ("compare", ["compare", EXAMPLE, "--v-bits", "8,10,12,16", "--ticks", "300",
                 "--tolerance", "0.3", "--plot", f"{FIGURES}/guide-compare", "--force"]),
    ("compare-realised", ["compare", EXAMPLE, "--v-bits", "8,10,12,16", "--ticks", "300",
                          "--reference", "realised", "--quiet"]),
    ("compare-rounding", ["compare", EXAMPLE, "--v-bits", "10,16", "--ticks", "300",
                          "--rounding", "floor,nearest,zero", "--tolerance", "0.3",
                          "--quiet"]),
    ("compare-search", ["compare", EXAMPLE, "--v-bits", "4,5,6,7,8,9,10,11,12,13,14,15,16",
                        "--ticks", "300", "--tolerance", "0.3", "--quiet"]),
    *((f"experiment-{name}", ["experiment", name, "--out", FIGURES, "--force"])
      for name in EXPERIMENT_NAMES),
]


def main(prefixes: list[str]) -> int:
    chosen = [(name, args) for name, args in COMMANDS
              if not prefixes or any(name.startswith(p) for p in prefixes)]
    if not chosen:
        print(f"no command starts with {', '.join(prefixes)}; names: "
              f"{', '.join(name for name, _ in COMMANDS)}", file=sys.stderr)
        return 2
    env = dict(os.environ, COLUMNS="120")
    for name, args in chosen:
        print(f"=== {name}")
        print("$ neurochip " + " ".join(args))
        start = time.perf_counter()
        result = subprocess.run([*NEUROCHIP, *args], cwd=ROOT, capture_output=True,
                                text=True, env=env)
        elapsed = time.perf_counter() - start
        print(result.stdout.rstrip())
        if result.returncode != 0:
            print(result.stderr.rstrip(), file=sys.stderr)
            print(f"[{name} failed with exit code {result.returncode}]", file=sys.stderr)
            return 1
        print(f"[{elapsed:.1f} s]\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
