"""Fuzzing the ``neurochip`` command line: random invocations, good and hostile, run
in this process through ``neurochip.cli.app.main`` with a time limit each.

    python -m tools.fuzzing.cli --count 1000 [--seed 0] [--timeout 10]

Every invocation must end with exit code 0, 1, 2 or 3; whatever it refuses (1 or 2) it
says on stderr in one line (compile warnings, one per line, may come first), and never
with a traceback. Counted: ``crash`` (an exception escaped ``main``: a bug), ``hang``
(over the time limit), ``memory`` (a MemoryError, under the address-space cap),
``multi-line`` (a refusal over several lines), and the exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "balanced.json"
NIR = ROOT / "tests" / "data" / "nir" / "snntorch" / "leaky_ff.nir"
MEMORY_CAP = 4 << 30

NUMBERS = ["1", "0", "-1", "2.5", "1e309", "nan", "inf", "-inf", "10", "100000000",
           str(10 ** 20), "9" * 400, "0x10", "", " ", "abc", "1e-300", "3"]
WIDTHS = ["8", "16", "0", "1", "33", "64", "-4", "8,12", "8,,16", "x", "4,5,6", ""]
MESHES = ["2x2", "1x1", "0x3", "100000x100000", "4x", "x4", "2x2x2", "256x256", "3X3"]
DTS = ["1", "1ms", "0.1ms", "1e-4s", "100us", "0", "-1ms", "1 fortnight", "nan", "1e400"]


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@dataclass
class Report:
    cases: int = 0
    codes: dict = field(default_factory=dict)
    crashes: list = field(default_factory=list)
    hangs: list = field(default_factory=list)
    memory: list = field(default_factory=list)
    multi_line: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"cases": self.cases, "exit_codes": self.codes, "crashes": len(self.crashes),
                "hangs": len(self.hangs), "memory_errors": len(self.memory),
                "multi_line_refusals": len(self.multi_line), "seconds": round(self.seconds, 1),
                "examples": {"crash": self.crashes[:5], "hang": self.hangs[:5],
                             "memory": self.memory[:5], "multi_line": self.multi_line[:5]}}


def make_files(folder: Path) -> dict[str, str]:
    """The files invocations name: good, corrupt, of the wrong kind, missing."""
    files = {"netlist": str(folder / "net.json"), "nir": str(folder / "net.nir")}
    shutil.copy(EXAMPLE, files["netlist"])
    shutil.copy(NIR, files["nir"])
    x = np.load(NIR.with_suffix(".npz"))["input"]
    np.save(folder / "x.npy", x)
    np.save(folder / "wide.npy", np.zeros((10, 99)))
    np.save(folder / "half.npy", x * 0.5)
    (folder / "bad.json").write_text('{"format": "neurochip-netlist", "version": 1, "dt": -1}')
    (folder / "trunc.json").write_text(EXAMPLE.read_text()[:200])
    (folder / "deep.toml").write_text("a = " + "[" * 2000 + "]" * 2000 + "\n")
    (folder / "notes.txt").write_text("not a netlist")
    (folder / "bad.nir").write_bytes(NIR.read_bytes()[:3000])
    (folder / "core.ncim").write_bytes(b"NCIM" + bytes(60))
    (folder / "sub").mkdir(exist_ok=True)
    files.update({name: str(folder / name) for name in (
        "x.npy", "wide.npy", "half.npy", "bad.json", "trunc.json", "deep.toml", "notes.txt",
        "bad.nir", "core.ncim", "sub")})
    files["missing"] = str(folder / "missing.json")
    return files


def command_flags() -> dict[str, set[str]]:
    """The options each command's real parser takes."""
    from neurochip.cli.app import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: set(p._option_string_actions) for name, p in sub.choices.items()}


FLAGS: dict[str, set[str]] = {}


