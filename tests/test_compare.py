"""The precision lab (``neurochip.lab.compare``): metrics by hand, real runs, the width search."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from firmware_models.lif.quantiser import leak_shift
from neurochip import CoreSpec
from neurochip.hardware.chip import ChipSpec
from neurochip.cli.compare import add_compare_arguments, compare_command
from neurochip.lab.compare import (
    base_spec,
    compare,
    first_difference,
    first_difference_per_neuron,
    match_spikes,
    plot_comparison,
    smallest_passing,
    smallest_width,
    sweep,
    van_rossum,
)
from neurochip.compiler.pipeline import compile_netlist
from neurochip.formats.netlist import expand, load_netlist, netlist_from_dict

EXAMPLE = Path(__file__).parent.parent / "examples" / "balanced.json"
PNG = b"\x89PNG\r\n\x1a\n"


# ====================================================================== van Rossum
def test_van_rossum_of_identical_trains_is_zero():
    a = np.zeros((50, 3))
    a[[3, 10, 11, 40], [0, 1, 1, 2]] = 1
    np.testing.assert_array_equal(van_rossum(a, a.copy(), 4.0), 0.0)
    assert van_rossum(np.zeros(20), np.zeros(20), 2.0) == 0.0


@pytest.mark.parametrize("tau", [0.5, 3.0, 25.0])
def test_one_extra_spike_is_distance_one(tau):
    a = np.zeros(30)
    a[7] = 1
    assert van_rossum(a, np.zeros(30), tau) == pytest.approx(1.0, abs=1e-12)
    assert van_rossum(np.zeros(30), a, tau) == pytest.approx(1.0, abs=1e-12)
    # wherever the spike is, also at the last tick (the kernel's tail counts)
    b = np.zeros(30)
    b[-1] = 1
    assert van_rossum(b, np.zeros(30), tau) == pytest.approx(1.0, abs=1e-12)


def test_two_spikes_d_ticks_apart():
    tau, d = 4.0, 3
    a, b = np.zeros(40), np.zeros(40)
    a[10], b[10 + d] = 1, 1
    expected = math.sqrt(2 * (1 - math.exp(-d / tau)))
    assert van_rossum(a, b, tau) == pytest.approx(expected, rel=1e-12)
    # n extra spikes in one tick count n (the trains are spike counts)
    c = np.zeros(40)
    c[5] = 3
    assert van_rossum(c, np.zeros(40), tau) == pytest.approx(3.0, rel=1e-12)


def test_van_rossum_is_the_integral_it_is_documented_as():
    """``D^2 = (2/tau) int (f - g)^2 dt`` with causal exponential kernels, integrated
    numerically on a fine grid, against the closed form per column."""
    rng = np.random.default_rng(3)
    ticks, tau = 30, 2.5
    a = (rng.random((ticks, 4)) < 0.2).astype(float)
    b = (rng.random((ticks, 4)) < 0.2).astype(float)
    got = van_rossum(a, b, tau)
    step = 1e-3
    t = np.arange(0, ticks + 40 * tau, step)
    for j in range(4):
        diff = np.zeros_like(t)
        for k in np.flatnonzero(a[:, j]):
            diff += np.where(t >= k, np.exp(-(t - k) / tau), 0.0)
        for k in np.flatnonzero(b[:, j]):
            diff -= np.where(t >= k, np.exp(-(t - k) / tau), 0.0)
        integral = np.trapezoid(diff ** 2, t) if hasattr(np, "trapezoid") else \
            np.trapz(diff ** 2, t)
        assert got[j] == pytest.approx(math.sqrt(2 / tau * integral), rel=2e-3, abs=2e-3)


def test_van_rossum_refuses_a_bad_tau():
    with pytest.raises(ValueError, match="tau must be a positive number of ticks"):
        van_rossum(np.zeros(3), np.zeros(3), 0)


# ====================================================================== matching
def test_matching_on_hand_trains():
    m = match_spikes([10, 20, 30], [11, 19, 21, 40], window=2)
    # 10 -> 11; 20 has 19 and 21 equally near -> the earlier, 19; 30 has none within 2
    np.testing.assert_array_equal(m.reference, [10, 20])
    np.testing.assert_array_equal(m.other, [11, 19])
    np.testing.assert_array_equal(m.deviations, [1, -1])
    assert (m.missed, m.extra) == (1, 2)   # 30 missed; 21 and 40 extra


def test_matching_is_greedy_in_time_order_and_respects_the_window():
    m = match_spikes([10, 12], [11], window=2)   # 10 takes 11 although 12 is as near
    np.testing.assert_array_equal(m.deviations, [1])
    assert (m.missed, m.extra) == (1, 0)
    m = match_spikes([10, 12], [13, 9], window=1)  # unsorted input; 10 -> 9, 12 -> 13
    np.testing.assert_array_equal(m.deviations, [-1, 1])
    exact = match_spikes([5, 6], [6, 7], window=0)
    np.testing.assert_array_equal(exact.reference, [6])
    assert (exact.missed, exact.extra) == (1, 1)
    assert match_spikes([], [], 3).missed == 0
    with pytest.raises(ValueError, match="window must be >= 0"):
        match_spikes([1], [1], -1)


def test_first_difference():
    a = np.zeros((10, 3), dtype=bool)
    b = a.copy()
    assert first_difference(a, b) is None
    b[7, 2] = True
    b[4, 0] = True
    assert first_difference(a, b) == 4
    np.testing.assert_array_equal(first_difference_per_neuron(a, b), [4, -1, 7])
    assert first_difference(np.zeros(5), np.array([0, 0, 0, 1, 1])) == 3


# ====================================================================== real runs
@pytest.fixture(scope="module")
def example():
    return expand(load_netlist(EXAMPLE))


@pytest.fixture(scope="module")
def example_results(example):
    configs = [{"v_bits": 8}, {"v_bits": 16, "rounding": "nearest"},
               CoreSpec(n_slots=64, ref_bits=8, v_bits=12, theta_bits=12),
               {"ref_bits": 1}]   # T_ref of 2 ticks does not fit a 1-bit counter
    return compare(example, configs, mesh=(2, 2), ticks=80)


def test_results_on_the_example_are_consistent(example, example_results):
    results = example_results
    assert [r.label for r in results[:3]] == ["v8 i16 w8 floor", "v16 i16 w8 nearest",
                                              "v12 i16 w8 floor"]
    assert results[0].spec["theta_bits"] == 8   # theta follows v in dicts
    for r in results[:3]:
        assert r.ok and r.ticks == 80 and r.counts.shape == (example.n,)
        # the same float run under every configuration
        np.testing.assert_array_equal(r.counts_float, results[0].counts_float)
        assert r.total_float > 0
        assert r.matched + r.missed == r.total_float
        assert r.matched + r.extra == r.total
        assert r.rate_error_total == abs(r.total - r.total_float) / r.total_float
        assert r.rate_error_neuron == np.abs(r.counts - r.counts_float).sum() / r.total_float
        assert r.rate_error_neuron >= r.rate_error_total
        identical = np.all(r.spikes == r.spikes_float, axis=0)
        assert r.identical_fraction == identical.mean()
        np.testing.assert_array_equal(r.first_difference_neuron < 0, identical)
        np.testing.assert_array_equal(r.van_rossum == 0, identical)
        assert r.first_difference == first_difference(r.spikes_float, r.spikes)
        v_rmse = np.sqrt(np.mean((r.v - r.v_float) ** 2))
        assert r.v_rmse == pytest.approx(v_rmse) and 0 < r.v_rmse < 0.1   # volts
        assert set(r.overflow) >= {"i", "v"}
    refused = results[3]
    assert not refused.ok and "T_ref" in refused.error and refused.identical_fraction is None


def test_json_keys(example_results):
    d = json.loads(json.dumps(example_results[0].to_dict(), allow_nan=False))  # plain JSON
    assert {"label", "spec", "ticks", "dt", "reference", "error", "spikes_float_total",
            "spikes_total", "rate_error_total", "rate_error_neuron", "rate_mae_hz",
            "window_ticks", "matched", "missed", "extra", "deviation_mean_abs_ticks",
            "deviation_max_abs_ticks", "deviation_mean_ticks", "van_rossum_tau_s",
            "van_rossum_mean", "first_difference_tick", "identical_fraction",
            "differing_fraction", "v_rmse_V", "v_rmse_agreed_V", "overflow",
            "parameter_errors", "weights_clipped", "weights_zeroed", "per_neuron"} <= set(d)
    assert set(d["per_neuron"]) == {"spikes_float", "spikes", "van_rossum",
                                    "first_difference_tick"}
    assert len(d["per_neuron"]["spikes"]) == 100 and "total" in d["overflow"]
    assert d["spec"]["v_bits"] == 8 and d["reference"] == "asked"
    assert {"tau_m", "tau_syn", "V_th", "w"} <= set(d["parameter_errors"])
    refused = json.loads(json.dumps(example_results[3].to_dict()))
    assert refused["error"] and refused["per_neuron"] is None and refused["v_rmse_V"] is None


def test_plot_files_are_pngs(example_results, tmp_path):
    paths = plot_comparison(example_results, str(tmp_path / "cmp"), show=0)
    assert [Path(p).name for p in paths] == ["cmp-error.png", "cmp-raster.png",
                                            "cmp-traces.png"]
    for p in paths:
        assert Path(p).read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="did not run"):
        plot_comparison(example_results, str(tmp_path / "x"), show=3)


def test_the_realised_reference_is_within_the_proven_bound(example):
    """Against the float model of the registers, the membrane error before the first
    spike difference is the arithmetic's alone: with floor rounding at most
    ``2^(k_i + k_v) - 1`` LSB (docs/error-bounds.md), while no register overflows."""
    (r,) = compare(example, [{"v_bits": 12}], ticks=60, reference="realised")
    assert r.reference == "realised" and r.overflow_total == 0
    spec = base_spec(example).replace(v_bits=12, theta_bits=12)
    scales = compile_netlist(example, ChipSpec(2, 2, core=spec)).quantised.scales
    p = example.params.broadcast(example.n)
    k_v = leak_shift(p.tau_m, example.dt, spec.max_shift)
    k_i = leak_shift(p.tau_syn, example.dt, spec.max_shift)
    bound = (2.0 ** (k_i + k_v) - 1) * scales.v_lsb
    upto = r.first_difference if r.first_difference is not None else r.ticks
    assert upto > 5
    deviation = np.abs(r.v - r.v_float)[:upto]
    assert np.all(deviation <= bound * (1 + 1e-9) + 1e-12)
    # the asked reference is not the realised one (tau_syn 4 ms is realised as 3.48 ms)
    (asked,) = compare(example, [{"v_bits": 12}], ticks=60)
    assert not np.array_equal(asked.v_float, r.v_float)


# ====================================================================== the width search
G_L = 10e-9
TAU_M = -1e-3 / math.log(15 / 16)   # realised exactly by a leak shift of 4 (a = 15/16)


def pulse_netlist(margin: float = -0.01):
    """One neuron, a one-tick current pulse at tick 5 that lifts V by ``(1 + margin)``
    times the 20 mV to threshold (V_reset 30 mV below rest, so the scale is set by 30 mV).

    Float: with ``margin < 0`` it never fires. Emulator: ``v_lsb = 60 mV / (2^(b-1) - 1)``,
    the threshold register is ``rint(x)`` and the pulse ``rint((1 + margin) x)`` with
    ``x = 20 mV / v_lsb = (2^(b-1) - 1) / 3``; it fires (spuriously) iff the pulse reaches
    the threshold. With margin -1 %: b = 6: x = 10.33, pulse rint(10.23) = 10 >= 10
    fires; b = 7: 21 vs rint(20.79) = 21 fires; b = 8: 42 vs rint(41.91) = 42 fires;
    b = 9: 85 vs rint(84.15) = 84 does not, and from there on ``x |margin| > 0.85``
    keeps the pulse below. So the smallest width with identical trains is 9."""
    lif = {"C": TAU_M * G_L, "g_L": G_L, "E_L": -0.07, "V_th": -0.05, "V_reset": -0.1,
           "T_ref": 0.002, "tau_syn": 0.004}
    amplitude = (1 + margin) * 0.02 / (1 / G_L / 16)   # R (1 - a_m) I = (1 + margin) 20 mV
    return netlist_from_dict({
        "format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": 0.02,
        "populations": {"p": {"model": "lif", "size": 1, "params": lif}},
        "inputs": [{"kind": "step", "target": "p", "times": [0.005, 0.006],
                    "amplitudes": [amplitude, 0.0]}],
        "probes": []})


def test_smallest_width_on_a_constructed_case():
    net = pulse_netlist()
    search = smallest_width(net, {"w_bits": 16}, v_bits=range(6, 13), tolerance=0.0,
                            metric="differing_fraction", mesh=(1, 1), exhaustive=True)
    assert search.width == 9
    by_width = {r.spec["v_bits"]: r for r in search.results}
    for b in (6, 7, 8):   # one spurious spike at the pulse's tick
        r = by_width[b]
        assert (r.total_float, r.total, r.extra, r.first_difference) == (0, 1, 1, 5)
        assert r.van_rossum_mean == pytest.approx(1.0) and r.identical_fraction == 0.0
        assert r.rate_error_total == 1.0   # |1 - 0| / max(0, 1)
    for b in range(9, 13):
        r = by_width[b]
        assert r.total == 0 and r.first_difference is None and r.identical_fraction == 1.0
    d = search.to_dict()
    assert d["smallest_v_bits"] == 9 and [t["passes"] for t in d["tried"]] == \
        [False, False, False, True, True, True, True]
    # without exhaustive the search stops at the first width that passes
    quick = smallest_width(net, {"w_bits": 16}, v_bits=[12, 6, 9, 7, 8, 10], tolerance=0.0,
                           metric="differing_fraction", mesh=(1, 1))
    assert quick.width == 9 and [r.spec["v_bits"] for r in quick.results] == [6, 7, 8, 9]
    # the same from results already run (what the command's --tolerance does)
    results = compare(net, sweep(v_bits=[6, 8, 9, 10], w_bits=[16]), mesh=(1, 1))
    (group,) = smallest_passing(results, 0.0, "differing_fraction")
    assert group["smallest_v_bits"] == 9 and group["tried"] == [6, 8, 9, 10]
    none = smallest_width(net, {"w_bits": 16}, v_bits=[6, 7], tolerance=0.5,
                          metric="rate_error_total", mesh=(1, 1))
    assert none.width is None


def test_pulse_just_above_threshold_fires_on_both_at_every_width():
    """The mirror case, margin +1 %: the pulse register rint(1.01 x) >= rint(x) always, so
    both fire once at tick 5 and the trains are identical at every width."""
    results = compare(pulse_netlist(margin=0.01), sweep(v_bits=range(4, 13), w_bits=[16]),
                      mesh=(1, 1), reference="asked")
    for r in results:
        assert (r.total_float, r.total, r.first_difference) == (1, 1, None), r.label
        assert r.van_rossum_mean == 0.0 and r.deviation_max_abs == 0


def test_bad_arguments_are_refused(example):
    with pytest.raises(ValueError, match="ticks must be an integer in 1..500"):
        compare(example, [{}], ticks=501)
    with pytest.raises(ValueError, match="reference must be one of"):
        compare(example, [{}], ticks=5, reference="ideal")
    with pytest.raises(ValueError, match="CoreSpec has no field"):
        compare(example, [{"vbits": 8}], ticks=5)
    with pytest.raises(ValueError, match="metric must be one of"):
        smallest_width(example, metric="accuracy")


# ====================================================================== the command
def run_command(args, capsys):
    """The command as ``neurochip`` will run it (cli's parser class and error type)."""
    from neurochip.cli import app as cli

    parser = cli._Parser(prog="neurochip")
    commands = parser.add_subparsers(dest="command", parser_class=cli._Parser)
    add_compare_arguments(commands.add_parser("compare"))
    try:
        code = compare_command(parser.parse_args(["compare", *args]), cli.UsageError)
    except cli.UsageError as error:
        code, message = 2, str(error)
    else:
        message = None
    out = capsys.readouterr().out
    return code, out, message


def test_command_table_json_search_and_plots(tmp_path, capsys):
    code, out, _ = run_command([str(EXAMPLE), "--v-bits", "8,12", "--rounding",
                                "floor,nearest", "--ticks", "40", "--tolerance", "0.5"],
                               capsys)
    assert code == 0
    assert "v8 i16 w8 floor" in out and "v12 i16 w8 nearest" in out
    assert "smallest --v-bits with rate_error_neuron <= 0.5" in out
    code, out, _ = run_command([str(EXAMPLE), "--v-bits", "10", "--ticks", "30", "--json",
                                "--tolerance", "0.1", "--metric", "differing_fraction",
                                "--plot", str(tmp_path / "p")], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["neurons"] == 100 and doc["ticks"] == 30 and len(doc["configs"]) == 1
    assert doc["search"]["metric"] == "differing_fraction"
    assert len(doc["plots"]) == 3 and all(Path(p).read_bytes()[:8] == PNG
                                          for p in doc["plots"])
    # never over an existing plot without --force
    code, _, message = run_command([str(EXAMPLE), "--ticks", "10", "--plot",
                                    str(tmp_path / "p")], capsys)
    assert code == 2 and "p-error.png exists; pass --force" in message
    code, _, _ = run_command([str(EXAMPLE), "--ticks", "10", "--plot", str(tmp_path / "p"),
                              "--force"], capsys)
    assert code == 0


@pytest.mark.parametrize("args, message", [
    (["--v-bits", "8,x"], "expected comma-separated integers"),
    (["--v-bits", "40"], "--v-bits must be an integer in 3..32, got 40"),
    (["--w-bits", "1"], "--w-bits must be an integer in 2..16, got 1"),
    (["--rounding", "up"], "expected rounding modes from floor, nearest, zero"),
    (["--tolerance", "-1"], "expected a number >= 0"),
    (["--ticks", "900"], "--ticks must be at most the netlist's duration, 500 ticks"),
])
def test_command_bad_arguments_are_usage_errors(args, message, capsys):
    code, _, error = run_command([str(EXAMPLE), *args], capsys)
    assert code == 2 and message in error and "\n" not in error


def test_the_real_command(tmp_path):
    import subprocess
    import sys

    script = Path(sys.executable).parent / "neurochip"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "neurochip.cli"]
    ok = subprocess.run([*command, "compare", str(EXAMPLE), "--v-bits", "8,12", "--ticks",
                         "30", "--json"], check=False, cwd=tmp_path, capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert [c["label"] for c in json.loads(ok.stdout)["configs"]] == ["v8 i16 w8 floor",
                                                                     "v12 i16 w8 floor"]
    bad = subprocess.run([*command, "compare", str(EXAMPLE), "--v-bits", "33"], check=False,
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip() == \
        "neurochip: error: --v-bits must be an integer in 3..32, got 33"
