"""The real ``neurochip`` command in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

# the console script pip installed beside this interpreter (what a user runs)
SCRIPT = Path(sys.executable).parent / "neurochip"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "neurochip.cli"]


def neurochip(*args, cwd):
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_demo_runs_prints_the_comparison_and_writes_its_plot(tmp_path):
    result = neurochip("demo", "--ticks", "300", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "8 LIF neurons on 1 core (16-bit v" in out
    counts = re.search(r"spikes: core (\d+), float \(realised parameters\) (\d+)", out)
    assert counts and int(counts.group(1)) > 0 and int(counts.group(2)) > 0
    deviation = re.search(r"largest membrane deviation core vs float: ([\d.]+) LSB .*"
                          r"provable bound ([\d.]+) LSB", out)
    assert deviation and 0 < float(deviation.group(1)) <= float(deviation.group(2))
    plot = tmp_path / "neurochip-demo.png"
    assert f"plot: {plot}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_never_overwrites_without_force(tmp_path):
    existing = tmp_path / "mine.png"
    existing.write_bytes(b"user data")
    result = neurochip("demo", "--ticks", "50", "--out", str(existing), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "exists; pass --force" in result.stderr
    assert existing.read_bytes() == b"user data"
    forced = neurochip("demo", "--ticks", "50", "--out", str(existing), "--force",
                       cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert existing.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    (["demo", "--ticks", "0"], "argument --ticks: expected a positive integer, got '0'"),
    (["demo", "--dt", "-1"], "argument --dt: expected a positive number, got '-1'"),
    (["demo", "--v-bits", "40"], "--v-bits must be an integer in 3..32, got 40"),
    (["demo", "--rounding", "up"], "argument --rounding: invalid choice: 'up'"),
    (["demo", "--bogus"], "unrecognized arguments: --bogus"),
    (["launch"], "invalid choice: 'launch'"),
])
def test_bad_arguments_give_one_line_and_exit_code_2(tmp_path, args, message):
    result = neurochip(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neurochip: error: ") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_run_a_netlist_end_to_end(tmp_path):
    import numpy as np
    example = Path(__file__).parent.parent / "examples" / "balanced.json"
    result = neurochip("run", str(example), "--ticks", "120", "--out", "r.npz", "--plot",
                       "r.png", "--mesh", "2x1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "per-core use" in result.stdout and "emulator:" in result.stdout
    data = np.load(tmp_path / "r.npz")
    assert data["exc.spikes"].shape == (120, 80) and data["exc.spikes"].sum() > 0
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    floated = neurochip("run", str(example), "--ticks", "120", "--float", "--quiet", "--out",
                        "f.npz", cwd=tmp_path)
    assert floated.returncode == 0, floated.stderr
    assert np.load(tmp_path / "f.npz")["exc.v"].shape == (120, 80)
    again = neurochip("run", str(example), "--out", "r.npz", cwd=tmp_path)
    assert again.returncode == 2 and "r.npz exists; pass --force" in again.stderr


def test_run_reports_a_bad_netlist_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "neurochip-netlist", "version": 1, "dt": -1}')
    result = neurochip("run", str(bad), cwd=tmp_path)
    assert result.returncode == 2   # a refused input file, like a bad argument (issue 14)
    assert result.stderr.count("\n") == 1 and "bad.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_compile_writes_images_that_inspect_reads_and_boot(tmp_path):
    import numpy as np

    from neurochip.formats.image import load_chip
    example = Path(__file__).parent.parent / "examples" / "balanced.json"
    result = neurochip("compile", str(example), "-o", "out", "--mesh", "2x1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["core-0000.ncim", "core-0001.ncim", "manifest.json", "report.json",
                     "report.txt"]
    shown = neurochip("inspect", "out/core-0001.ncim", cwd=tmp_path)
    assert shown.returncode == 0 and "capacity use:" in shown.stdout
    chip = load_chip(tmp_path / "out")
    assert chip.spec.width == 2 and chip.n == 100
    assert np.isfinite(chip.run(10, timing=False).spikes.sum())
    again = neurochip("compile", str(example), "-o", "out", cwd=tmp_path)
    assert again.returncode == 2 and "pass --force" in again.stderr
    (tmp_path / "broken.ncim").write_bytes(b"XXXX" + bytes(80))
    bad = neurochip("inspect", "broken.ncim", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "magic" in bad.stderr


def test_run_a_nir_graph_on_the_chip_and_on_the_float_reference(tmp_path):
    import nir
    import numpy as np

    graph = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([2])),
               "fc": nir.Linear(weight=np.array([[8.0, 2.0], [0.0, 6.0]])),
               "lif": nir.LIF(tau=np.array([0.02, 0.02]), r=np.array([1.0, 1.0]),
                              v_leak=np.array([0.0, 0.0]),
                              v_threshold=np.array([1.0, 1.0])),
               "output": nir.Output(output_type=np.array([2]))},
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    nir.write(tmp_path / "net.nir", graph)
    x = (np.random.default_rng(1).random((80, 2)) < 0.3).astype(float)
    np.save(tmp_path / "x.npy", x)
    chip = neurochip("run", "net.nir", "--input", "x.npy", "--dt", "1", "--out", "c.npz",
                     "--mesh", "1x1", cwd=tmp_path)
    assert chip.returncode == 0, chip.stderr
    floated = neurochip("run", "net.nir", "--input", "x.npy", "--dt", "1", "--float",
                        "--quiet", "--out", "f.npz", cwd=tmp_path)
    assert floated.returncode == 0, floated.stderr
    c, f = np.load(tmp_path / "c.npz"), np.load(tmp_path / "f.npz")
    spike_keys = [k for k in c.files if k.endswith(".spikes")]
    assert spike_keys and c[spike_keys[0]].shape == (80, 2)
    assert c[spike_keys[0]].sum() > 0 and f[spike_keys[0]].sum() > 0
    analog = neurochip("run", "net.nir", "--input", "x.npy", "--dt", "1", cwd=tmp_path)
    assert analog.returncode == 0
    np.save(tmp_path / "half.npy", x * 0.5)
    refused = neurochip("run", "net.nir", "--input", "half.npy", cwd=tmp_path)
    assert refused.returncode == 1 and "whole counts" in refused.stderr