def invocation(rng: random.Random, files: dict[str, str]) -> list[str]:
    """One random command line: a command, a network or file, options (some hostile)."""
    command = rng.choice(["run"] * 3 + ["compare"] * 2 + ["compile", "throughput", "inspect",
                          "demo", "experiment", "bogus", ""])
    net = rng.choice([files["netlist"]] * 4 + [files["nir"]] * 3 + [
        files["bad.json"], files["trunc.json"], files["deep.toml"], files["notes.txt"],
        files["bad.nir"], files["missing"], files["sub"]])
    argv = [command] if command else []
    if command in ("run", "compare", "compile"):
        argv.append(net)
    elif command == "throughput" and rng.random() < 0.6:
        argv.append(rng.choice([net, "random"]))
    elif command == "inspect":
        argv.append(rng.choice([files["core.ncim"], files["netlist"], files["sub"],
                                files["missing"]]))
    elif command == "experiment":
        argv.append(rng.choice(["dimensionless", "fi-curve", "leaky-bucket", "all", ""]))
    # per option: (values that should work, hostile values); mostly the former, so that
    # the runs get past the parser into loading, compiling and running
    pool = {
        "--ticks": (["5", "20"], NUMBERS),
        "--v-bits": (["8", "12", "16"], WIDTHS), "--i-bits": (["16"], WIDTHS),
        "--mesh": (["2x2", "1x1"], MESHES), "--dt": (["1", "1ms"], DTS),
        "--input": ([files["x.npy"]], [files["wide.npy"], files["half.npy"],
                                       files["notes.txt"], files["missing"]]),
        "--out": (["r.npz"], ["out/r.npz", "/proc/r.npz", "r.txt", files["sub"],
                              "/nonexistent/r.npz"]),
        "--option": (["reset_delay=false", "reset=zero"], ["x=1", "=", "a"]),
        "--framework": (["auto", "netlist"], ["norse", "brian"]),
        "--rounding": (["floor", "nearest,zero"], ["up", ""]),
        "--dialect": (["lif", "loihi", "xylo"], ["truenorth"]),
        "--slots": (["256"], NUMBERS[:10]),
        "--neurons": (["50"], ["0", "-3", "100000000"]),
        "--clock": (["100MHz"], ["0Hz", "fast"]),
        "--tolerance": (["0.3"], ["-1", "nan"]),
        "--timing": (["synop=2"], ["synop=-1", "x=1", str(2 ** 64)]),
    }
    if not FLAGS:
        FLAGS.update(command_flags())
    takes = sorted(FLAGS.get(command, set()) & set(pool)) or list(pool)
    for _ in range(rng.randrange(0, 5)):
        flag = rng.choice(takes if rng.random() < 0.9 else list(pool))
        good, hostile = pool[flag]
        argv += [flag, rng.choice(hostile if rng.random() < 0.3 else good)]
    if argv[1:2] == [files["nir"]] and "--input" not in argv and rng.random() < 0.8:
        argv += ["--input", files["x.npy"]]
    if command in ("run", "compare", "throughput", "demo") and "--ticks" not in argv:
        argv += ["--ticks", rng.choice(["5", "20"])]
    for flag in ("--quiet", "--force", "--float", "--json", "--backend"):
        if rng.random() < 0.15 and (flag in FLAGS.get(command, set()) or rng.random() < 0.1):
            argv += [flag] + (["numpy"] if flag == "--backend" else [])
    return argv


def run_one(argv: list[str], timeout: float) -> tuple[str, int | None, str]:
    """(outcome, exit code, stderr): ``ok``, ``crash``, ``hang`` or ``memory``."""
    from neurochip.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as stop:     # --help, --version
                code = stop.code if isinstance(stop.code, int) else 0
        return "ok", code, err.getvalue()
    except _Timeout:
        return "hang", None, err.getvalue()
    except MemoryError:
        return "memory", None, err.getvalue()
    except Exception:
        return "crash", None, traceback.format_exc(limit=4)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def campaign(count: int, seed: int = 0, timeout: float = 10.0) -> Report:
    rng, report = random.Random(seed), Report()
    start, here = time.perf_counter(), os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        files = make_files(Path(folder))
        os.chdir(folder)
        try:
            for _ in range(count):
                argv = invocation(rng, files)
                outcome, code, err = run_one(argv, timeout)
                report.cases += 1
                report.codes[str(code)] = report.codes.get(str(code), 0) + 1
                if outcome != "ok":
                    getattr(report, {"crash": "crashes", "hang": "hangs",
                                     "memory": "memory"}[outcome]).append(
                        {"argv": argv, "detail": err[-600:]})
                elif code in (1, 2) and _refusal_lines(err) != 1:
                    report.multi_line.append({"argv": argv, "stderr": err[-600:]})
        finally:
            os.chdir(here)
    report.seconds = time.perf_counter() - start
    return report


def _refusal_lines(err: str) -> int:
    """Lines of a refusal, after any ``warning:`` lines and the compile announcement."""
    return len([line for line in err.splitlines()
                if line and not line.startswith(("warning: ", "neurochip: compiling"))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzzing.cli")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    report = campaign(args.count, args.seed, args.timeout)
    print(json.dumps(report.to_dict(), indent=1))
    return 0 if not (report.crashes or report.hangs or report.memory or report.multi_line) \
        else 1


if __name__ == "__main__":
    sys.exit(main())
