"""Running fuzz cases in a child process: a memory cap (``RLIMIT_AS``), a per-case
timeout, and the classification of every outcome.

Outcomes:

* ``ok``: the case ran through;
* ``refused``: it raised one of the project's named errors (``NAMED``), with a one-line
  message;
* ``crash``: any other exception (or a named error whose message is not one line, or
  the child dying);
* ``hang``: no answer within the timeout (the child is killed and restarted);
* ``memory``: ``MemoryError`` (the cap was hit: an allocation was not checked first).

The child is forked once and reused for every case until it hangs or dies, so a case
costs its own work, not an interpreter start.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

OUTCOMES = ("ok", "refused", "crash", "hang", "memory")


def named_errors() -> tuple[type, ...]:
    """The project's own error family: what a refusal may raise."""
    from firmware_models.lif.quantiser import QuantiseError
    from neurochip.formats.image import ImageError
    from neurochip.formats.netlist import NetlistError
    from neurochip.hardware.spec import SpecError
    return (NetlistError, ImageError, SpecError, QuantiseError)


@dataclass
class Outcome:
    kind: str                  # one of OUTCOMES
    error: str = ""            # exception type
    message: str = ""
    seconds: float = 0.0


def classify(run, case) -> Outcome:
    """Run ``run(case)`` here and classify what happened."""
    named = named_errors()
    start = time.perf_counter()
    try:
        run(case)
    except MemoryError:
        return Outcome("memory", "MemoryError", "", time.perf_counter() - start)
    except named as error:
        message = str(error)
        kind = "refused" if message and "\n" not in message else "crash"
        return Outcome(kind, type(error).__name__, message[:500], time.perf_counter() - start)
    except BaseException as error:                       # noqa: BLE001 - that is the point
        tail = traceback.format_exc().strip().splitlines()[-4:]
        return Outcome("crash", type(error).__name__, " | ".join(tail)[:800],
                       time.perf_counter() - start)
    return Outcome("ok", seconds=time.perf_counter() - start)


def _child(conn, run, memory_cap: int, env: dict) -> None:
    os.environ.update(env)
    if memory_cap:
        resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))
    import warnings
    warnings.simplefilter("ignore")
    while True:
        try:
            case = conn.recv()
        except EOFError:
            return
        if case is None:
            return
        outcome = classify(run, case)
        conn.send(outcome)


class Worker:
    """A forked child that runs cases one at a time, restarted after a hang or death."""

    def __init__(self, run, timeout: float, memory_cap: int, env: dict | None = None):
        self.run, self.timeout, self.memory_cap = run, timeout, memory_cap
        self.env = dict(env or {})
        self.ctx = mp.get_context("fork")
        self.proc = None

    def _start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_child, args=(child, self.run, self.memory_cap,
                                                          self.env), daemon=True)
        self.proc.start()
        child.close()

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.proc = None

    def __call__(self, case) -> Outcome:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        start = time.perf_counter()
        self.conn.send(case)
        if not self.conn.poll(self.timeout):
            self._kill()
            return Outcome("hang", "", f"no answer in {self.timeout:g} s",
                           time.perf_counter() - start)
        try:
            return self.conn.recv()
        except EOFError:
            code = self.proc.exitcode if self.proc else None
            self._kill()
            return Outcome("crash", "ChildDied", f"the child died (exit code {code})",
                           time.perf_counter() - start)

    def close(self):
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(5)
        self._kill()


@dataclass
class Report:
    """What a campaign found: counts per outcome, the refusals by error type, and the
    first cases of every bad outcome (with their labels, to reproduce them)."""

    name: str
    counts: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    bad: list = field(default_factory=list)
    slowest: float = 0.0
    seconds: float = 0.0

    def add(self, label: str, outcome: Outcome) -> None:
        self.counts[outcome.kind] += 1
        self.slowest = max(self.slowest, outcome.seconds)
        if outcome.kind == "refused":
            self.errors[outcome.error] += 1
        elif outcome.kind != "ok" and len(self.bad) < 50:
            self.bad.append((label, outcome))

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    @property
    def failures(self) -> int:
        return sum(self.counts[k] for k in ("crash", "hang", "memory"))

    def format(self) -> str:
        lines = [f"{self.name}: {self.cases} cases in {self.seconds:.0f} s "
                 f"(slowest case {self.slowest:.2f} s)"]
        for kind in OUTCOMES:
            extra = ""
            if kind == "refused" and self.errors:
                extra = " (" + ", ".join(f"{k} {v}" for k, v in self.errors.most_common()) + ")"
            lines.append(f"  {kind:<8} {self.counts[kind]:>6}{extra}")
        for label, outcome in self.bad[:20]:
            lines.append(f"  ! {outcome.kind} {label}: {outcome.error} {outcome.message[:300]}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"name": self.name, "cases": self.cases, "seconds": round(self.seconds, 1),
                "slowest_case_s": round(self.slowest, 3),
                **{kind: self.counts[kind] for kind in OUTCOMES},
                "refused_by_error": dict(self.errors),
                "bad": [{"case": label, "kind": o.kind, "error": o.error, "message": o.message}
                        for label, o in self.bad]}


def campaign(name: str, cases, run, *, timeout: float = 10.0, memory_cap: int = 4 << 30,
             env: dict | None = None, deadline: float | None = None,
             progress=None) -> Report:
    """Run every ``(label, case)`` of ``cases`` through ``run`` in a child process (the
    memory cap, the per-case timeout); stop early at ``deadline`` (seconds)."""
    report = Report(name)
    worker = Worker(run, timeout, memory_cap, env)
    start = time.perf_counter()
    try:
        for j, (label, case) in enumerate(cases):
            if deadline is not None and time.perf_counter() - start > deadline:
                break
            report.add(label, worker(case))
            if progress is not None:
                progress(j + 1, report)
    finally:
        worker.close()
        report.seconds = time.perf_counter() - start
    return report
