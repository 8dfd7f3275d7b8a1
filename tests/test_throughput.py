"""Throughput and energy estimates: by hand on small timings, and through the real CLI."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from neurochip.hardware.energy import PRESETS, EnergyTable, tick_energy_pj
from neurochip.lab.throughput import summarise
from neurochip.hardware.timing import Mesh, TickTiming

from test_cli import COMMAND


def timing(cycles, route_end, links, src, dst, rows=(1, 0), synops=(3, 0), active=(2, 1),
           idle=(0, 1)) -> TickTiming:
    zeros = np.zeros(2, dtype=np.int64)
    return TickTiming(zeros, zeros, np.array(route_end), np.array(src), np.array(dst),
                      np.zeros(len(src), np.int64), np.zeros(len(src), np.int64),
                      np.array(links), np.array(rows), np.array(synops), np.array(active),
                      np.array(idle), cycles)


def test_energy_of_a_tick_by_hand():
    # 2×1 mesh: links 0..3 leave core 0, 4..7 leave core 1; port 0 is +x, 2 is +y
    t = timing(10, [10, 4], [1, 0, 0, 0, 0, 0, 0, 0], src=[0, 0, 1], dst=[1, 0, 1])
    table = EnergyTable(row_fetch=1.0, synop=2.0, neuron_active=3.0, neuron_idle=0.5,
                        route_lookup=0.25, packet_local=7.0, hop_x=11.0, hop_y=13.0,
                        static_mw_per_core=2.0)
    # rows 1·1 + synops 3·2 + active 3·3 + idle 1·0.5 + lookups 3·0.25 + local 2·7 + 1 x-hop·11
    dynamic = 1 + 6 + 9 + 0.5 + 0.75 + 14 + 11
    static = 2e-3 * 2 * 10 / 1e6 * 1e12  # 2 mW × 2 cores × 10 cycles at 1 MHz, in pJ
    assert tick_energy_pj(t, table, 1e6) == pytest.approx(dynamic + static, rel=1e-12)


def test_summary_by_hand():
    mesh = Mesh(2, 1)
    ticks = [timing(10, [10, 4], [0, 3, 0, 0, 0, 0, 0, 0], [0], [1]),
             timing(30, [5, 30], [0, 0, 0, 0, 0, 2, 0, 0], [1], [0]),
             timing(20, [20, 2], [0, 0, 0, 0, 0, 0, 0, 0], [0], [0])]
    report = summarise(ticks, mesh, spikes=7, dt_s=1e-3, clock_hz=1e6,
                       energy=EnergyTable(synop=1.0, neuron_active=0, neuron_idle=0,
                                          packet_local=0, hop_x=0, hop_y=0))
    assert (report.cycles_per_tick_min, report.cycles_per_tick_median,
            report.cycles_per_tick_max) == (10, 20.0, 30)
    assert report.cycles_total == 60
    assert report.bottleneck_core == 1 and report.bottleneck_core_cycles == 36  # 4 + 30 + 2
    assert report.busiest_link == "core 0 (0,0) -x" and report.busiest_link_packets == 3
    assert report.synaptic_events == 9 and report.packets == 3
    assert report.ticks_per_s == pytest.approx(3 / 60e-6)
    assert report.synaptic_events_per_s == pytest.approx(9 / 60e-6)
    assert report.real_time_factor == pytest.approx(3e-3 / 60e-6)
    assert report.energy_per_synaptic_event_j == pytest.approx(1e-12)


def run_cli(*args, cwd):
    return subprocess.run([*COMMAND, "throughput", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_cli_json_is_consistent(tmp_path):
    result = run_cli("--json", "--ticks", "40", "--neurons", "300", "--fanout", "20",
                     "--mesh", "3x2", "--clock", "50MHz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ticks"] == 40 and report["clock_hz"] == 50e6
    assert report["spikes"] > 0
    # every synapse of a spiking neuron is one synaptic event, whatever core it sits on,
    # delivered one tick later: the last tick's spikes land after the run
    undelivered, rest = divmod(report["spikes"] * 20 - report["synaptic_events"], 20)
    assert rest == 0 and 0 <= undelivered <= 300
    seconds = report["cycles_total"] / 50e6
    assert report["synaptic_events_per_s"] == pytest.approx(report["synaptic_events"] / seconds)
    assert report["real_time_factor"] == pytest.approx(40e-3 / seconds)
    assert len(report["core_busy_cycles"]) == 6 and len(report["cycles_per_tick"]) == 40
    assert report["bottleneck_core_cycles"] == max(report["core_busy_cycles"])


def test_cli_table_presets_and_plots(tmp_path):
    result = run_cli("--ticks", "20", "--neurons", "200", "--mesh", "2x2", "--preset",
                     "loihi-2018", "--plot", "tp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "at 1000 MHz" in result.stdout and "bottleneck core" in result.stdout
    for name in ("tp-core-load.png", "tp-cycles.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    again = run_cli("--ticks", "5", "--plot", "tp", cwd=tmp_path)
    assert again.returncode == 2 and "tp-core-load.png exists; pass --force" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["--clock", "fast"], "expected a frequency such as 100MHz"),
    (["--mesh", "4by4"], "expected WIDTHxHEIGHT such as 4x4, got '4by4'"),
    (["--timing", "warp=2"], "unknown timing or energy entry 'warp'"),
    (["--timing", "synop=-1"], "TimingTable.synop must be a non-negative integer"),
    (["--energy", "synop"], "expected NAME=NUMBER, got 'synop'"),
    (["--rate", "900", "--dt", "1"], "--rate 900 Hz is too fast for --dt 1 ms"),
])
def test_cli_bad_arguments(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_presets_are_complete():
    for preset in PRESETS.values():
        assert preset.clock_hz > 0 and preset.source


def test_cli_estimates_a_netlist(tmp_path):
    from pathlib import Path
    example = Path(__file__).parent.parent / "examples" / "balanced.json"
    result = run_cli(str(example), "--json", "--ticks", "60", "--mesh", "2x1", "--placement",
                     "greedy", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ticks"] == 60 and report["dt_s"] == 0.001 and report["spikes"] > 0
    assert len(report["core_busy_cycles"]) == 2
    wrong = run_cli(str(example), "--placement", "random", cwd=tmp_path)
    assert wrong.returncode == 2 and "--placement random is for the built-in" in wrong.stderr
