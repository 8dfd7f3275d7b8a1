"""The compiler at scale: the streamed, array-only compile gives bit for bit the chips the
compiler gave before it was rewritten (fingerprints recorded from that code), its
pieces agree with the plain definitions they replace, and the memory budget bounds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from firmware_models.lif.quantiser import quantise_weights_per_group
from neurochip import CoreSpec
from neurochip.compiler import calibration, partition, placement, weights
from neurochip.compiler.dialects import dialect_spec
from neurochip.compiler.pipeline import compile_netlist, roomy_core_spec
from neurochip.formats.image.encoding import encode_core
from neurochip.formats.netlist import NetlistError, expand, expansion, netlist_from_dict
from neurochip.formats.netlist.budget import netlist_bytes
from neurochip.hardware import synapses
from neurochip.hardware.chip import ChipSpec

LIF = {"C": 160e-12, "g_L": 10e-9, "E_L": -0.07, "V_th": -0.05, "V_reset": -0.065,
       "T_ref": 0.002, "tau_syn": 0.004, "I_bias": 0.1e-9}


def _netlist(populations, projections, inputs=(), seed=0, duration=0.03) -> dict:
    return {"format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": duration,
            "seed": seed, "populations": {name: {"model": "lif", "size": size,
                                                 "params": params}
                                          for name, size, params in populations},
            "projections": list(projections), "inputs": list(inputs),
            "probes": [{"population": populations[0][0], "record": ["spikes", "v"]}]}


def _random(pre, post, kind, value, weight, delay=0.001, seed=None, self_connections=True):
    key = "p" if kind == "fixed_probability" else "n"
    c = {"type": kind, key: value, "weight": weight, "self_connections": self_connections}
    if seed is not None:
        c["seed"] = seed
    return {"pre": pre, "post": post, "delay": delay, "connectivity": c}


NORMAL = {"mean": 3e-11, "std": 2e-11}
INHIB = {"low": -9e-11, "high": -3e-11}

# name -> (netlist, mesh, partitioner, dialect)
CASES = {
    "fan-in sparse, two populations, poisson and dc, greedy 2x2": (_netlist(
        [("exc", 240, LIF), ("inh", 60, {**LIF, "V_th": -0.052})],
        [_random("exc", "exc", "fixed_fan_in", 12, NORMAL, 0.002),
         _random("exc", "inh", "fixed_fan_in", 20, 5e-11, 0.001, seed=7),
         _random("inh", "exc", "fixed_probability", 0.1, INHIB, 0.001, self_connections=False),
         _random("inh", "inh", "fixed_fan_in", 5, INHIB, 0.003, self_connections=False)],
        [{"kind": "poisson", "target": "exc", "rate": 40.0, "weight": 8e-11, "fan_in": 3},
         {"kind": "dc", "target": "inh", "amplitude": 5e-11}], seed=3), (2, 2), "greedy", "lif"),
    "probability sparse without self, sequential 3x1": (_netlist(
        [("a", 400, LIF)],
        [_random("a", "a", "fixed_probability", 0.04, NORMAL, 0.001, seed=11,
                 self_connections=False)],
        [{"kind": "spikes", "target": "a", "weight": 2e-10,
          "times": {"0": [0.001, 0.004], "5": [0.002], "399": [0.01]}},
         {"kind": "step", "target": "a", "times": [0.0, 0.01], "amplitudes": [1e-11, 3e-11]}]),
        (3, 1), "sequential", "lif"),
    "dense rules, one core": (_netlist(
        [("a", 60, LIF), ("b", 30, LIF)],
        [_random("a", "b", "fixed_probability", 0.3, NORMAL, 0.002, seed=5),
         _random("b", "a", "fixed_fan_in", 20, INHIB, 0.001, seed=6),
         _random("a", "a", "fixed_fan_in", 50, 2e-11, 0.001, self_connections=False)],
        [{"kind": "poisson", "target": "b", "rate": [10.0] * 30, "weight": 1e-10, "seed": 2}],
        seed=9), (1, 1), "greedy", "lif"),
    "list and dense connectivity, per-synapse delays, 2x1": (_netlist(
        [("a", 5, LIF), ("b", 4, LIF)],
        [{"pre": "a", "post": "b", "delay": [0.001, 0.002, 0.003, 0.001, 0.002],
          "connectivity": {"type": "list", "pre": [0, 1, 2, 3, 4], "post": [0, 1, 2, 3, 0],
                           "weight": [1e-11, 2e-11, -3e-11, 4e-11, 5e-11]}},
         {"pre": "b", "post": "a", "delay": 0.001, "connectivity": {
             "type": "dense", "weights": [[0, 1e-11, 0, 2e-11, 0], [3e-11, 0, 0, 0, 0],
                                          [0, 0, -1e-11, 0, 0], [0, 0, 0, 0, 4e-11]]}}],
        [{"kind": "spikes", "target": "a", "weight": 1.5e-10, "times": {"0": [0.002]}}]),
        (2, 1), "greedy", "lif"),
    "loihi dialect, random": (_netlist(
        [("a", 200, LIF)],
        [_random("a", "a", "fixed_fan_in", 10, NORMAL, 0.001, seed=4)],
        [{"kind": "poisson", "target": "a", "rate": 30.0, "weight": 1e-10}], seed=1),
        (2, 2), "greedy", "loihi"),
    "xylo dialect, random": (_netlist(
        [("a", 120, LIF)],
        [_random("a", "a", "fixed_probability", 0.05, NORMAL, 0.001, seed=8)],
        [{"kind": "poisson", "target": "a", "rate": 30.0, "weight": 1e-10}], seed=2),
        (2, 1), "greedy", "xylo"),
    "a readout that never fires, two delays": (_netlist(
        [("a", 50, LIF), ("out", 10, {**LIF, "V_th": 1e10, "I_bias": 0.0})],
        [_random("a", "out", "fixed_fan_in", 8, NORMAL, 0.002, seed=3),
         _random("a", "a", "fixed_probability", 0.2, NORMAL, 0.001, seed=4)],
        [{"kind": "poisson", "target": "a", "rate": 50.0, "weight": 1e-10, "seed": 5}]),
        (2, 1), "greedy", "lif"),
    "benchmark network, 3,000 x 40, greedy 3x3": (_netlist(
        [("all", 3000, {**LIF, "I_bias": 0.21e-9})],
        [_random("all", "all", "fixed_fan_in", 40, {"mean": 1e-11, "std": 2e-11}, seed=1)]),
        (3, 3), "greedy", "lif"),
}


def _digest(*arrays) -> str:
    """Hash of values (not dtypes: compact storage may change, values may not)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        canonical = a.astype(np.float64 if a.dtype.kind == "f" else np.int64)
        h.update(str(canonical.shape).encode())
        h.update(np.ascontiguousarray(canonical).tobytes())
    return h.hexdigest()[:16]


