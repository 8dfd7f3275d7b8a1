"""Progress on stderr: bars that show only for slow runs and are never left half-drawn,
waits without steps, printing above a bar, and a notice for every numba compile.

Bars write to ``sys.stderr``; the tests put a recording stream there, which tells them
when something was written (an event: no sleeps to wait for a thread)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from neurochip.lab import progress

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "balanced.json")


class Recording(io.StringIO):
    """A stderr that notes each write."""

    def __init__(self):
        super().__init__()
        self.written = threading.Event()

    def write(self, text: str) -> int:
        if text:
            self.written.set()
        return super().write(text)

    def isatty(self) -> bool:
        return True   # redraw in place, as on a terminal


def recording_stderr(monkeypatch) -> Recording:
    """A ``Recording`` as ``sys.stderr``: set in the test's body (pytest's capture puts
    its own stream back when the test call starts, over one a fixture set)."""
    stream = Recording()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


# ------------------------------------------------------------------------------- bars

def test_a_quick_bar_writes_nothing_even_with_a_postfix(monkeypatch):
    """tqdm's ``set_postfix_str`` draws at once, delay or not: the ``0%| 0/1`` that was
    left in front of a quick experiment's output."""
    stderr = recording_stderr(monkeypatch)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "30")
    with progress.bar(1, desc="experiment", unit="experiment") as shown:
        shown.set_postfix_str("dimensionless")
        shown.update()
    assert stderr.getvalue() == ""


def test_a_slow_step_shows_its_bar_while_it_runs_and_finishes_its_line(monkeypatch):
    stderr = recording_stderr(monkeypatch)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "0.05")
    with progress.bar(1, desc="experiment", unit="experiment") as shown:
        shown.set_postfix_str("adaptation")
        assert stderr.written.wait(30)           # drawn by the clock, before any step
        assert "0/1" in stderr.getvalue() and "adaptation" in stderr.getvalue()
        shown.update()
    text = stderr.getvalue()
    assert text.endswith("\n")                    # the line is finished, not left open
    assert "100%" in text.rsplit("\r", 1)[-1] and "1/1" in text.rsplit("\r", 1)[-1]


def test_printing_lifts_a_bar_off_its_line(monkeypatch):
    stderr = recording_stderr(monkeypatch)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "0")
    with progress.bar(3, desc="experiment") as shown:
        with progress.printing():
            print("summary", file=sys.stderr)
        shown.update(3)
    line = next(line for line in stderr.getvalue().split("\n") if "summary" in line)
    assert line.split("\r")[-1] == "summary"      # cleared first: not after "0/3 [...]"
    # the check can fail: without printing() the text runs into the bar's line
    stream = recording_stderr(monkeypatch)
    with progress.bar(3, desc="experiment") as shown:
        print("summary", file=sys.stderr)
        shown.update(3)
    line = next(line for line in stream.getvalue().split("\n") if "summary" in line)
    assert line.split("\r")[-1] != "summary"


def test_waiting_shows_the_time_elapsed_then_erases_itself(monkeypatch):
    stderr = recording_stderr(monkeypatch)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "0.05")
    with progress.waiting("reading cnn.nir"):
        assert stderr.written.wait(30)
        assert "reading cnn.nir: 00:0" in stderr.getvalue()
        assert "elapsed" in stderr.getvalue()
    assert stderr.getvalue().rsplit("\r", 2)[-2].strip() == ""   # the line blanked


def test_quiet_and_quick_waits_write_nothing(monkeypatch):
    stderr = recording_stderr(monkeypatch)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "0")
    with progress.waiting("reading", quiet=True), progress.bar(2, quiet=True) as shown:
        shown.set_postfix_str("x")
        shown.update(2)
    monkeypatch.setenv("NEUROCHIP_PROGRESS_DELAY", "30")
    with progress.waiting("reading"):
        pass
    assert stderr.getvalue() == ""


# --------------------------------------------------------------------- compile notices

KERNELS = '''
from numba import njit


@njit(cache=True)
def inner(x):
    return x * 2


@njit(cache=True)
def outer(x):
    return inner(x) + 1


@njit(cache=False)
def uncached(x):
    return x - 1
'''


@pytest.fixture
def kernels(tmp_path, monkeypatch):
    """A module of fresh numba functions (its cache beside it, in ``tmp_path``)."""
    pytest.importorskip("numba")
    module = f"fresh_kernels_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(KERNELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = __import__(module)
    yield imported
    sys.modules.pop(module, None)


def test_each_first_compile_is_told_once_and_only_the_outermost(kernels):
    said: list[str] = []
    stop = progress.announce_compilations(said.append)
    try:
        assert kernels.outer(1) == 3
        assert kernels.outer(2) == 5                 # compiled: nothing to say
        assert len(said) == 1                        # inner compiled inside outer: not told
        assert said[0] == (f"neurochip: compiling {kernels.__name__}.outer with numba (once "
                           f"for this install and these argument types; later runs load it "
                           f"from numba's cache)")
        assert kernels.outer(1.5) == 4.0             # new argument types: compiles again
        assert len(said) == 2 and said[1] == said[0]
        kernels.uncached(3)
        assert said[2].endswith("uncached with numba (not cached: each new process "
                                "compiles it)")
    finally:
        stop()
    kernels.outer(1j)
    assert len(said) == 3                            # stopped
    stop()                                           # stopping twice is harmless


def test_a_kernel_loaded_from_the_disk_cache_is_not_announced(kernels, tmp_path):
    said: list[str] = []
    stop = progress.announce_compilations(said.append)
    try:
        kernels.outer(1)
    finally:
        stop()
    assert len(said) == 1
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        from neurochip.lab.progress import announce_compilations
        announce_compilations()
        import {kernels.__name__} as k
        k.outer(7)
        k.outer(7.5)
    """)
    fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    # int64 is in the cache: loaded silently; float64 is not: told on stderr
    assert fresh.stderr.count("neurochip: compiling") == 1, fresh.stderr
    assert f"{kernels.__name__}.outer" in fresh.stderr and fresh.stdout == ""


def test_the_default_announcer_is_installed_once(monkeypatch):
    pytest.importorskip("numba")
    from numba.core import event

    before = len(event._registered["numba:compile"])
    stop = progress.announce_compilations()   # an earlier in-process CLI run may hold one
    try:
        installed = len(event._registered["numba:compile"])
        assert installed - before in (0, 1) and installed >= 1
        assert progress.announce_compilations() is stop
        assert len(event._registered["numba:compile"]) == installed
    finally:
        stop()
    assert len(event._registered["numba:compile"]) == installed - 1


def test_the_emulator_kernel_notice():
    assert progress.compile_notice("neurochip.hardware.tick_kernel", "run_kernel", True) == (
        "neurochip: compiling the emulator kernel (tick_kernel.run_kernel) with numba (once "
        "for this install and these argument types; later runs load it from numba's cache, "
        "about 15 s)")


def test_the_cli_announces_a_fresh_install_compile_once(tmp_path):
    """A fresh numba cache (a new install): the first ``neurochip run`` says it compiles
    the emulator kernel, on stderr, once; the second run loads it and says nothing."""
    pytest.importorskip("numba")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "neurochip.cli", "run", EXAMPLE, "--ticks", "20"]
    runs = [subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=900) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr
    first, second = (r.stderr for r in runs)
    notice = "neurochip: compiling the emulator kernel (tick_kernel.run_kernel) with numba"
    assert first.count(notice) == 1, first
    assert "neurochip: compiling" not in second, second
    assert "neurochip: compiling" not in runs[0].stdout
