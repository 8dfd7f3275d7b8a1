"""The emulator against Brian2 on the benchmark network (1,000 LIF neurons × 100 random synapses, ~27 Hz; docs/performance.md), in one run here.

Reproduce (Brian2 and xylosim are benchmark-only extras, never dependencies of the
package; Brian2 needs ``numpy<2.4``, so they get a virtualenv of their own, anywhere:
the script only imports them; xylosim builds from source with the C++ compiler)::

    python3 -m venv .venv-peers && .venv-peers/bin/pip install -e '.[peers,vendors]'
    .venv-peers/bin/python benchmarks/bench_peers.py [--sizes 1000,10000,100000]
        [--ticks 1000] [--skip-brian2] [--check] [--xylo-sizes 1000,10000]

The network: ``neurochip.lab.examples.random_network(n, fanout=100)`` — LIF neurons
(k_i = 3, k_v = 5, a bias that fires a neuron every ~40 ticks on its own, v_th = 1000,
reset to 0, t_ref = 2), 100 random synapses per neuron (weights -12..12, delay 1 tick),
random initial membranes in [0, 1000); 1,000 ticks of 1 ms, about 25 Hz.

Systems, each timed on the same network and counted as spikes × fan-out (synaptic
events) per wall second of the simulation alone:

* ``neurochip-numpy`` / ``neurochip-compiled``: one ``Core`` built as
  ``benchmarks/bench_core.py`` builds it, ``Core.run(ticks, backend=...)`` timed (build
  excluded). The compiled backend (numba) first runs 10 ticks on a 64-neuron core so
  that compilation is excluded; that first call is reported (it may only load numba's
  on-disk cache), and so, once, is the same first call in a fresh process with an empty
  numba cache (the true cold start: compilation). Both backends then run a copy of the
  same network once, untimed, so that the timed run, like Brian2's timed loop, does not
  pay for mapping fresh memory.
* ``brian2-cpp-standalone``: the float twin of the network (``brian2_network`` below)
  in C++ standalone mode, one build directory per size in a temporary folder; the time
  is Brian2's own measurement of the simulation loop (``device._last_run_time``, read
  from ``results/last_run_info.txt``; without OpenMP the generated code measures it with
  ``std::clock()``, i.e. CPU seconds of the loop). Single-threaded, like the emulator.
* ``brian2-cython``: the same model with the cython runtime target; ``Network.run`` is
  timed wall-clock after a 10 ms warm-up run on the same network (the warm-up compiles
  the code objects; the timed call still pays Brian2's per-run set-up).

* ``neurochip-xylo-compiled`` / ``xylosim`` (when xylosim 0.1.3, the ``vendors`` extra,
  imports; sizes ``--xylo-sizes``, ``none`` to skip): ``bench_core.py --dialect xylo``'s
  network (the same connectivity and weights, all onto ``isyn1``; ``dash_syn1 = 3``,
  ``dash_mem = 5``, threshold 1000, bias 32, up to 31 spikes a tick) on a Xylo core with
  the compiled backend, and as a ``xylosim.v2.XyloLayer`` (its recurrent synapse lists in
  the core's row order; one silent input channel, one silent output neuron). xylosim
  cannot load membranes, so both start at rest (``bench_core`` starts from random
  membranes); both then run the same integer arithmetic, and the script checks that
  their spike counts agree. The compiled run is timed as above; xylosim's
  ``XyloLayer.evolve`` is timed wall-clock (its build excluded; it records every
  register of every tick, which it cannot switch off).

``--check`` first runs a 3-neuron network in neurochip and in Brian2 (numpy target) and
prints both traces, to show that the float twin updates in the same order with the same
delay and refractory period.

Prints a line per (size, system) and, last, one JSON object per (size, system) with keys
``neurons, system, events_per_s, ratio_to_brian2_standalone`` (the system's events/s over
Brian2 standalone's at that size; null when either did not run), then one per (size,
Xylo system) with ``neurons, system, events_per_s, ratio_to_xylosim``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time

import numpy as np

from neurochip import Core, CoreSpec, RoutingTable, SynapseMemory
from neurochip.lab.examples import random_network

FANOUT = 100
SYSTEMS = ("neurochip-numpy", "neurochip-compiled", "brian2-cpp-standalone", "brian2-cython")


# ----------------------------------------------------------------------------- neurochip

def build_core(n: int, fanout: int = FANOUT, seed: int = 0) -> tuple[Core, object]:
    """One core holding the whole network, as ``bench_core.build`` lays it out: synapse
    row ``j`` holds neuron ``j``'s synapses, one routing entry from slot ``j`` to axon
    ``j`` with delay 1. Returns the core (in its initial state) and the network."""
    net, state = random_network(n, fanout=fanout, seed=seed)
    if np.any(net.delay != 1):
        raise SystemExit("random_network is expected to give delay-1 synapses")
    spec = CoreSpec(n_slots=n, n_axons=n, synapse_words=n * fanout, routing_entries=n,
                    max_fanout=1)
    synapses = SynapseMemory.from_lists(n, net.pre, net.post, net.w, net.w_exp)
    routes = RoutingTable.from_lists(n, np.arange(n), np.arange(n), delay=1)
    core = Core(spec, net.params, synapses, routes)
    core.state = state
    return core, net


def accepts_backend(core: Core) -> bool:
    try:
        return "backend" in inspect.signature(core.run).parameters
    except (TypeError, ValueError):
        return False


def compiled_cold_start() -> float | None:
    """Seconds of the first compiled call (10 ticks, 64 neurons) in a fresh process with
    an empty numba cache: the in-process first call may just load the on-disk cache."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys, time; sys.path.insert(0, {here!r})\n"
            "from bench_peers import build_core\n"
            "core, _ = build_core(64)\n"
            "start = time.perf_counter()\n"
            "core.run(10, backend='compiled')\n"
            "print(time.perf_counter() - start)\n")
    with tempfile.TemporaryDirectory(prefix="bench_peers_numba_") as cache:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False, env=dict(os.environ, NUMBA_CACHE_DIR=cache))
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def run_neurochip(n: int, ticks: int, backend: str) -> dict:
    """Time ``Core.run`` with ``backend``; ``{"unavailable": reason}`` if it cannot run."""
    core, _ = build_core(n)
    kwargs = {}
    note = ""
    if accepts_backend(core):
        kwargs["backend"] = backend
    elif backend == "numpy":
        note = "Core.run has no backend= yet: ran its default (numpy) engine"
    else:
        return {"unavailable": "Core.run does not accept backend= yet"}
    cold = None
    if backend == "compiled":
        small, _ = build_core(64)
        start = time.perf_counter()
        try:
            small.run(10, backend=backend)
        except (ImportError, TypeError, NotImplementedError, ValueError) as error:
            return {"unavailable": f"{type(error).__name__}: {error}"}
        cold = time.perf_counter() - start
    # a dress rehearsal on a copy of the same network, untimed (as Brian2's cython run
    # gets a warm-up on its network, and its standalone loop is timed after its arrays
    # are allocated): the timed run then finds the process's memory already mapped
    rehearsal, _ = build_core(n)
    rehearsal.run(ticks, **kwargs)
    del rehearsal
    start, cpu = time.perf_counter(), time.process_time()
    try:
        recording = core.run(ticks, **kwargs)
    except (ImportError, TypeError, NotImplementedError) as error:
        return {"unavailable": f"{type(error).__name__}: {error}"}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    spikes = int(recording.spikes.sum())
    return {"spikes": spikes, "seconds": seconds, "cpu_seconds": cpu, "cold_start_s": cold,
            "note": note}


