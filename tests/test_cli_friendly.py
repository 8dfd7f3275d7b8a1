"""Friendly runs, on the real ``neurochip`` command in a subprocess: progress bars on
stderr only for runs that take a while (and never with ``--quiet``), ``--quiet``,
no output file overwritten without ``--force``, and bad arguments as one line on stderr
with exit code 2 (nothing written)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "neurochip"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]
EXAMPLE = str(Path(__file__).parent.parent / "examples" / "balanced.json")


def neurochip(*args, cwd):
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def neurochip_on_a_terminal(*args, cwd, delay: float | None = 0.0
                            ) -> tuple[subprocess.CompletedProcess, str]:
    """Run with stderr on a pseudo-terminal 100 columns wide (stdout a pipe); returns the
    process and everything written to the terminal. ``delay`` is the progress bars'
    delay (``NEUROCHIP_PROGRESS_DELAY``; ``None``: the default, 1 s), 0 so that the
    tests do not depend on how fast this machine is."""
    env = dict(os.environ)
    env.pop("NEUROCHIP_PROGRESS_DELAY", None)
    if delay is not None:
        env["NEUROCHIP_PROGRESS_DELAY"] = str(delay)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    chunks: list[bytes] = []

    def read():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        result = subprocess.run([*COMMAND, *args], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=slave, text=True, timeout=300, env=env)
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)
    return result, b"".join(chunks).decode(errors="replace")


# ---------------------------------------------------------------- progress and --quiet

def test_experiment_shows_a_bar_on_a_terminal_and_none_with_quiet(tmp_path):
    result, terminal = neurochip_on_a_terminal("experiment", "dimensionless", "--out", "a",
                                               cwd=tmp_path)
    assert result.returncode == 0
    assert "experiment: 100%" in terminal and "1/1" in terminal and "dimensionless" in terminal
    assert "float collapse" in result.stdout and "%|" not in result.stdout  # bar: stderr only
    quiet, terminal = neurochip_on_a_terminal("experiment", "dimensionless", "--out", "b",
                                              "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and terminal == ""
    assert (tmp_path / "b" / "dimensionless.png").read_bytes()[:4] == b"\x89PNG"


def only_warnings(stderr: str) -> bool:
    """Nothing on stderr but the compile's quantisation warnings (8-bit membranes warn)."""
    return all(line.startswith("warning: ") for line in stderr.splitlines())


def test_a_quick_run_shows_no_bar_even_on_a_terminal(tmp_path):
    """With the default delay (1 s) a run that ends sooner shows no bar on stderr."""
    # the numpy backend: a first compiled call may compile for seconds (a fresh install)
    result, terminal = neurochip_on_a_terminal("compare", EXAMPLE, "--v-bits", "8",
                                               "--ticks", "20", "--backend", "numpy",
                                               cwd=tmp_path, delay=None)
    assert result.returncode == 0 and "%|" not in terminal and only_warnings(terminal)


