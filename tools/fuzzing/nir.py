"""The NIR fuzz campaign: ``python tools/fuzz.py nir --count 3000 [--seed 1] [--jobs 2]``.

Each case (``nir_cases.make_case`` from ``random.Random(f"{seed}:{index}")``, so any
case replays with ``--replay INDEX``) runs in a worker process under a 4 GiB
address-space cap (``RLIMIT_AS``) with ``NEUROCHIP_MEMORY_BUDGET`` 1 GiB (the loaders'
estimates are approximate; the cap leaves them room) and a timeout per case: a case that
has used 10 s of CPU (or waited 60 s, on a machine shared with other jobs) without an
answer is a hang, and its worker is killed and replaced. A hang inside the HDF5 library
happens in the reader's own process, which the reader's 5 s timeout stops. Outcomes:

* ``ok``: loaded, ran (``run_float``, ``run_framework`` for a few steps) and survived
  ``save_nir`` -> ``load_nir`` with the same node names (networks over ``BIG_NETWORK``
  neurons: one step, no round trip, as ``save_nir`` writes dense matrices);
* ``refused``: a ``NirError`` (a named refusal);
* ``value_error``: another ``ValueError`` raised by the project (counted apart; none is
  expected from a graph);
* ``crash``: any other exception (the type, message and innermost frame are kept);
* ``hang``: no answer within the timeout; ``memory``: ``MemoryError`` or a worker killed.

The report prints the counts, the refusals by message shape and every crash, hang and
memory error with its index; exit status 1 when there is any.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import sys
import tempfile
import time
import traceback

import numpy as np

CAP_BYTES = 4 * 2 ** 30
CASE_BUDGET = "1GiB"
TIMEOUT_S = 10.0        # a hang: a case over 10 s of CPU time (or WALL_LIMIT_S of wall time)
WALL_LIMIT_S = 60.0     # a case waiting this long is a hang however little CPU it used
STEPS = 4
BIG_NETWORK = 2000      # neurons: one step and no save round trip (keeps a case under ~5 s)
FRAMEWORKS = ("snntorch", "norse", "sinabs", "rockpool")


def run_case(kind: str, case, rng: random.Random) -> tuple[str, str]:
    """One case through load -> runs -> save -> load: ``(outcome, detail)``."""
    from neurochip.formats.nir import NirError, load_nir, run_float, run_framework, save_nir

    stage = "load_nir"
    try:
        net = load_nir(case, dt=rng.choice([1e-4, 1e-3]), reset=rng.choice(["auto", "value",
                                                                              "subtract"]))
        stage = "run_float"
        big = net.netlist.n > BIG_NETWORK
        steps = 1 if big else STEPS
        x = np.asarray(np.random.default_rng(rng.randrange(2 ** 32)).random(
            (steps, net.n_inputs)) < 0.5, dtype=float)
        run_float(net, x)
        stage = "run_framework"
        fx = x.reshape(steps, -1)
        run_framework(case, fx, rng.choice(FRAMEWORKS), stepping=rng.choice(
            ["same-step", "tick-per-hop"]))
        if big:                                       # save_nir writes dense matrices
            return "ok", "(not saved: large)"
        stage = "save_nir"
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "round.nir")
            save_nir(net, path)
            stage = "load_nir (saved)"
            again = load_nir(path, dt=net.netlist.dt, reset=dict(net.reset))
            # save_nir may add an Input (nir.read needs one) and a dc Input, nothing else
            if set(again.nodes) != set(net.nodes) or not set(net.inputs) <= set(again.inputs) \
                    or set(again.outputs) != set(net.outputs):
                return "crash", f"{stage}: names changed in the round trip"
        return "ok", ""
    except NirError as e:
        return "refused", f"{stage}: {e}"
    except MemoryError as e:
        return "memory", f"{stage}: MemoryError {e}"
    except ValueError as e:
        if _raised_by_project(e):
            return "value_error", f"{stage}: {e}"
        return "crash", _crash_text(stage, e)
    except Exception as e:                            # noqa: BLE001 - that is the point
        return "crash", _crash_text(stage, e)


def _raised_by_project(e: BaseException) -> bool:
    frames = traceback.extract_tb(e.__traceback__)
    return bool(frames) and ("neurochip" in frames[-1].filename
                             or "firmware_models" in frames[-1].filename)


def _crash_text(stage: str, e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    inner = [f for f in frames if "neurochip" in f.filename or "firmware" in f.filename]
    where = inner[-1] if inner else (frames[-1] if frames else None)
    at = f" at {os.path.relpath(where.filename)}:{where.lineno}" if where else ""
    return f"{stage}: {type(e).__name__}: {' '.join(str(e).split())[:300]}{at}"


def case_for(seed: int, index: int, tmpdir: str):
    from tools.fuzzing.nir_cases import make_case

    rng = random.Random(f"{seed}:{index}")
    return (*make_case(rng, tmpdir), rng)


def _worker(conn, seed: int) -> None:
    """A case worker: capped, with its own budget; answers one case per request."""
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))
    os.environ["NEUROCHIP_MEMORY_BUDGET"] = CASE_BUDGET
    warnings.simplefilter("ignore")
    tmpdir = tempfile.mkdtemp(prefix="nirfuzz")
    while True:
        index = conn.recv()
        if index is None:
            return
        try:
            kind, case, what, rng = case_for(seed, index, tmpdir)
        except Exception as e:                        # noqa: BLE001 - a bug of the fuzzer
            conn.send((index, "?", "?", "generator", _crash_text("make_case", e)))
            continue
        outcome, detail = run_case(kind, case, rng)
        conn.send((index, kind, what, outcome, detail))


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used; wall time where /proc is
    missing."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()


def campaign(count: int, seed: int, jobs: int, timeout: float = TIMEOUT_S, start: int = 0):
    """Run cases ``start .. start+count-1``; the list of results."""
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    import neurochip.formats.nir  # noqa: F401 - imported once, before forking

    results = []
    todo = list(range(start, start + count))[::-1]
    workers: dict = {}

    def spawn():
        a, b = ctx.Pipe()
        p = ctx.Process(target=_worker, args=(b, seed), daemon=True)
        p.start()
        return a, p

    for _ in range(jobs):
        conn, proc = spawn()
        workers[conn] = [proc, None, 0.0, 0.0]
    for conn, w in workers.items():
        if todo:
            w[1], w[2], w[3] = todo.pop(), time.monotonic(), _cpu_seconds(w[0].pid)
            conn.send(w[1])
    while any(w[1] is not None for w in workers.values()):
        ready = wait([c for c, w in workers.items() if w[1] is not None], timeout=0.5)
        now = time.monotonic()
        for conn in list(workers):
            proc, index, t0, _ = workers[conn]
            if index is None:
                continue
            got = None
            if conn in ready:
                try:
                    got = conn.recv()
                except (EOFError, OSError):
                    got = (index, "?", "?", "memory", f"worker died (exit {proc.exitcode})")
            elif now - t0 > timeout and (_cpu_seconds(proc.pid) - workers[conn][3] > timeout
                                         or now - t0 > WALL_LIMIT_S):
                got = (index, "?", "?", "hang", f"no answer after {timeout:g} s of CPU "
                                                 f"({now - t0:.0f} s)")
            if got is None:
                continue
            got = (*got, now - t0)
            results.append(got)
            if got[3] in ("hang", "memory") and "MemoryError" not in got[4]:
                proc.kill()
                proc.join()
                del workers[conn]
                conn, proc = spawn()
                workers[conn] = [proc, None, 0.0, 0.0]
            if todo:
                w = workers[conn]
                w[1], w[2], w[3] = todo.pop(), time.monotonic(), _cpu_seconds(w[0].pid)
                conn.send(w[1])
            else:
                workers[conn][1] = None
    for conn, w in workers.items():
        conn.send(None)
        w[0].join(timeout=5)
    return sorted(results)


def _shape_of(detail: str) -> str:
    """A refusal's message without file, numbers and quoted values: its kind."""
    text = detail.split(": ", 1)[-1]
    text = re.sub(r"^\S*?(\.nir|<graph>|<dict>): ", "", text)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\(.*?\)", "(…)", text)
    return re.sub(r"[-+]?\d[\d.e+\-]*", "N", text)[:110]