# ------------------------------------------------------------------------------- Brian2
#
# The float twin of the integer LIF (firmware_models/lif/kernel.py), per neuron per tick:
#
#     neurochip (integers)                      Brian2 (float64, explicit updates)
#     acc = Σ w of events arriving this tick    acc_post += w   (on_pre, last tick)
#     i = i - (i >> 3) + acc                    I = (1 - 2**-3) * I + acc;  acc = 0
#     if ref > 0: ref -= 1 (v held)             not_refractory (Brian2's mechanism)
#     else: v = v - (v >> 5) + i + bias         v = (1 - 2**-5) * v + I + bias  if so
#     fire if was not refractory, v >= 1000     threshold 'v >= v_th' (and not refr.)
#     on fire: v = 0, ref = 2                   reset 'v = 0', lastspike = t
#
# * No differential equations: the update is a ``run_regularly`` block in the 'groups'
#   slot (after Brian2's own refractoriness update, order=1), so each step performs the
#   per-tick recurrence exactly (no integration method involved); the only difference
#   from the emulator is float arithmetic instead of floor-rounded shifts.
# * Delay: Brian2's step runs groups → thresholds → synapses → resets. A spike of step t
#   delivered with delay 0 lands in ``acc`` after step t's update and is consumed by
#   step t+1's update — exactly the emulator's delay of 1 tick (axon-buffer row t+1,
#   summed into i before v integrates). ``delay=1*ms`` in Brian2 would act at step t+2.
# * Refractory: the emulator holds v for the t_ref = 2 ticks after a spike and lets the
#   neuron integrate (and fire) again on the 3rd. Brian2 is refractory while
#   timestep(t - lastspike) < timestep(refractory), so that is refractory = 3 * dt.
#   i (Brian2: I, as 'i' is reserved) keeps integrating while refractory in both.
# * Same connectivity (pre, post, w of random_network: 100 targets per neuron, possibly
#   repeated) and the same initial v.

