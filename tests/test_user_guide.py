"""docs/user-guide.md quotes the real output of ``neurochip compare``: run every quoted
``$ neurochip compare ...`` command again and check the quote is still what it prints
(plots go to a temporary folder; the ``plot:`` paths and ``[x s]`` timings are not
compared). When this fails after a deliberate change, run ``python docs/make_guide.py``
and update the quotes."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "user-guide.md"
SCRIPT = Path(sys.executable).parent / "neurochip"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]


def quoted_runs() -> list[tuple[str, list[str]]]:
    """``(command line, expected output lines)`` for every ``$ neurochip compare`` in a
    fenced block of the guide (the output runs to the next ``$`` line or the fence)."""
    runs = []
    for block in re.findall(r"```\n(.*?)```", GUIDE.read_text(), flags=re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("$ "):
                current = (line[2:], [])
                runs.append(current)
            elif current is not None and not line.startswith(("plot: ", "[")):
                current[1].append(line)
    return [r for r in runs if r[0].startswith("neurochip compare")]


RUNS = quoted_runs()


def test_the_guide_quotes_compare_runs():
    assert len(RUNS) >= 6


@pytest.mark.parametrize("line, expected", RUNS, ids=[r[0][18:70] for r in RUNS])
def test_quoted_output_is_what_the_command_prints(tmp_path, line, expected):
    args = shlex.split(line)[1:]
    if "--plot" in args:
        args[args.index("--plot") + 1] = str(tmp_path / "guide")
    result = subprocess.run([*COMMAND, *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    printed = [x for x in (result.stdout + result.stderr).splitlines()
               if not x.startswith("plot: ")]
    assert printed == expected, ("docs/user-guide.md is stale: rerun python "
                                 "docs/make_guide.py and update the quote of: " + line)