def report(results, seconds: float) -> int:
    counts = collections.Counter(r[3] for r in results)
    kinds = collections.Counter(r[1] for r in results)
    print(f"NIR fuzz: {len(results)} cases in {seconds:.0f} s ({dict(kinds)})")
    for outcome in ("ok", "refused", "value_error", "crash", "hang", "memory", "generator"):
        print(f"  {outcome:12s} {counts.get(outcome, 0)}")
    stopped = sum(1 for r in results if r[3] == "refused" and "took over" in r[4])
    crashed = sum(1 for r in results if r[3] == "refused" and "library crashed" in r[4])
    print(f"  of the refusals: {stopped} reads stopped by the reader's timeout (HDF5 hangs), "
          f"{crashed} reader crashes")
    shapes = collections.Counter(_shape_of(r[4]) for r in results if r[3] == "refused")
    print("most frequent refusals:")
    for text, n in shapes.most_common(25):
        print(f"  {n:5d}  {text}")
    slow = max(results, key=lambda r: r[5]) if results else None
    if slow:
        print(f"slowest case: #{slow[0]} {slow[5]:.2f} s ({slow[3]})")
    bad = [r for r in results if r[3] in ("crash", "hang", "memory", "value_error",
                                          "generator")]
    for r in bad:
        print(f"  #{r[0]} {r[3]} [{r[2]}] {r[4]}")
    return 1 if any(r[3] in ("crash", "hang", "memory") for r in results) else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fuzz.py nir", description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0, help="first case index")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S)
    ap.add_argument("--replay", type=int, help="run one case here and show its traceback")
    args = ap.parse_args(argv)
    if args.replay is not None:
        with tempfile.TemporaryDirectory() as d:
            kind, case, what, rng = case_for(args.seed, args.replay, d)
            print(f"case #{args.replay}: {kind} [{what}]")
            print(run_case(kind, case, rng))
        return 0
    t0 = time.monotonic()
    results = campaign(args.count, args.seed, args.jobs, args.timeout, args.start)
    return report(results, time.monotonic() - t0)


if __name__ == "__main__":                              # pragma: no cover
    sys.exit(main())