def test_compare_bar_counts_configurations_and_quiet_leaves_the_table_alone(tmp_path):
    result, terminal = neurochip_on_a_terminal("compare", EXAMPLE, "--v-bits", "8,10,12",
                                               "--rounding", "floor,nearest", cwd=tmp_path)
    assert result.returncode == 0
    assert "compare: 100%" in terminal and "6/6" in terminal and "config" in terminal
    quiet, terminal = neurochip_on_a_terminal("compare", EXAMPLE, "--v-bits", "8,12",
                                              "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and terminal == ""
    lines = quiet.stdout.splitlines()
    assert lines[0].startswith("configuration") and len(lines) == 3   # the table alone
    assert lines[1].startswith("v8 i16 w8 floor") and lines[2].startswith("v12 i16 w8 floor")


@pytest.mark.parametrize("args, shown", [
    (["demo", "--ticks", "200"], ("demo: 100%", "4/4", "stage")),
    (["throughput", "--ticks", "1500", "--neurons", "200"],
     ("throughput: 100%", "1500/1500", "tick")),
    (["throughput", EXAMPLE, "--ticks", "300"], ("throughput: 100%", "300/300", "tick")),
    (["run", EXAMPLE, "--ticks", "300"], ("run: 100%", "300/300", "tick")),
])
def test_other_commands_show_their_bars(tmp_path, args, shown):
    result, terminal = neurochip_on_a_terminal(*args, cwd=tmp_path)
    assert result.returncode == 0, terminal
    assert all(text in terminal for text in shown), terminal[-300:]
    quiet, terminal = neurochip_on_a_terminal(*args, "--quiet", "--force", cwd=tmp_path)
    assert quiet.returncode == 0 and terminal == ""


def test_a_short_run_into_a_pipe_writes_no_bar_on_stderr(tmp_path):
    # the numpy backend: a first compiled call may compile for seconds (a fresh install)
    result = neurochip("compare", EXAMPLE, "--v-bits", "8", "--backend", "numpy",
                       cwd=tmp_path)
    assert result.returncode == 0 and "%|" not in result.stderr
    assert result.stderr and only_warnings(result.stderr)
    assert "smallest" not in result.stdout and "v8 i16 w8 floor" in result.stdout


@pytest.mark.parametrize("args, made", [
    (["demo", "--ticks", "100", "--quiet"], "neurochip-demo.png"),
    (["compile", EXAMPLE, "-o", "images", "--quiet"], "images/report.json"),
    (["experiment", "dimensionless", "--quiet"], "dimensionless.png"),
])
def test_quiet_prints_nothing_and_still_writes(tmp_path, args, made):
    result = neurochip(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert (tmp_path / made).stat().st_size > 0


# ---------------------------------------------------------------------- --force

@pytest.mark.parametrize("args, existing", [
    (["compare", EXAMPLE, "--v-bits", "8", "--plot", "cmp"], "cmp-raster.png"),
    (["experiment", "dimensionless"], "dimensionless.png"),
    (["experiment", "all"], "nonlinear-leak.png"),
    (["run", EXAMPLE, "--ticks", "20", "--out", "rec.npz"], "rec.npz"),
    (["run", EXAMPLE, "--ticks", "20", "--plot", "raster.png"], "raster.png"),
    (["throughput", "--ticks", "20", "--plot", "tp"], "tp-cycles.png"),
    (["compile", EXAMPLE, "-o", "images"], "images/mine.txt"),
])
def test_never_overwrites_without_force(tmp_path, args, existing):
    path = tmp_path / existing
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"user data")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = neurochip(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neurochip: error: ")
    assert "--force" in lines[0] and existing.split("/")[0] in lines[0]
    assert path.read_bytes() == b"user data"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before   # nothing else written
    assert result.stdout == ""


def test_force_overwrites(tmp_path):
    (tmp_path / "dimensionless.png").write_bytes(b"user data")
    result = neurochip("experiment", "dimensionless", "--force", "--quiet", cwd=tmp_path)
    assert result.returncode == 0
    assert (tmp_path / "dimensionless.png").read_bytes()[:4] == b"\x89PNG"


# ------------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("args, message", [
    (["compare", "missing.json"], "argument netlist: no such file: 'missing.json'"),
    (["compare", "notes.txt"], "argument netlist: expected a .json or .toml or .nir file, "
                               "got 'notes.txt'"),
    (["run", "missing.nir"], "argument netlist: no such file: 'missing.nir'"),
    (["compile", "missing.toml", "-o", "x"], "argument netlist: no such file"),
    (["inspect", "missing.ncim"], "argument image: no such file: 'missing.ncim'"),
    (["throughput", "missing.json"], "no such file: 'missing.json'"),
    (["compare", EXAMPLE, "--v-bits", "8,x"], "argument --v-bits: expected comma-separated "
                                              "integers such as 8,10,12, got '8,x'"),
    (["compare", EXAMPLE, "--v-bits", "40"], "--v-bits must be an integer in 3..32, got 40"),
    (["compare", EXAMPLE, "--rounding", "up"], "argument --rounding: expected rounding modes"),
    (["compare", EXAMPLE, "--tolerance", "-1"], "argument --tolerance: expected a number >= 0"),
    (["compare", EXAMPLE, "--ticks", "100000"], "--ticks must be at most the netlist's "
                                                "duration, 500 ticks"),
    (["compare", EXAMPLE, "--plot", "p", "--show", "3"], "--show must be in 0..0, got 3"),
    (["compare", EXAMPLE, "--window", "-2"], "argument --window: expected an integer >= 0"),
    (["experiment", "leaky-bucket"], "unknown experiment 'leaky-bucket'; choose from "
                                     "fi-curve, dimensionless, impedance, adaptation, jitter, "
                                     "nonlinear-leak or all"),
    (["experiment", "jitter", "--out", "notes.txt"], "--out notes.txt is not a folder"),
    (["throughput", "--rate", "0"], "argument --rate: expected a positive number, got '0'"),
])
def test_bad_arguments_are_one_line_and_exit_code_2(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("not a netlist")
    result = neurochip(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neurochip: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]   # nothing written


# ------------------------------------------------- the first compilation of an install

@pytest.mark.parametrize("argv, said", [
    (["run", EXAMPLE, "--ticks", "20"], True),
    (["run", EXAMPLE, "--ticks", "20", "--quiet"], False),
    (["run", EXAMPLE, "--ticks", "20", "--backend", "numpy"], False),
])
def test_first_compilations_are_announced_on_stderr(monkeypatch, capsys, argv, said):
    """The CLI installs ``lab.progress.announce_compilations`` (a notice per numba
    compile; tests/test_progress.py runs it on a fresh cache) unless quiet or numpy."""
    from neurochip.lab import progress
    from neurochip.cli.app import main

    def announce(write=None):
        print("announcing compilations", file=sys.stderr)
        return lambda: None
    monkeypatch.setattr(progress, "announce_compilations", announce)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert ("announcing compilations" in captured.err) == said
    assert "announcing" not in captured.out


def test_the_kernel_counts_as_cached_once_compiled_or_on_disk():
    from neurochip.hardware import compiled
    from neurochip.hardware.core import Core
    from neurochip.hardware.spec import CoreSpec
    from firmware_models.lif import LifParams

    Core(CoreSpec(n_slots=2, n_axons=2), LifParams.make(2)).run(3, backend="compiled")
    assert compiled.kernel_cached()