BRIAN2_MODEL = """
v : 1
I : 1  # the synaptic current i ('i' is reserved in Brian2)
acc : 1
"""

BRIAN2_UPDATE = """
I = a_i * I + acc
acc = 0
v = v + int(not_refractory) * ((a_v - 1) * v + I + bias)
"""


def brian2_network(b2, net, v0, name: str = "bench"):
    """Brian2 objects for the float twin of ``net`` (see the table above)."""
    p = net.params
    namespace = {"a_i": 1 - 2.0 ** -int(p.k_i[0]), "a_v": 1 - 2.0 ** -int(p.k_v[0]),
                 "bias": float(p.bias[0]), "v_th": float(p.v_th[0]),
                 "v_reset": float(p.v_reset[0])}
    for field in ("k_i", "k_v", "bias", "v_th", "v_reset", "t_ref"):
        if np.unique(getattr(p, field)).size != 1:
            raise SystemExit(f"the Brian2 twin assumes one value of {field} for all neurons")
    dt = b2.defaultclock.dt
    group = b2.NeuronGroup(net.n, BRIAN2_MODEL, threshold="v >= v_th", reset="v = v_reset",
                           refractory=(int(p.t_ref[0]) + 1) * dt, namespace=namespace,
                           name=f"{name}_neurons")
    group.run_regularly(BRIAN2_UPDATE, when="groups", order=1, name=f"{name}_update")
    group.v = np.asarray(v0, dtype=float)
    synapses = b2.Synapses(group, group, "w : 1", on_pre="acc_post += w", delay=0 * b2.ms,
                           namespace={}, name=f"{name}_synapses")
    synapses.connect(i=np.asarray(net.pre, dtype=np.int32),
                     j=np.asarray(net.post, dtype=np.int32))
    synapses.w = np.asarray(net.w, dtype=float)
    monitor = b2.SpikeMonitor(group, name=f"{name}_spikes")
    return b2.Network(group, synapses, monitor), group, monitor


def import_brian2():
    try:
        import brian2
    except ImportError as error:
        return None, f"import brian2 failed ({error}); install the [peers] extra"
    brian2.prefs.logging.console_log_level = "WARNING"
    brian2.prefs.logging.file_log = False
    brian2.prefs.logging.delete_log_on_exit = True
    return brian2, ""


def run_brian2_standalone(b2, n: int, ticks: int, workdir: str) -> dict:
    net, state = random_network(n, fanout=FANOUT)
    directory = os.path.join(workdir, f"standalone_{n}")
    b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = 0  # one thread, like the emulator
        b2.defaultclock.dt = 1 * b2.ms
        network, _, monitor = brian2_network(b2, net, state.v)
        network.run(ticks * b2.ms, namespace={})
        start = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=True, clean=True)
        build_and_run = time.perf_counter() - start
        seconds = float(b2.device._last_run_time)
        spikes = int(monitor.num_spikes)
        binary = b2.device.timers.get("run_binary")
        compile_s = b2.device.timers.get("compile", {})
        compile_s = sum(compile_s.values()) if isinstance(compile_s, dict) else compile_s
        return {"spikes": spikes, "seconds": seconds, "binary_wall_s": binary,
                "compile_s": compile_s, "build_and_run_s": build_and_run}
    finally:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")