def _record_digest(record) -> np.ndarray:
    h = _digest(*[np.asarray(v) for _, v in sorted(vars(record).items())
                  if isinstance(v, np.ndarray)])
    return np.frombuffer(bytes.fromhex(h), dtype=np.uint8)


def fingerprint(netlist: dict, mesh, partitioner: str, dialect: str) -> dict[str, str]:
    """Hashes of everything a compile makes: the expanded network, the core images, each
    core's synapse memory, routing table and parameters, the placement, input map, input events, bias schedule, the
    integer network and the report."""
    n = sum(p["size"] for p in netlist["populations"].values())
    width, height = mesh
    core = dialect_spec(dialect, roomy_core_spec(-(-n // (width * height)), width * height))
    spec = ChipSpec(width, height, core=core)
    ex = expand(netlist_from_dict(netlist))
    c = compile_netlist(ex, spec, partitioner=partitioner)
    net, r = c.network, c.report
    images = hashlib.sha256(b"".join(encode_core(spec.core, config, k, mesh)
                                     for k, config in enumerate(c.chip.configs)))
    return {
        "expanded": _digest(ex.pre, ex.post, ex.weight, ex.delay, ex.projection,
                            ex.event_tick, ex.event_neuron, ex.event_weight, ex.event_input),
        "images": images.hexdigest()[:16],
        "synapses": _digest(*[a for k in c.chip.configs for a in (
            k.synapses.row_start, k.synapses.slot, k.synapses.w, k.synapses.w_exp,
            k.synapses.targets_of_words())]),
        "routes": _digest(*[a for k in c.chip.configs for a in (
            k.routes.route_start, k.routes.core, k.routes.axon, k.routes.delay)]),
        "params": _digest(*[_record_digest(k.params) for k in c.chip.configs]),
        "placement": _digest(c.core_of, c.slot_of, c.input_map.channel, c.input_map.axon,
                             *c.input_events, *c.bias_schedule),
        "network": _digest(net.pre, net.post, net.w, net.delay, net.w_exp,
                           net.input_channel, net.input_post, net.input_w, net.n_inputs,
                           *(() if net.input_w_exp is None else (net.input_w_exp,))),
        "report": hashlib.sha256(json.dumps(r.to_dict(), sort_keys=True, default=str)
                                 .encode()).hexdigest()[:16],
        "weights": _digest(r.weight_error.target, r.weight_error.realised, r.weight_post,
                           *(() if r.weight_clipped is None else (r.weight_clipped,))),
    }


# recorded from the compiler as it was before the streamed compile (commit 0432d05):
# ``python tests/test_compiler_scale.py`` with that code on the path
EXPECTED: dict[str, dict[str, str]] = {
    'a readout that never fires, two delays': {
        "expanded": "8f04cb5e88800112", "images": "9f9cb99111fdfe7c", "network": "3cc4b577187e3717",
        "params": "fc85c6121f709819", "placement": "131cb8953969cad3", "report": "14e68c9561223c78",
        "routes": "a252dbc1303ab3f7", "synapses": "f4b0e34428376006", "weights": "2e4f4ff2a307756d",
    },
    'benchmark network, 3,000 x 40, greedy 3x3': {
        "expanded": "e008e0254bfc3b24", "images": "c97cee41e15a925a", "network": "28df9f6d6c1f9f01",
        "params": "48b983ae4b414ccb", "placement": "ca697c2b9d0dea5b", "report": "6082d3f015ed432f",
        "routes": "45cd76eebe7f96b7", "synapses": "d249250c7bc5abe3", "weights": "045b3d38218e5b91",
    },
    'dense rules, one core': {
        "expanded": "7de09abb348d5c39", "images": "27f983785c7aaea9", "network": "07128b5c12d87bad",
        "params": "597be25f1730fc7f", "placement": "2522c2fb36781b2e", "report": "11266578df67de5f",
        "routes": "1c1e6a0ab812e6ab", "synapses": "9068b235b4ca1ca8", "weights": "3442e0dff3b695e0",
    },
    'fan-in sparse, two populations, poisson and dc, greedy 2x2': {
        "expanded": "ec389236d655fd40", "images": "c256413958b4aa5b", "network": "d2f339a9bad71713",
        "params": "ead6475fc9b9244d", "placement": "3958d79ca1bbd0e9", "report": "27ad930779fb37a8",
        "routes": "72776190e586a383", "synapses": "53e59e6e8d3f6ada", "weights": "e61dd815dd059d73",
    },
    'list and dense connectivity, per-synapse delays, 2x1': {
        "expanded": "94542329f3ef2fbf", "images": "e6245a3bcb43bb45", "network": "2f6f7187d5da52f6",
        "params": "8d7c4f02ced85e44", "placement": "73da4ee2583f31ff", "report": "7887722648a20d8f",
        "routes": "f5a90bf9cb2d2ffd", "synapses": "dfededde0a2d43af", "weights": "aa567209992e0a64",
    },
    'loihi dialect, random': {
        "expanded": "ff460a6ae470ce54", "images": "2cc37130ca6fa773", "network": "e73bd7259205dd2a",
        "params": "5ead89d39b0b436c", "placement": "2aff38765be14bb9", "report": "aca15166d86f2bb6",
        "routes": "4ca9fa0d1ae7c34d", "synapses": "daaba5b7046682da", "weights": "9007cc6f6750e1f4",
    },
    'probability sparse without self, sequential 3x1': {
        "expanded": "e8d101ee0638a865", "images": "546bd1283b33c4df", "network": "fe568ee771feca2c",
        "params": "177f4bcf6b39b41c", "placement": "d68781fa26e5329d", "report": "5e7403b3339a1811",
        "routes": "42ea649043345954", "synapses": "94c33eea58a38dd4", "weights": "f7a43bf270a37bbd",
    },
    'xylo dialect, random': {
        "expanded": "b2379dd546df9938", "images": "c2dfe4d165682659", "network": "347f59151ad6a668",
        "params": "3935f9a1bb99f983", "placement": "8c2601faa20f6938", "report": "40398ef3083d6294",
        "routes": "3b60e52217947855", "synapses": "ddbd51c0686f4e13", "weights": "2672e4f1cb9e4ca0",
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled_chips_are_bit_identical_to_the_recorded_ones(name):
    assert fingerprint(*CASES[name]) == EXPECTED[name]


if __name__ == "__main__":   # print the fingerprints of the code on the path
    print(json.dumps({name: fingerprint(*case) for name, case in sorted(CASES.items())},
                     indent=1, sort_keys=True))


# ------------------------------------------------------------------ the streamed pieces
def _distinct_per_row_at_once(rng, row, m, exclude_self):
    """The draw as it was written before it was streamed: every key sorted at once."""
    def draw(rows):
        values = rng.integers(0, m - exclude_self, size=rows.size)
        return values + (values >= rows) if exclude_self else values

    values = draw(row)
    check = None
    while True:
        keys = row * m + values if check is None else row[check] * m + values[check]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        repeats = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        if not repeats.size:
            break
        again = order[repeats] if check is None else check[order[repeats]]
        values[again] = draw(row[again])
        bad = np.unique(row[again])
        lo, hi = np.searchsorted(row, bad, "left"), np.searchsorted(row, bad, "right")
        lengths = hi - lo
        check = np.arange(lengths.sum()) + np.repeat(lo - np.cumsum(lengths) + lengths,
                                                     lengths)
    return np.sort(row * m + values) - row * m


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(0, 12), min_size=0, max_size=30),
       m=st.integers(13, 40), exclude=st.booleans(), chunk=st.integers(1, 50),
       uniform=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_streamed_distinct_draw_is_the_draw_at_once(counts, m, exclude, chunk, uniform,
                                                    seed):
    # small m: rows repeat often, and several rounds of redraws happen
    if uniform:
        counts = [counts[0] if counts else 0] * len(counts)
    row = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    expected = _distinct_per_row_at_once(np.random.default_rng(seed), row, m, exclude)
    rng = np.random.default_rng(seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(expansion, "_SORT_CHUNK", chunk)
        got = expansion._distinct_per_row(rng, row, m, exclude,
                                          row_length=counts[0] if uniform and counts else None)
    np.testing.assert_array_equal(got, expected)
    # and the generator is left where the draw at once leaves it
    after = np.random.default_rng(seed)
    _distinct_per_row_at_once(after, row, m, exclude)
    assert rng.integers(0, 2**62) == after.integers(0, 2**62)


def test_tiny_chunks_compile_the_same_chips(monkeypatch):
    """Every streamed step cut into chunks of a few entries gives the recorded chips."""
    for module, name in STREAM_CHUNKS:
        monkeypatch.setattr(module, name, 7)
    for case in sorted(CASES):
        assert fingerprint(*CASES[case]) == EXPECTED[case], case


STREAM_CHUNKS = [(expansion, "_SORT_CHUNK"), (weights, "CHUNK"), (calibration, "CHUNK"),
                 (placement, "CHUNK"), (partition, "CHUNK"), (partition, "TABLE"),
                 (synapses, "BUILD_CHUNK")]


@settings(max_examples=100, deadline=None)
@given(data=st.data(), n=st.integers(1, 30), size=st.integers(0, 200),
       w_bits=st.integers(2, 16), chunk=st.integers(1, 64), cuts=st.integers(0, 3))
def test_chunked_weight_quantiser_is_the_quantiser(data, n, size, w_bits, chunk, cuts):
    spec = CoreSpec(w_bits=w_bits)
    bounds = sorted({0, n, *data.draw(st.lists(st.integers(0, n), max_size=cuts))})
    groups = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    scale = 10.0 ** data.draw(st.integers(-12, -8))
    weight = rng.normal(0, scale, size) * rng.choice([0.0, 1.0, 1e3], size)
    post = rng.integers(0, n, size)
    i_lsb = rng.uniform(1e-13, 1e-11, n)
    split = data.draw(st.integers(0, size))
    expected = quantise_weights_per_group(weight, i_lsb[post], post, groups, spec)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(weights, "CHUNK", chunk)
        got = weights.quantise_per_group((weight[:split], weight[split:]),
                                         (post[:split], post[split:]), i_lsb, groups, spec)
    np.testing.assert_array_equal(got.w, expected.w)
    np.testing.assert_array_equal(got.w_exp, expected.w_exp)
    np.testing.assert_array_equal(got.error.target, expected.error.target)
    np.testing.assert_array_equal(got.error.realised, expected.error.realised)
    np.testing.assert_array_equal(got.clipped_mask, expected.clipped_mask)
    assert (got.clipped, got.zeroed) == (expected.clipped, expected.zeroed)
    assert got.w.dtype.itemsize * 8 >= w_bits


def _greedy_at_once(n, pre, post, n_cores, slots, rounds=20, seed=0):
    """The greedy partition as written before it counted in chunks."""
    core_of = partition.sequential_partition(n, n_cores, slots)
    if n_cores == 1 or pre.size == 0:
        return core_of
    limit = min(slots, max(int(np.ceil(1.2 * n / n_cores)), int(np.bincount(core_of).max())))
    rng = np.random.default_rng(seed)
    ends, others = np.concatenate([pre, post]), np.concatenate([post, pre])
    for _ in range(rounds):
        links = np.zeros((n, n_cores), dtype=np.int64)
        np.add.at(links, (ends, core_of[others]), 1)
        best = np.argmax(links + rng.random(links.shape) * 0.5, axis=1)
        gain = links[np.arange(n), best] - links[np.arange(n), core_of]
        movers = np.flatnonzero((best != core_of) & (gain > 0))
        if movers.size == 0:
            break
        movers = movers[np.argsort(-gain[movers], kind="stable")]
        load = np.bincount(core_of, minlength=n_cores)
        moved = 0
        for j in movers:
            if load[best[j]] < limit:
                load[core_of[j]] -= 1
                load[best[j]] += 1
                core_of[j] = best[j]
                moved += 1
        if moved == 0:
            break
    return core_of


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), synapses=st.integers(0, 400), n_cores=st.integers(1, 6),
       chunk=st.integers(1, 50), table=st.sampled_from([0, 1 << 22]),
       seed=st.integers(0, 2**32 - 1))
def test_chunked_partition_is_the_partition_at_once(n, synapses, n_cores, chunk, table, seed):
    rng = np.random.default_rng(seed)
    pre, post = rng.integers(0, n, synapses), rng.integers(0, n, synapses)
    delay = rng.integers(1, 4, synapses)
    slots = -(-n // n_cores) + int(rng.integers(0, 3))
    expected = _greedy_at_once(n, pre, post, n_cores, slots, seed=seed % 7)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(partition, "CHUNK", chunk)
        patch.setattr(partition, "TABLE", table)
        got = partition.greedy_partition(n, pre, post, n_cores, slots, seed=seed % 7)
        np.testing.assert_array_equal(got, expected)
        # the routing entries that leave their core: as counted by one sort of all keys
        span = int(delay.max(initial=0)) + 1
        keys = np.unique((pre * n_cores + got[post]) * span + delay)
        source, dest = np.divmod(keys // span, n_cores)
        leaving = int(np.count_nonzero(got[source] != dest))
        assert partition.inter_core_entries(got, pre, post, delay) == leaving
        assert partition.inter_core_entries(got, pre, post, np.broadcast_to(
            np.int64(2), pre.shape)) == partition.inter_core_entries(
                got, pre, post, np.full(pre.size, 2))


# ------------------------------------------------------------------ the memory budget
BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_compile.py"


def _bench_netlist(neurons: int) -> dict:
    sys.path.insert(0, str(BENCH.parent))
    try:
        from bench_compile import netlist
    finally:
        sys.path.remove(str(BENCH.parent))
    return netlist(neurons, 100)


def test_a_million_neurons_ask_the_user_to_raise_the_default_budget(monkeypatch):
    # 10^8 synapses take about 7.4 GiB to compile: more than the default 4 GiB, so the
    # load refuses them, saying what to set; with the budget raised the load goes on
    monkeypatch.delenv("NEUROCHIP_MEMORY_BUDGET", raising=False)
    with pytest.raises(NetlistError, match=r"over the memory budget of 4 GiB "
                       r"\(NEUROCHIP_MEMORY_BUDGET\); where the machine has the memory, "
                       r"raise it: NEUROCHIP_MEMORY_BUDGET=\d+GiB"):
        netlist_from_dict(_bench_netlist(1_000_000))
    monkeypatch.setenv("NEUROCHIP_MEMORY_BUDGET", "16GiB")
    assert netlist_from_dict(_bench_netlist(1_000_000)).populations[0].size == 1_000_000


def test_the_budget_estimate_bounds_the_real_peak_of_a_compile():
    """The real process: bench_compile in a child, its peak resident memory (less the
    interpreter's before the netlist) against ``netlist_bytes`` of the same netlist."""
    neurons = 30_000
    out = subprocess.run([sys.executable, str(BENCH), "--neurons", str(neurons), "--mesh",
                          "2x2"], capture_output=True, text=True, check=True,
                         env={**os.environ, "NEUROCHIP_MEMORY_BUDGET": "4GiB"})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    used = result["peak_bytes"] - result["import_bytes"]
    estimate = netlist_bytes(netlist_from_dict(_bench_netlist(neurons)))
    assert result["synapses"] == neurons * 100
    # an upper bound; how close it comes is not asserted: with a cold numba cache the
    # kernel compile in the child can set the peak before the netlist is read (used = 0)
    assert used <= estimate
