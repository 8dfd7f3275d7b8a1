"""The native netlist: loading JSON/TOML files, saving, expansion and validation."""

from __future__ import annotations

import copy
import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest

from firmware_models.lif.reference import LifPhysical
from neurochip.formats.netlist import (DenseConnectivity, FixedFanIn, FixedProbability,
                               ListConnectivity, Netlist, NetlistError, Normal, Population,
                               Probe, Projection, SpikeInput, expand, load_netlist,
                               netlist_from_dict, netlist_to_dict, save_netlist)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_JSON = ROOT / "examples" / "balanced.json"
EXAMPLE_TOML = ROOT / "examples" / "balanced.toml"
DOC = ROOT / "docs" / "netlist.md"


def example() -> dict:
    return json.loads(EXAMPLE_JSON.read_text())


def write_json(tmp_path: Path, data, name: str = "net.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def small(populations=None, **top) -> dict:
    """A minimal valid netlist: dt 1 ms, 10 ticks, populations a (3) and b (4)."""
    data = {"format": "neurochip-netlist", "version": 1, "dt": 0.001, "duration": 0.01,
            "populations": populations or {"a": {"model": "lif", "size": 3},
                                           "b": {"model": "lif", "size": 4}}}
    data.update(top)
    return data


def load(tmp_path, data) -> Netlist:
    return load_netlist(write_json(tmp_path, data))


# ====================================================================== loading
def test_json_and_toml_of_the_example_load_to_equal_netlists(tmp_path):
    # real files: the examples copied byte for byte into tmp_path
    j = tmp_path / "balanced.json"
    t = tmp_path / "balanced.toml"
    j.write_bytes(EXAMPLE_JSON.read_bytes())
    t.write_bytes(EXAMPLE_TOML.read_bytes())
    a, b = load_netlist(j), load_netlist(t)
    assert a == b
    assert a == load_netlist(EXAMPLE_JSON)
    assert [(p.name, p.size) for p in a.populations] == [("exc", 80), ("inh", 20)]
    assert a.dt == 0.001 and a.duration == 0.5 and a.ticks == 500 and a.seed == 2024
    assert {type(p.connectivity) for p in a.projections} == {
        ListConnectivity, DenseConnectivity, FixedProbability, FixedFanIn}
    assert [i.kind for i in a.inputs] == ["poisson", "dc", "spikes", "step"]
    assert a.probes == (Probe("exc", ("spikes", "v", "theta")), Probe("inh", ("spikes", "i")))
    # the tau_m = 16 ms, tau_syn = 4 ms of the brief
    exc = a.population("exc").physical()
    assert np.allclose(exc.tau_m, 0.016) and np.allclose(exc.tau_syn, 0.004)


def test_the_example_in_the_docs_is_the_example_file(tmp_path):
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    path = tmp_path / "doc.toml"
    path.write_text(blocks[-1])
    assert load_netlist(path) == load_netlist(EXAMPLE_JSON)


def test_omitted_fields_take_their_documented_defaults(tmp_path):
    data = small(projections=[{"pre": "a", "post": "b", "connectivity": {
        "type": "fixed_probability", "p": 0.5, "weight": 1e-10}}])
    net = load(tmp_path, data)
    assert net.seed == 0 and net.inputs == () and net.probes == ()
    defaults = LifPhysical()
    for pop in net.populations:
        assert pop.physical() == defaults.broadcast(pop.size)
        assert set(pop.params) == {"C", "g_L", "E_L", "V_th", "V_reset", "T_ref", "tau_syn",
                                   "tau_theta", "alpha", "I_bias", "sigma", "reset"}
    proj = net.projections[0]
    assert proj.delay == 0.001
    assert proj.connectivity == FixedProbability(0.5, 1e-10, None, True)


def test_integers_and_reals_are_normalised_so_equal_files_give_equal_netlists(tmp_path):
    a = small(populations={"a": {"model": "lif", "size": 2, "params": {"alpha": 0,
                                                                        "V_th": [-0.05, 0]}}})
    b = copy.deepcopy(a)
    b["populations"]["a"]["params"] = {"alpha": 0.0, "V_th": [-0.05, 0.0]}
    b["populations"]["a"]["params"]["V_th"][1] = 0.0
    # V_reset (default -65 mV) stays below both thresholds
    assert load(tmp_path, a) == load_netlist(write_json(tmp_path, b, "other.json"))


# ====================================================================== saving
def test_round_trip_save_then_load(tmp_path):
    net = load_netlist(EXAMPLE_TOML)
    out = save_netlist(net, tmp_path / "copy.json")
    assert out == tmp_path / "copy.json"
    again = load_netlist(out)
    assert again == net
    # and once more from the saved file: a fixed point, byte for byte
    save_netlist(again, tmp_path / "copy2.json")
    assert (tmp_path / "copy2.json").read_text() == out.read_text()
    # the dict form is the same
    assert netlist_from_dict(netlist_to_dict(net)) == net


def test_save_refuses_to_overwrite_unless_asked(tmp_path):
    net = load_netlist(EXAMPLE_JSON)
    path = tmp_path / "mine.json"
    path.write_text("user data")
    with pytest.raises(FileExistsError, match="already exists; pass overwrite=True"):
        save_netlist(net, path)
    assert path.read_text() == "user data"
    save_netlist(net, path, overwrite=True)
    assert load_netlist(path) == net


def test_save_writes_json_only_and_never_an_invalid_netlist(tmp_path):
    net = load_netlist(EXAMPLE_JSON)
    with pytest.raises(ValueError, match="writes JSON"):
        save_netlist(net, tmp_path / "net.toml")
    broken = Netlist(0.001, 0.01, (Population("a", 3),),
                     (Projection("a", "nope", FixedFanIn(1, 1e-10)),))
    with pytest.raises(NetlistError, match=r"projections\[0\]\.post: unknown population "
                                           r"'nope' \(known: a\)"):
        save_netlist(broken, tmp_path / "broken.json")
    assert not (tmp_path / "broken.json").exists()


def test_netlists_built_in_python_expand(tmp_path):
    net = Netlist(0.001, 0.01, (Population("a", 3, {"V_th": (-0.05, -0.049, -0.048)}),),
                  (Projection("a", "a", FixedFanIn(2, Normal(1e-10, 0.0), seed=1)),),
                  (SpikeInput("a", 2e-10, {1: (0.002,)}),), (Probe("a", ("v",)),))
    x = expand(net)
    assert x.pre.size == 6 and np.all(x.weight == 1e-10) and np.all(x.delay == 0.001)
    assert np.array_equal(x.params.V_th, [-0.05, -0.049, -0.048])
    assert (x.event_tick.tolist(), x.event_neuron.tolist()) == ([2], [1])


# ====================================================================== expansion
def arrays(x):
    return (x.pre, x.post, x.weight, x.delay, x.projection, x.event_tick, x.event_neuron,
            x.event_weight, x.event_input, x.current(), x.input_jumps())


def test_expand_is_deterministic_and_the_same_from_json_and_toml():
    a = expand(load_netlist(EXAMPLE_JSON))
    b = expand(load_netlist(EXAMPLE_JSON))
    c = expand(load_netlist(EXAMPLE_TOML))
    for u, v, w in zip(arrays(a), arrays(b), arrays(c), strict=True):
        assert np.array_equal(u, v) and np.array_equal(u, w)
    assert a.params == c.params


def test_expand_of_the_example_has_global_indices_and_concatenated_parameters():
    net = load_netlist(EXAMPLE_JSON)
    x = expand(net)
    assert x.n == 100 and x.names == ("exc", "inh") and x.offsets == {"exc": 0, "inh": 80}
    assert x.slice("inh") == slice(80, 100)
    assert x.params.V_th.shape == (100,)
    assert np.all(x.params.V_th[:80] == -0.05)
    assert np.array_equal(x.params.V_th[80:], net.population("inh").params["V_th"])
    assert np.all(x.params.alpha[:80] == 0.002) and np.all(x.params.alpha[80:] == 0.0)
    assert np.all(x.params.T_ref[80:] == 0.001) and x.params.reset == "value"
    for index, proj in enumerate(net.projections):
        mine = x.projection == index
        assert np.all(x.slice(proj.pre).start <= x.pre[mine])
        assert np.all(x.pre[mine] < x.slice(proj.pre).stop)
        assert np.all(x.slice(proj.post).start <= x.post[mine])
        assert np.all(x.post[mine] < x.slice(proj.post).stop)
    # exc -> exc without autapses
    assert not np.any((x.projection == 0) & (x.pre == x.post))
    # the dense inhibitory ring: 2 neighbours per inhibitory neuron
    ring = x.projection == 3
    assert ring.sum() == 40 and np.all(x.weight[ring] == -150e-12)
    assert np.array_equal(np.sort((x.post[ring] - x.pre[ring]) % 20), [1] * 20 + [19] * 20)
    assert [(p.population, p.start, p.stop, p.record) for p in x.probes] == [
        ("exc", 0, 80, ("spikes", "v", "theta")), ("inh", 80, 100, ("spikes", "i"))]
    assert np.array_equal(x.delay_ticks()[x.projection == 4], [1, 2, 3, 4, 5])


def expand_one(tmp_path, connectivity, pre="a", post="b", delay=None, sizes=(3, 4)):
    proj = {"pre": pre, "post": post, "connectivity": connectivity}
    if delay is not None:
        proj["delay"] = delay
    data = small(populations={"a": {"model": "lif", "size": sizes[0]},
                              "b": {"model": "lif", "size": sizes[1]}},
                 projections=[proj])
    return expand(load(tmp_path, data))


def test_dense_form_by_hand(tmp_path):
    # pre x post = 3 x 4; zero entries are no synapse; b's global indices start at 3
    w = [[0, 1e-10, 0, 0],
         [2e-10, 0, 0, -3e-10],
         [0, 0, 0, 0]]
    d = [[0.001, 0.002, 0.001, 0.001],
         [0.003, 0.001, 0.001, 0.004],
         [0.001, 0.001, 0.001, 0.001]]
    x = expand_one(tmp_path, {"type": "dense", "weights": w}, delay=d)
    assert x.pre.tolist() == [0, 1, 1]
    assert x.post.tolist() == [4, 3, 6]
    assert x.weight.tolist() == [1e-10, 2e-10, -3e-10]
    assert x.delay.tolist() == [0.002, 0.003, 0.004]
    assert x.delay_ticks().tolist() == [2, 3, 4]


def test_list_form_by_hand(tmp_path):
    conn = {"type": "list", "pre": [2, 0, 2], "post": [0, 3, 0], "weight": [1e-10, -2e-10, 5e-11]}
    x = expand_one(tmp_path, conn, delay=[0.001, 0.005, 0.002])
    assert x.pre.tolist() == [2, 0, 2]
    assert x.post.tolist() == [3, 6, 3]                     # repeated pair: two synapses
    assert x.weight.tolist() == [1e-10, -2e-10, 5e-11]
    assert x.delay.tolist() == [0.001, 0.005, 0.002]
    scalar = expand_one(tmp_path, {**conn, "weight": 7e-11}, delay=0.003)
    assert scalar.weight.tolist() == [7e-11] * 3 and scalar.delay.tolist() == [0.003] * 3


@pytest.mark.parametrize("self_connections", [True, False])
def test_fixed_fan_in_gives_exactly_n_distinct_pre_neurons_per_post_neuron(tmp_path,
                                                                         self_connections):
    n = 7
    x = expand_one(tmp_path, {"type": "fixed_fan_in", "n": n, "weight": 1e-10, "seed": 3,
                              "self_connections": self_connections},
                   pre="a", post="a", sizes=(12, 4))
    assert x.pre.size == 12 * n
    for j in range(12):
        sources = x.pre[x.post == j]
        assert sources.size == n and np.unique(sources).size == n
        assert sorted(sources.tolist()) == sources.tolist()
    if not self_connections:
        assert not np.any(x.pre == x.post)
    # post-major order
    assert np.array_equal(x.post, np.repeat(np.arange(12), n))


def test_fixed_fan_in_can_take_every_pre_neuron(tmp_path):
    x = expand_one(tmp_path, {"type": "fixed_fan_in", "n": 3, "weight": 1e-10, "seed": 0})
    assert x.pre.tolist() == [0, 1, 2] * 4
    assert x.post.tolist() == [3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]
    x = expand_one(tmp_path, {"type": "fixed_fan_in", "n": 2, "weight": 1e-10,
                              "self_connections": False}, pre="a", post="a")
    assert x.pre.tolist() == [1, 2, 0, 2, 0, 1]


def test_fixed_probability_zero_and_one(tmp_path):
    base = {"type": "fixed_probability", "weight": 1e-10, "seed": 1}
    none = expand_one(tmp_path, {**base, "p": 0})
    assert none.pre.size == 0 and none.weight.size == 0
    every = expand_one(tmp_path, {**base, "p": 1})
    assert every.pre.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert every.post.tolist() == [3, 4, 5, 6] * 3
    recurrent = expand_one(tmp_path, {**base, "p": 1.0, "self_connections": False},
                           pre="b", post="b")
    pairs = set(zip(recurrent.pre.tolist(), recurrent.post.tolist()))
    assert pairs == {(i, j) for i in range(3, 7) for j in range(3, 7) if i != j}


def test_fixed_probability_count_is_binomial(tmp_path):
    # N = 60 x 50 pairs, each kept with p = 0.2: the count is Binomial(N, p); a
    # deviation above 5 standard deviations has probability < 1e-6 (and the seed is fixed)
    p, n_pre, n_post = 0.2, 60, 50
    x = expand_one(tmp_path, {"type": "fixed_probability", "p": p, "weight": 1e-10,
                              "seed": 9}, sizes=(n_pre, n_post))
    mean, std = n_pre * n_post * p, math.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(x.pre.size - mean) < 5 * std
    # pre-major order, no pair twice
    keys = x.pre * 1000 + x.post
    assert np.all(np.diff(keys) > 0)


def test_sparse_rules_draw_only_their_synapses_and_stay_uniform(tmp_path):
    # fixed fan-in n <= m/8 and fixed probability p <= 1/8 take the sparse path
    x = expand_one(tmp_path, {"type": "fixed_fan_in", "n": 10, "weight": 1e-10, "seed": 5,
                              "self_connections": False}, pre="a", post="a",
                   sizes=(400, 1))
    assert x.pre.size == 4000 and not np.any(x.pre == x.post)
    assert np.all(np.bincount(x.post, minlength=400) == 10)
    assert np.all(np.diff(x.post * 400 + x.pre) > 0)        # distinct, sorted by post, pre
    # n = 5 of 40 pre neurons for 20000 post neurons: each pre neuron is chosen
    # Binomial(20000, 1/8) times (mean 2500, std 46.8); 5 std either side
    x = expand_one(tmp_path, {"type": "fixed_fan_in", "n": 5, "weight": 1e-10, "seed": 6},
                   sizes=(40, 20000))
    chosen = np.bincount(x.pre, minlength=40)
    assert np.all(np.abs(chosen - 2500) < 5 * math.sqrt(20000 / 8 * 7 / 8))
    assert np.all(np.diff(x.post * 40 + x.pre) > 0)
    # p = 0.05 of 300 x 300 pairs without autapses: Binomial(300 * 299, 0.05)
    y = expand_one(tmp_path, {"type": "fixed_probability", "p": 0.05, "weight": 1e-10,
                              "seed": 8, "self_connections": False}, pre="b", post="b",
                   sizes=(1, 300))
    mean = 300 * 299 * 0.05
    assert abs(y.pre.size - mean) < 5 * math.sqrt(mean * 0.95)
    assert not np.any(y.pre == y.post) and np.all(np.diff(y.pre * 1000 + y.post) > 0)
    # every post neuron is hit about equally often: Binomial(299, 0.05) per column
    hits = np.bincount(y.post - 1, minlength=300)
    assert abs(hits.mean() - 299 * 0.05) < 1.0 and hits.max() < 299 * 0.05 + 6 * 3.8


def test_random_weights_and_seeds(tmp_path):
    conn = {"type": "fixed_probability", "p": 0.5, "weight": {"mean": 1e-10, "std": 0},
            "seed": 4}
    x = expand_one(tmp_path, conn, sizes=(30, 30))
    assert x.pre.size > 0 and np.all(x.weight == 1e-10)
    conn["weight"] = {"low": -2e-10, "high": -1e-10}
    u = expand_one(tmp_path, conn, sizes=(30, 30))
    assert np.array_equal(u.pre, x.pre)                     # connectivity draws come first
    assert np.all((-2e-10 <= u.weight) & (u.weight < -1e-10))
    assert np.unique(u.weight).size == u.weight.size
    # another seed, other synapses; no seed: derived from the netlist seed
    other = expand_one(tmp_path, {**conn, "seed": 5}, sizes=(30, 30))
    assert not np.array_equal(other.pre, u.pre) or not np.array_equal(other.post, u.post)
    unseeded = {k: v for k, v in conn.items() if k != "seed"}
    data = small(projections=[{"pre": "a", "post": "b", "connectivity": unseeded}])
    first, again = expand(load(tmp_path, data)), expand(load(tmp_path, data))
    assert np.array_equal(first.weight, again.weight)
    data["seed"] = 1
    reseeded = expand(load(tmp_path, data))
    assert not np.array_equal(reseeded.weight, first.weight)


def poisson_net(tmp_path, **poisson):
    data = small(populations={"a": {"model": "lif", "size": 5},
                              "b": {"model": "lif", "size": 40}},
                 duration=2.0,
                 inputs=[{"kind": "poisson", "target": "b", "weight": 3e-11, **poisson}])
    return expand(load(tmp_path, data))


def test_poisson_events_are_reproducible_and_have_the_asked_rate(tmp_path):
    rate, fan_in = 12.5, 4
    x = poisson_net(tmp_path, rate=rate, fan_in=fan_in, seed=21)
    y = poisson_net(tmp_path, rate=rate, fan_in=fan_in, seed=21)
    z = poisson_net(tmp_path, rate=rate, fan_in=fan_in, seed=22)
    assert np.array_equal(x.event_tick, y.event_tick)
    assert np.array_equal(x.event_neuron, y.event_neuron)
    assert not (x.event_tick.size == z.event_tick.size
                and np.array_equal(x.event_tick, z.event_tick))
    # The total count of events is Poisson with mean lam = rate * fan_in * duration * 40
    # (= 4000); it exceeds lam +- 5 sqrt(lam) (+-316) with probability < 1e-6.
    lam = rate * fan_in * 2.0 * 40
    assert abs(x.event_tick.size - lam) < 5 * math.sqrt(lam)
    assert np.all((x.event_neuron >= 5) & (x.event_neuron < 45))
    assert np.all(x.event_weight == 3e-11) and np.all(x.event_input == 0)
    assert np.all(np.diff(x.event_tick) >= 0)
    # several events in one tick and neuron are separate entries
    jumps = x.input_jumps()
    assert jumps.shape == (2000, 45)
    assert np.isclose(jumps.sum(), 3e-11 * x.event_tick.size)


def test_poisson_window_subset_and_per_neuron_rates(tmp_path):
    x = poisson_net(tmp_path, rate=[0.0, 400.0], neurons=[3, 7], start=0.5, stop=1.5,
                    seed=2)
    assert set(x.event_neuron.tolist()) == {5 + 7}
    assert x.event_tick.min() >= 500 and x.event_tick.max() < 1500
    lam = 400.0 * 1.0
    assert abs(x.event_tick.size - lam) < 5 * math.sqrt(lam)


def test_spike_times_become_events_on_the_tick_grid(tmp_path):
    data = small(inputs=[
        {"kind": "spikes", "target": "b", "weight": 2e-10,
         "times": {"0": [0.003, 0.0], "2": [0.0049999999999, 0.0099], "3": []}},
        {"kind": "spikes", "target": "a", "weight": -1e-10, "times": {"1": [0.003, 0.003]}},
    ])
    x = expand(load(tmp_path, data))
    # 0.003 / 0.001 is 2.9999999999999996 in floating point: still tick 3
    got = list(zip(x.event_tick.tolist(), x.event_neuron.tolist(), x.event_weight.tolist(),
                   x.event_input.tolist()))
    assert got == [(0, 3, 2e-10, 0), (3, 1, -1e-10, 1), (3, 1, -1e-10, 1), (3, 3, 2e-10, 0),
                   (5, 5, 2e-10, 0), (9, 5, 2e-10, 0)]
    jumps = x.input_jumps()
    assert jumps[3, 1] == -2e-10 and jumps[0, 3] == 2e-10 and np.count_nonzero(jumps) == 5


def test_step_and_dc_currents_by_hand(tmp_path):
    data = small(inputs=[
        {"kind": "step", "target": "b", "neurons": [1, 3], "times": [0.002, 0.005, 0.008],
         "amplitudes": [1e-10, -5e-11, 0.0]},
        {"kind": "dc", "target": "b", "amplitude": [1e-11, 2e-11, 3e-11, 4e-11]},
        {"kind": "dc", "target": "a", "neurons": [2], "amplitude": 7e-11},
    ])
    x = expand(load(tmp_path, data))
    expected = np.zeros((10, 7))
    expected[:, 3:7] += [1e-11, 2e-11, 3e-11, 4e-11]
    expected[2:5, [4, 6]] += 1e-10
    expected[5:8, [4, 6]] += -5e-11
    expected[:, 2] += 7e-11
    assert np.array_equal(x.current(), expected)
    step = x.currents[0]
    assert step.neurons.tolist() == [4, 6] and step.start_ticks.tolist() == [2, 5, 8]
    assert x.event_tick.size == 0


# ====================================================================== validation
def setp(*keys_and_value):
    *keys, value = keys_and_value

    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return mutate


def delete(*keys):
    def mutate(d):
        for k in keys[:-1]:
            d = d[k]
        del d[keys[-1]]
    return mutate


def call(fn):
    return fn


BROKEN = {  # name: (mutation of the example, expected message with file net.json)
    "unknown top-level key": (
        setp("colour", "blue"),
        ("net.json: colour: unknown key (known: format, version, dt, duration, populations, "
         "seed, projections, inputs, probes)")),
    "missing key": (delete("dt"), "net.json: dt: missing required key"),
    "format": (setp("format", "nir"),
               "net.json: format: must be 'neurochip-netlist' (got 'nir')"),
    "version": (setp("version", 2),
                "net.json: version: unsupported version (supported: 1) (got 2)"),
    "dt": (setp("dt", "1 ms"), ("net.json: dt: must be a positive number of seconds "
                                "(got '1 ms')")),
    "duration off grid": (setp("duration", 0.5005),
                          ("net.json: duration: must be a whole number of ticks of dt = 0.001 "
                           "s (got 0.5005)")),
    "seed": (setp("seed", -1), "net.json: seed: must be a non-negative integer (got -1)"),
    "negative size": (setp("populations", "exc", "size", -3),
                      "net.json: populations.exc.size: must be a positive integer (got -3)"),
    "size as string": (setp("populations", "exc", "size", "80"),
                       ("net.json: populations.exc.size: must be a positive integer "
                        "(got '80')")),
    "size as real": (setp("populations", "exc", "size", 80.0),
                     "net.json: populations.exc.size: must be a positive integer (got 80.0)"),
    "unknown model": (setp("populations", "exc", "model", "izhikevich"),
                      ("net.json: populations.exc.model: unknown model (known: lif) "
                       "(got 'izhikevich')")),
    "population key": (setp("populations", "exc", "colour", "red"),
                       ("net.json: populations.exc.colour: unknown key (known: model, size, "
                        "params)")),
    "population name": (setp("populations", "my pop", {"model": "lif", "size": 1}),
                        ("net.json: populations: population names must be letters, digits, "
                         "'_' and '-', starting with a letter or '_' (got 'my pop')")),
    "no populations": (setp("populations", {}),
                       "net.json: populations: must define at least one population"),
    "shape mismatch": (setp("populations", "inh", "params", "V_th", [-0.05] * 10),
                       ("net.json: populations.inh.params.V_th: list of length 10, expected "
                        "20 (size of inh)")),
    "negative capacitance": (setp("populations", "exc", "params", "C", -1e-10),
                             ("net.json: populations.exc.params.C: must be positive (farads) "
                              "(got -1e-10)")),
    "negative per-neuron tau": (setp("populations", "inh", "params", "tau_syn",
                                     [0.004] * 5 + [-0.004] + [0.004] * 14),
                                ("net.json: populations.inh.params.tau_syn[5]: must be "
                                 "positive (seconds) (got -0.004)")),
    "reset above threshold": (setp("populations", "inh", "params", "V_reset", -0.049),
                              ("net.json: populations.inh.params.V_reset: must be below V_th "
                               "of neuron 0 (-0.052) for reset 'value' (got -0.049)")),
    "unknown reset": (setp("populations", "exc", "params", "reset", "zero"),
                      ("net.json: populations.exc.params.reset: must be one of 'value', "
                       "'subtract', 'none' or a list of 80 of them (got 'zero')")),
    "boolean parameter": (setp("populations", "exc", "params", "C", True),
                          ("net.json: populations.exc.params.C: must be a number or a list of "
                           "80 numbers (got True)")),
    "nan parameter": (setp("populations", "exc", "params", "E_L", float("nan")),
                      "net.json: populations.exc.params.E_L: must be finite (got nan)"),
    "unknown population": (setp("projections", 2, "post", "inh2"),
                           ("net.json: projections[2].post: unknown population 'inh2' "
                            "(known: exc, inh)")),
    "projection key": (setp("projections", 0, "weights", 1),
                       ("net.json: projections[0].weights: unknown key (known: pre, post, "
                        "connectivity, delay)")),
    "unknown connectivity": (setp("projections", 0, "connectivity", "type", "fixed_fan_out"),
                             ("net.json: projections[0].connectivity.type: unknown "
                              "connectivity (known: list, dense, fixed_probability, "
                              "fixed_fan_in) (got 'fixed_fan_out')")),
    "probability": (setp("projections", 0, "connectivity", "p", 1.5),
                    ("net.json: projections[0].connectivity.p: must be a probability in "
                     "[0, 1] (got 1.5)")),
    "weight distribution key": (setp("projections", 0, "connectivity", "weight", "sd", 1e-12),
                                ("net.json: projections[0].connectivity.weight.sd: unknown key "
                                 "(known: mean, std)")),
    "negative std": (setp("projections", 0, "connectivity", "weight", "std", -1e-12),
                     ("net.json: projections[0].connectivity.weight.std: must be a number of "
                      "amperes >= 0 (got -1e-12)")),
    "uniform upside down": (setp("projections", 2, "connectivity", "weight", "high", -3e-10),
                            ("net.json: projections[2].connectivity.weight.high: must be >= "
                             "low (-2.4e-10) (got -3e-10)")),
    "fan-in too large": (setp("projections", 1, "connectivity", "n", 100),
                         ("net.json: projections[1].connectivity.n: must be at most 80 (exc "
                          "has 80 neurons) (got 100)")),
    "index out of range": (setp("projections", 4, "connectivity", "pre", 2, 80),
                           ("net.json: projections[4].connectivity.pre[2]: must be a neuron "
                            "index in 0..79 (exc has 80 neurons) (got 80)")),
    "list lengths": (setp("projections", 4, "connectivity", "post", [0, 0, 1, 1]),
                     ("net.json: projections[4].connectivity.post: list of length 4, expected "
                      "5 (length of pre)")),
    "dense rows": (call(lambda d: d["projections"][3]["connectivity"]["weights"].pop()),
                   ("net.json: projections[3].connectivity.weights: list of length 19, "
                    "expected 20 (size of inh, the pre population)")),
    "dense columns": (call(lambda d: d["projections"][3]["connectivity"]["weights"][2].pop()),
                      ("net.json: projections[3].connectivity.weights[2]: list of length 19, "
                       "expected 20 (size of inh, the post population)")),
    "negative delay": (setp("projections", 4, "delay", [0.001, -0.001, 0.001, 0.001, 0.001]),
                       ("net.json: projections[4].delay[1]: must be a number of seconds >= "
                        "dt = 0.001 (one tick) (got -0.001)")),
    "zero delay": (setp("projections", 0, "delay", 0),
                   ("net.json: projections[0].delay: must be a number of seconds >= dt = "
                    "0.001 (one tick) (got 0)")),
    "per-synapse delay on a rule": (setp("projections", 0, "delay", [0.002]),
                                    ("net.json: projections[0].delay: per-synapse delays need "
                                     "connectivity 'list' or 'dense'; 'fixed_probability' takes "
                                     "one number of seconds")),
    "projections not a list": (setp("projections", {}),
                               "net.json: projections: must be a list (got {})"),
    "unknown input kind": (setp("inputs", 1, "kind", "ramp"),
                           ("net.json: inputs[1].kind: unknown input kind (known: spikes, "
                            "poisson, dc, step) (got 'ramp')")),
    "input missing key": (delete("inputs", 1, "amplitude"),
                          "net.json: inputs[1].amplitude: missing required key"),
    "spike neuron out of range": (setp("inputs", 2, "times", "80", [0.1]),
                                  ("net.json: inputs[2].times: keys must be neuron indices in "
                                   "0..79 (exc has 80 neurons) (got '80')")),
    "spike time outside the run": (setp("inputs", 2, "times", "0", 0, 0.7),
                                   ("net.json: inputs[2].times['0'][0]: must be a time in "
                                    "[0, duration = 0.5) s (got 0.7)")),
    "steps in one tick": (setp("inputs", 3, "times", [0.2, 0.2001]),
                          ("net.json: inputs[3].times[1]: must fall in a later tick than "
                           "times[0] (tick 200); steps are increasing and at least one tick "
                           "apart (got 0.2001)")),
    "step lengths": (setp("inputs", 3, "amplitudes", [1e-10]),
                     ("net.json: inputs[3].amplitudes: list of length 1, expected 2 (length "
                      "of times)")),
    "negative rate": (setp("inputs", 0, "rate", -1.0),
                      "net.json: inputs[0].rate: must be >= 0 (Hz) (got -1.0)"),
    "fan_in zero": (setp("inputs", 0, "fan_in", 0),
                    "net.json: inputs[0].fan_in: must be a positive integer (got 0)"),
    "neurons twice": (setp("inputs", 3, "neurons", [0, 1, 1, 3]),
                      ("net.json: inputs[3].neurons[2]: neuron listed twice (also at [1]) "
                       "(got 1)")),
    "dc per-neuron length": (setp("inputs", 1, "amplitude", [1e-10] * 3),
                             ("net.json: inputs[1].amplitude: list of length 3, expected 20 "
                              "(size of inh)")),
    "unknown probe variable": (call(lambda d: d["probes"][0]["record"].append("w")),
                               ("net.json: probes[0].record[3]: unknown variable (known: "
                                "spikes, v, i, theta) (got 'w')")),
    "population probed twice": (call(lambda d: d["probes"].append(
        {"population": "exc", "record": ["i"]})),
        ("net.json: probes[2].population: already probed by probes[0]; list every "
         "variable in one probe (got 'exc')")),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_file_is_refused_with_one_exact_line(tmp_path, name):
    mutate, expected = BROKEN[name]
    data = example()
    mutate(data)
    path = tmp_path / "net.json"
    # json.dumps writes NaN as the (non-standard) token NaN, which json reads back
    path.write_text(json.dumps(data))
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert str(info.value) == expected.replace("net.json", str(path), 1)
    assert "\n" not in str(info.value) and isinstance(info.value, ValueError)
    assert info.value.source == str(path)


def test_unknown_parameter_in_a_toml_file(tmp_path):
    text = EXAMPLE_TOML.read_text().replace("[populations.exc.params]\n",
                                            "[populations.exc.params]\ntau_m = 0.016\n", 1)
    path = tmp_path / "net.toml"
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert str(info.value) == (
        f"{path}: populations.exc.params.tau_m: unknown parameter (known: C, g_L, E_L, V_th, "
        f"V_reset, T_ref, tau_syn, tau_theta, alpha, I_bias, sigma, reset)")


FILE_ERRORS = {  # name: (file name, text, expected message)
    "malformed JSON": ("net.json",
                       '{\n  "format": "neurochip-netlist",\n  "version": 1\n  "dt": 0.001\n}',
                       "net.json: line 4, column 3: invalid JSON: Expecting ',' delimiter"),
    "malformed TOML": ("net.toml", 'format = "neurochip-netlist"\ndt = \n',
                       "net.toml: line 2, column 6: invalid TOML: Invalid value"),
    "unclosed TOML": ("net.toml", "a = [1, 2",
                      "net.toml: end of document: invalid TOML: Unclosed array"),
    "duplicate JSON key": ("net.json", '{"populations": {"exc": {}, "exc": {}}}',
                           "net.json: invalid JSON: duplicate key 'exc'"),
    "top level not an object": ("net.json", "[1, 2]",
                                "net.json: must be an object at the top level (got [1, 2])"),
    "wrong file type": ("net.yaml", "format: neurochip-netlist",
                        "net.yaml: unsupported file type '.yaml' (expected .json or .toml)"),
}


@pytest.mark.parametrize("name", list(FILE_ERRORS))
def test_unreadable_files_are_refused_with_the_parser_position(tmp_path, name):
    file_name, text, expected = FILE_ERRORS[name]
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert str(info.value) == expected.replace(file_name, str(path), 1)


def test_a_missing_file_is_one_line_too(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert str(info.value) == f"{path}: cannot read: No such file or directory"


def test_every_message_in_the_docs_is_one_the_tests_produce():
    table = DOC.read_text().split("## Errors", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| [^|]+ \| `(net\.[a-z]+: .*)` \|$", table,
                            flags=re.MULTILINE)
    produced = {m for _, m in BROKEN.values()} | {m for _, _, m in FILE_ERRORS.values()}
    produced.add("net.toml: populations.exc.params.tau_m: unknown parameter (known: C, g_L, "
                 "E_L, V_th, V_reset, T_ref, tau_syn, tau_theta, alpha, I_bias, sigma, reset)")
    assert len(documented) >= 25
    assert [m for m in documented if m not in produced] == []


def test_random_damage_never_escapes_as_anything_but_a_netlist_error():
    """Mutate the example at random places; every outcome is a Netlist or a NetlistError."""
    rng = random.Random(7)
    base = example()
    junk = [None, True, 0, -1, 3, 80, 10**30, 0.5, -0.5, 1e300, float("nan"), "", "exc",
            "0", [], [1], [0.1, 0.2], {}, {"a": 1}, {"mean": 1}, [[0.0]]]

    def places(v, p=()):
        yield p
        children = v.items() if isinstance(v, dict) else enumerate(v[:3]) \
            if isinstance(v, list) else ()
        for k, child in children:
            yield from places(child, (*p, k))

    spots = [p for p in places(base) if p]
    for _ in range(300):
        data = copy.deepcopy(base)
        *parents, last = rng.choice(spots)
        node = data
        for k in parents:
            node = node[k]
        if isinstance(node, dict) and rng.random() < 0.2:
            del node[last]
        else:
            node[last] = copy.deepcopy(rng.choice(junk))
        try:
            expand(netlist_from_dict(data, "x.json"))
        except NetlistError as e:
            assert str(e).startswith("x.json: ") and "\n" not in str(e)