def run_brian2_cython(b2, n: int, ticks: int, warmup_ms: int = 10) -> dict:
    net, state = random_network(n, fanout=FANOUT)
    b2.set_device("runtime")
    b2.prefs.codegen.target = "cython"
    b2.start_scope()
    b2.defaultclock.dt = 1 * b2.ms
    network, _, monitor = brian2_network(b2, net, state.v, name=f"cy{n}")
    start = time.perf_counter()
    network.run(warmup_ms * b2.ms, namespace={})
    cold = time.perf_counter() - start
    start = time.perf_counter()
    network.run(0 * b2.ms, namespace={})  # the per-run set-up alone
    setup = time.perf_counter() - start
    before = int(monitor.num_spikes)
    start = time.perf_counter()
    network.run(ticks * b2.ms, namespace={})
    seconds = time.perf_counter() - start
    spikes = int(monitor.num_spikes) - before
    loop = seconds - setup
    return {"spikes": spikes, "seconds": seconds, "cold_start_s": cold,
            "note": f"after a {warmup_ms} ms warm-up run; set-up {setup:.3f} s of it, "
                    f"loop alone ~{spikes * FANOUT / loop:.3g} events/s"}


def check_semantics(b2) -> bool:
    """Neuron 0 fires on tick 0 and excites neuron 1 (w = 12) and neuron 2 (w = -12);
    both traces should agree up to floor rounding and spike on the same ticks."""
    from firmware_models.lif import LifParams, LifState
    from neurochip.compiler.placement import Network

    params = LifParams.make(3, k_i=3, k_v=5, bias=[44, 44, 44], v_th=1000, v_reset=0,
                            t_ref=2)
    pre, post, w = np.array([0, 0, 0]), np.array([1, 2, 1]), np.array([12, -12, 12])
    net = Network(params, pre, post, w, np.ones(3, dtype=np.int64))
    v0 = np.array([990, 900, 500])
    spec = CoreSpec(n_slots=3, n_axons=3, synapse_words=3, routing_entries=3, max_fanout=1)
    core = Core(spec, params, SynapseMemory.from_lists(3, pre, post, w),
                RoutingTable.from_lists(3, np.arange(3), np.arange(3), delay=1))
    zeros = np.zeros(3, dtype=np.int64)
    core.state = LifState(zeros, v0, zeros, zeros)
    ticks = 50
    rec = core.run(ticks, record=("spikes", "v", "i"))

    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"
    b2.start_scope()
    b2.defaultclock.dt = 1 * b2.ms
    network, group, monitor = brian2_network(b2, net, v0, name="check")
    state = b2.StateMonitor(group, ["v", "I"], record=True, when="end", name="check_state")
    network.add(state)
    network.run(ticks * b2.ms, namespace={})
    b2_spikes = np.zeros((ticks, 3), dtype=bool)
    b2_spikes[np.rint(np.asarray(monitor.t / b2.ms)).astype(int), np.asarray(monitor.i)] = True
    print("semantics check: 3 neurons; neuron 0 fires at tick 0 and drives neuron 1 by +24 "
          "and neuron 2 by -12")
    print(" tick | neurochip v(i) of neurons 0, 1, 2     | brian2 v(I) of neurons 0, 1, 2")
    mark = {True: "*", False: " "}
    for k in list(range(6)) + [k for k in range(6, ticks) if rec.spikes[k].any()
                               or b2_spikes[k].any()]:
        ours = "  ".join(f"{rec['v'][k, j]:5d}({rec['i'][k, j]:3d}){mark[rec.spikes[k, j]]}"
                         for j in range(3))
        theirs = "  ".join(f"{state.v[j, k]:7.1f}({state.I[j, k]:5.1f}){mark[b2_spikes[k, j]]}"
                           for j in range(3))
        print(f" {k:4d} | {ours} | {theirs}")
    differ = np.flatnonzero((rec.spikes != b2_spikes).any(axis=1))
    agree = int(differ[0]) if differ.size else ticks
    print(f"(* = spike; v after the reset.) Rasters agree on the first {agree} of {ticks} "
          f"ticks; after that floor rounding (e.g. i = 7 stays 7 since 7 >> 3 = 0) and the "
          f"float decays part.")
    return agree


