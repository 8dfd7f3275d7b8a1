"""Regenerate the figures of docs/experiments.md from the real experiment functions.

    python docs/make_figures.py            # all experiments, into docs/figures/
    python docs/make_figures.py jitter     # only some

Each experiment runs at its default size (a few seconds), writes
``docs/figures/NAME.png`` (overwriting it) and prints its numbers, which are the numbers
quoted in docs/experiments.md.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # run from a checkout without installing

from neurochip.lab.experiments import EXPERIMENTS, run_experiment  # noqa: E402


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        print(f"unknown experiment(s) {', '.join(unknown)}; choose from "
              f"{', '.join(EXPERIMENTS)}", file=sys.stderr)
        return 2
    out = os.path.join(HERE, "figures")
    for name in names or list(EXPERIMENTS):
        print(f"=== {name}")
        run_experiment(name, out, force=True)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