# ------------------------------------------------------------------------- Xylo, xylosim

XYLO_SYSTEMS = ("neurochip-xylo-compiled", "xylosim")


def xylo_core_at_rest(n: int) -> Core:
    """``bench_core.build(n, dialect="xylo")`` with every register at 0 (xylosim's start)."""
    from bench_core import build
    from firmware_models.xylo import XyloState

    core = build(n, FANOUT, dialect="xylo")
    zeros = np.zeros(n, np.int64)
    core.state = XyloState(zeros, zeros, zeros)
    return core


def xylosim_layer(xylosim, core: Core):
    """The core as a ``XyloLayer``: hidden neuron ``j``'s recurrent synapses are axon
    ``j``'s row in stored order (the order both apply them in), one silent input channel,
    one silent output neuron. Returns the layer and the synapse lists, which must outlive
    it (xylosim keeps raw pointers to them)."""
    n, memory, p = core.engine.n, core.synapses, core.params
    weights = (memory.w.astype(np.int64) << np.repeat(memory.w_exp, np.diff(memory.row_start)))
    target = memory.target if memory.target is not None else np.zeros(memory.w.size, np.int64)
    recurrent = [[xylosim.XyloSynapse(int(q), int(s), int(w)) for q, s, w in
                  zip(memory.slot[a:b], target[a:b], weights[a:b])]
                 for a, b in zip(memory.row_start[:-1], memory.row_start[1:])]
    lists = ([[]], recurrent, [[] for _ in range(n)])
    dash_syns = [[int(a), int(b)] for a, b in zip(p.dash_syn1, p.dash_syn2)]
    layer = xylosim.XyloLayer(*lists, [[] for _ in range(n)], p.threshold.tolist(), [1000],
                              True, p.bias.tolist(), [0], 0, 0, 0, p.dash_mem.tolist(), [4],
                              dash_syns, [[4]], "bench_peers")
    return layer, lists


def run_xylo_pair(xylosim, n: int, ticks: int) -> dict:
    """Both Xylo systems on the same network from rest (module docstring)."""
    warm = xylo_core_at_rest(64)
    warm.run(10, backend="compiled")
    xylo_core_at_rest(n).run(ticks, backend="compiled")  # the rehearsal, untimed
    core = xylo_core_at_rest(n)
    layer, _lists = xylosim_layer(xylosim, core)
    start = time.perf_counter()
    ours = int(core.run(ticks, backend="compiled").spikes.sum())
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    layer.evolve([[0]] * ticks)
    theirs_seconds = time.perf_counter() - start
    theirs = int(np.sum(layer.rec_recurrent_spikes))
    agree = "" if ours == theirs else f"spike counts differ: {ours} here, {theirs} in xylosim"
    return {"neurochip-xylo-compiled": {"spikes": ours, "seconds": seconds, "note": agree},
            "xylosim": {"spikes": theirs, "seconds": theirs_seconds, "note": agree}}


def xylo_rows(sizes: list[int], ticks: int) -> list[dict]:
    """The Xylo rows (``ratio_to_xylosim``), printed as they come; none without xylosim."""
    try:
        import xylosim.v2 as xylosim
    except ImportError as error:
        print(f"Xylo systems skipped: import xylosim.v2 failed ({error}); install the "
              f"[vendors] extra")
        return []
    rows = []
    for n in sizes:
        results = run_xylo_pair(xylosim, n, ticks)
        size_rows = [summarise(n, ticks, system, results[system]) for system in XYLO_SYSTEMS]
        reference = size_rows[1]["events_per_s"]
        for row in size_rows:
            row["ratio_to_xylosim"] = row["events_per_s"] / reference
            print(describe(row) + f"  = {row['ratio_to_xylosim']:.2f}x xylosim", flush=True)
        rows += size_rows
    return rows


# --------------------------------------------------------------------------------- main

def summarise(n: int, ticks: int, system: str, result: dict) -> dict:
    row = {"neurons": n, "system": system, **result}
    if "spikes" in result:
        events = result["spikes"] * FANOUT
        row.update(events=events, events_per_s=events / result["seconds"],
                   rate_hz=result["spikes"] / n / (ticks * 1e-3))
    return row


def describe(row: dict) -> str:
    head = f"{row['neurons']:>7} neurons  {row['system']:<22}"
    if "unavailable" in row:
        return f"{head} unavailable: {row['unavailable']}"
    text = (f"{head} {row['spikes']:>9} spikes ({row['rate_hz']:5.2f} Hz)  "
            f"{row['seconds']:8.3f} s  {row['events_per_s']:9.3g} events/s")
    ratio = row.get("ratio_to_brian2_standalone")
    if ratio is not None:
        text += f"  = {ratio:.2f}x Brian2 standalone"
    extras = []
    if row.get("cold_start_s") is not None:
        extras.append(f"first call in this process {row['cold_start_s']:.2f} s")
    if row.get("binary_wall_s") is not None:
        extras.append(f"binary wall {row['binary_wall_s']:.2f} s, compile "
                      f"{row['compile_s']:.1f} s")
    if row.get("cpu_seconds") is not None:  # comparable with standalone's std::clock()
        extras.append(f"cpu {row['cpu_seconds']:.3f} s = "
                      f"{row['events'] / max(row['cpu_seconds'], 1e-9):.3g} events/cpu-s")
    if row.get("note"):
        extras.append(row["note"])
    return text + (f"  [{'; '.join(extras)}]" if extras else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--skip-brian2", action="store_true")
    parser.add_argument("--check", action="store_true",
                        help="first compare a 3-neuron network with its Brian2 twin")
    parser.add_argument("--xylo-sizes", default="1000,10000",
                        help="sizes of the Xylo side by side with xylosim ('none': skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    xylo_sizes = [] if args.xylo_sizes == "none" else \
        [int(s) for s in args.xylo_sizes.split(",")]

    b2, why = (None, "--skip-brian2") if args.skip_brian2 else import_brian2()
    if b2 is None:
        print(f"Brian2 systems skipped: {why}")
    elif args.check:
        check_semantics(b2)

    probe, _ = build_core(8)
    if accepts_backend(probe):
        cold = compiled_cold_start()
        print("neurochip-compiled cold start (first 10-tick call, fresh process, empty numba "
              "cache): " + ("failed" if cold is None else f"{cold:.2f} s"), flush=True)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as workdir:
        for n in sizes:
            results = {"neurochip-numpy": run_neurochip(n, args.ticks, "numpy"),
                       "neurochip-compiled": run_neurochip(n, args.ticks, "compiled")}
            if b2 is None:
                results["brian2-cpp-standalone"] = {"unavailable": why}
                results["brian2-cython"] = {"unavailable": why}
            else:
                for system, runner, extra in (
                        ("brian2-cpp-standalone", run_brian2_standalone, (workdir,)),
                        ("brian2-cython", run_brian2_cython, ())):
                    try:
                        results[system] = runner(b2, n, args.ticks, *extra)
                    # a peer failing (compiler, memory, Brian2 error) must not lose the rest
                    except Exception as error:  # noqa: BLE001
                        results[system] = {"unavailable": f"{type(error).__name__}: {error}"}
            size_rows = [summarise(n, args.ticks, s, results[s]) for s in SYSTEMS]
            reference = size_rows[SYSTEMS.index("brian2-cpp-standalone")].get("events_per_s")
            for row in size_rows:
                row["ratio_to_brian2_standalone"] = (
                    row["events_per_s"] / reference
                    if reference and "events_per_s" in row else None)
                print(describe(row), flush=True)
            rows += size_rows
    xylo = xylo_rows(xylo_sizes, args.ticks) if xylo_sizes else []
    for row in rows:
        events = row.get("events_per_s")
        ratio = row["ratio_to_brian2_standalone"]
        print(json.dumps({"neurons": row["neurons"], "system": row["system"],
                          "events_per_s": None if events is None else round(events),
                          "ratio_to_brian2_standalone":
                              None if ratio is None else round(ratio, 4)}))
    for row in xylo:
        print(json.dumps({"neurons": row["neurons"], "system": row["system"],
                          "events_per_s": round(row["events_per_s"]),
                          "ratio_to_xylosim": round(row["ratio_to_xylosim"], 4)}))


if __name__ == "__main__":
    sys.exit(main())
