"""Checkpoints (``neurochip.hardware.checkpoint``), pickling, and ``neurochip run
--save-state`` / ``--resume``.

* Random cores and chips (``test_backends``' generators: random widths, modes, LIF
  parameters with adaptation, refractoriness and LFSR noise, synapse rows, routing
  entries with random delays across the cores of random meshes, timing on with random
  timing tables, external events): a run of ``T`` ticks split at a random tick ``k``,
  checkpointed, restored onto a freshly built copy (in memory or through the file) and
  continued, equals the uninterrupted run — every spike, register, overflow count and
  ``TickTiming`` field of every tick, and the checkpoint at ``T`` — for every pair of
  backends (save on numpy, resume on compiled and the other way round).
* Compiled networks of the example netlist in every dialect (its Poisson, spike, dc
  and step inputs; the step changes the bias registers): split runs equal one run.
* A pickled chip or core runs on exactly as the original.
* Refusals: another configuration (naming what differs, changing nothing), files that
  are not checkpoints or of another version, broken pending events; immutability.
* The real command line in a subprocess: 100 ticks, --save-state, --resume 100 more
  gives the last 100 ticks of a 200-tick run; its refusals exit with code 2.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_backends import (RECORD, SETTINGS, assert_same_array, assert_same_timing,  # noqa: E402
                           build_chip, chip_case, core_specs, random_inputs, random_params,
                           random_rows, random_state, timing_tables)
from test_cli import neurochip  # noqa: E402

from firmware_models import LIF  # noqa: E402
from firmware_models.qif import QifParams  # noqa: E402
from firmware_models.qif.kernel import QIF  # noqa: E402
from neurochip import Core, CoreSpec  # noqa: E402
from neurochip.compiler.dialects import dialect_spec  # noqa: E402
from neurochip.compiler.pipeline import compile_netlist, roomy_core_spec  # noqa: E402
from neurochip.formats.netlist import expand, load_netlist  # noqa: E402
from neurochip.hardware.checkpoint import FORMAT, Checkpoint, CheckpointError  # noqa: E402
from neurochip.hardware.chip import Chip, ChipSpec, CoreConfig  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "balanced.toml"
PAIRS = (("numpy", "numpy"), ("numpy", "compiled"), ("compiled", "numpy"),
         ("compiled", "compiled"))


def through(checkpoint: Checkpoint, path: Path, use_file: bool) -> Checkpoint:
    """The checkpoint itself, or what saving it to ``path`` and loading it gives."""
    if not use_file:
        return checkpoint
    checkpoint.save(path)
    loaded = Checkpoint.load(path)
    assert loaded == checkpoint, loaded.differences(checkpoint)
    return loaded


def concatenated(recordings, names) -> dict:
    return {name: np.concatenate([r[name] for r in recordings]) for name in names}


# ----------------------------------------------------------------- cores

def core_case(seed: int, spec: CoreSpec) -> dict:
    rng = np.random.default_rng(seed)
    n, n_axons = int(rng.integers(1, 20)), int(rng.integers(1, 9))
    spec = spec.replace(n_slots=n, n_axons=n_axons)
    synapses, routes = random_rows(rng, spec, n, n_axons)
    ticks = int(rng.integers(10, 50))
    return dict(spec=spec, params=random_params(rng, spec, n, noise=True), synapses=synapses,
                routes=routes, seed=int(rng.integers(1, 1 << 32)),
                state=random_state(rng, spec, n), inputs=random_inputs(rng, ticks, n_axons),
                split=int(rng.integers(0, ticks + 1)),
                inject=[(rng.integers(0, n_axons, 3), int(rng.integers(0, 1 << spec.delay_bits)))
                        for _ in range(2)])


def build_core(case: dict) -> Core:
    core = Core(case["spec"], case["params"], case["synapses"], case["routes"],
                lfsr_seed=case["seed"])
    core.state = case["state"]
    return core


def run_core_split(case: dict, backends, path: Path, use_file: bool):
    """Run to the split, inject, checkpoint; a fresh core restores it and runs on."""
    k, inputs = case["split"], case["inputs"]
    first = build_core(case)
    head = first.run(k, inputs[:k], RECORD, backend=backends[0])
    for axons, later in case["inject"]:  # events pending at the split, besides routed ones
        first.inject(axons, first.t + later)
    saved = through(first.checkpoint(), path, use_file)
    second = build_core(case)
    second.restore(saved)
    assert second.checkpoint() == saved
    tail = second.run(inputs.shape[0] - k, inputs[k:], RECORD, backend=backends[1])
    return head, tail, second.checkpoint()


@settings(max_examples=25, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1), spec=core_specs, use_file=st.booleans())
def test_core_restored_mid_run_equals_the_uninterrupted_run(seed, spec, use_file, tmp_path_factory):
    case = core_case(seed, spec)
    k, inputs = case["split"], case["inputs"]
    path = tmp_path_factory.mktemp("core") / "state.npz"
    whole = build_core(case)
    want_head = whole.run(k, inputs[:k], RECORD, backend="numpy")
    for axons, later in case["inject"]:
        whole.inject(axons, whole.t + later)
    want_tail = whole.run(inputs.shape[0] - k, inputs[k:], RECORD, backend="numpy")
    want_end = whole.checkpoint()
    for backends in PAIRS:
        head, tail, end = run_core_split(case, backends, path, use_file)
        what = "/".join(backends)
        for name in RECORD:
            assert_same_array(head[name], want_head[name], f"{what} first part {name}")
            assert_same_array(tail[name], want_tail[name], f"{what} resumed part {name}")
        assert tail.start_tick == k and tail.overflow == want_tail.overflow, what
        assert end == want_end, f"{what}: final state differs in {end.differences(want_end)}"


# ----------------------------------------------------------------- chips

def run_chip_split(case: dict, backends, path: Path, use_file: bool):
    chip, inputs = build_chip(case)
    k = case["split"]
    head = chip.run(k, inputs[:k], RECORD, backend=backends[0])
    saved = through(chip.checkpoint(note="test"), path, use_file)
    fresh, _ = build_chip(case)
    fresh.restore(saved)
    tail = fresh.run(inputs.shape[0] - k, inputs[k:], RECORD, backend=backends[1])
    return [head, tail], fresh.checkpoint(note="test")


@settings(max_examples=20, **SETTINGS)
@given(seed=st.integers(0, 2 ** 32 - 1),
       spec=core_specs.map(lambda s: s.replace(noise_bits_max=max(s.noise_bits_max, 4))),
       table=timing_tables, use_file=st.booleans())
def test_chip_restored_mid_run_equals_the_uninterrupted_run(seed, spec, table, use_file,
                                                            tmp_path_factory):
    """Routes across the cores of a random mesh, random delays, noise on every core,
    timing on: spikes, registers, overflow counts and every cycle of every tick."""
    case = chip_case(seed, spec, table)
    path = tmp_path_factory.mktemp("chip") / "state.npz"
    chip, inputs = build_chip(case)
    want = chip.run(inputs.shape[0], inputs, RECORD, backend="numpy")
    want_end = chip.checkpoint(note="test")
    for backends in PAIRS:
        recs, end = run_chip_split(case, backends, path, use_file)
        what = "/".join(backends)
        got = concatenated(recs, RECORD)
        for name in RECORD:
            assert_same_array(got[name], want[name], f"{what} {name}")
        assert_same_timing(recs[0].timing + recs[1].timing, want.timing, what)
        assert recs[1].overflow == want.overflow, what
        assert end == want_end, f"{what}: final state differs in {end.differences(want_end)}"


def fixed_chip(seed: int = 3) -> Chip:
    """Four cores, routes to every core with delays 1-7, noise, adaptation, refractory
    periods: packets in flight at any tick."""
    from neurochip.hardware.routing import RoutingTable
    from neurochip.hardware.synapses import SynapseMemory

    rng = np.random.default_rng(seed)
    n, axons = 8, 8
    configs = []
    for c in range(4):
        params = LIF.params_type.make(
            n, v_th=rng.integers(40, 200, n), bias=rng.integers(0, 30, n),
            noise_bits=rng.integers(0, 5, n), alpha=rng.integers(0, 20, n), k_theta=3,
            t_ref=rng.integers(0, 4, n))
        synapses = SynapseMemory.from_lists(axons, rng.integers(0, axons, 30),
                                            rng.integers(0, n, 30), rng.integers(-40, 90, 30))
        routes = RoutingTable.from_lists(n, rng.integers(0, n, 24), rng.integers(0, axons, 24),
                                         rng.integers(1, 8, 24), rng.integers(0, 4, 24))
        configs.append(CoreConfig(params, synapses, routes, int(rng.integers(1, 1 << 32))))
    spec = ChipSpec(2, 2, core=CoreSpec(n_slots=n, n_axons=axons, delay_bits=3))
    return Chip(spec, configs)


def test_a_checkpoint_holds_pending_events_and_lfsr_lanes():
    chip = fixed_chip()
    chip.run(17, backend="numpy")
    saved = chip.checkpoint()
    assert saved.tick == 17 and saved.pending_count.sum() > 0
    assert saved.lfsr.size == chip.n and saved.lfsr.dtype == np.uint64
    assert np.unique(saved.pending_tick).size > 1  # several delays in flight
    assert (np.diff(saved.pending_tick) >= 0).all()
    # the state setter alone (registers only) is not enough: the run differs without
    # the pending events and the LFSR lanes
    only_registers = fixed_chip()
    only_registers.state = chip.state
    assert not np.array_equal(only_registers.run(30, backend="numpy").spikes,
                              chip.run(30, backend="numpy").spikes)


def test_compiled_networks_resume_with_their_inputs_and_bias_schedule(tmp_path):
    """The example netlist (Poisson, spike, dc and step inputs; the step rewrites bias
    registers at tick 200) in every dialect: split at ticks across and at the step."""
    ex = expand(load_netlist(EXAMPLE))
    for dialect, backend in (("lif", "compiled"), ("loihi", "compiled"), ("xylo", "numpy")):
        spec = ChipSpec(2, 2, core=dialect_spec(dialect, roomy_core_spec(25, 4)))
        record = ("spikes", "v")
        want = compile_netlist(ex, spec).run(260, record=record, backend=backend)
        for k in (130, 200, 230):
            first = compile_netlist(ex, spec)
            head = first.run(k, record=record, backend=backend)
            path = tmp_path / f"{dialect}-{k}.npz"
            first.checkpoint().save(path)
            second = compile_netlist(ex, spec)
            second.restore(path)
            tail = second.run(260 - k, record=record, backend=backend)
            assert tail.start_tick == k
            for name in record:
                assert_same_array(np.concatenate([head[name], tail[name]]), want[name],
                                  f"{dialect} split at {k}: {name}")
            assert tail.overflow == want.overflow


# ----------------------------------------------------------------- pickling

def test_a_pickled_chip_runs_on_identically():
    chip = fixed_chip()
    chip.run(11, backend="compiled")  # a compiled run first: nothing cached breaks pickling
    clone = pickle.loads(pickle.dumps(chip))
    assert clone.model is LIF and clone.t == 11
    assert clone.checkpoint() == chip.checkpoint()
    for backend in ("numpy", "compiled"):
        a, b = chip.run(25, record=RECORD, backend=backend), \
            clone.run(25, record=RECORD, backend=backend)
        for name in RECORD:
            assert_same_array(b[name], a[name], f"{backend} {name}")
        assert_same_timing(b.timing, a.timing, backend)
    assert clone.checkpoint() == chip.checkpoint()


def test_cores_checkpoints_and_unregistered_models_pickle():
    core = Core(CoreSpec(n_slots=4, n_axons=4), LIF.params_type.make(4, bias=50, v_th=300,
                                                                      noise_bits=3))
    core.run(9, backend="numpy")
    clone = pickle.loads(pickle.dumps(core))
    assert_same_array(clone.run(20, backend="numpy").spikes, core.run(20, backend="numpy").spikes,
                      "core")
    saved = core.checkpoint(by="me")
    assert pickle.loads(pickle.dumps(saved)) == saved
    qif = Core(CoreSpec(n_slots=3, n_axons=3), QifParams.make(3), model=QIF)
    copy = pickle.loads(pickle.dumps(qif))  # not registered: pickled field by field
    assert copy.model.name == "qif" and copy.model.step is QIF.step


# ----------------------------------------------------------------- refusals

def test_restoring_onto_another_configuration_is_refused_naming_it():
    chip = fixed_chip()
    chip.run(12, backend="numpy")
    saved = chip.checkpoint()
    other = fixed_chip(seed=4)
    before = other.checkpoint()
    with pytest.raises(CheckpointError) as error:
        other.restore(saved)
    message = str(error.value)
    assert "\n" not in message and "params differ" in message and "synapses differ" in message
    assert other.checkpoint() == before  # refused: nothing changed
    reseeded = Chip(chip.spec, [dataclasses.replace(c, lfsr_seed=c.lfsr_seed + 1)
                                for c in chip.configs])
    with pytest.raises(CheckpointError, match=r"lfsr_seeds differ$"):
        reseeded.restore(saved)
    wider = Chip(dataclasses.replace(chip.spec, core=chip.spec.core.replace(v_bits=20)),
                 chip.configs)
    with pytest.raises(CheckpointError, match=r"spec\.core\.v_bits 16 there, 20 here"):
        wider.restore(saved)
    timed = Chip(dataclasses.replace(chip.spec, timing=dataclasses.replace(
        chip.spec.timing, hop_x=5)), chip.configs)
    with pytest.raises(CheckpointError, match=r"spec\.timing\.hop_x 1 there, 5 here"):
        timed.restore(saved)
    core = Core(CoreSpec(n_slots=4, n_axons=4), LIF.params_type.make(4))
    with pytest.raises(CheckpointError, match="kind Chip there, Core here"):
        core.restore(saved)


def test_files_that_are_not_checkpoints_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        Checkpoint.load(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="not a neurochip checkpoint"):
        Checkpoint.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", x=np.arange(3))
    with pytest.raises(CheckpointError, match="not a neurochip checkpoint"):
        Checkpoint.load(tmp_path / "other.npz")
    np.savez(tmp_path / "newer.npz", format=np.array(FORMAT), version=np.array(99))
    with pytest.raises(CheckpointError, match="format version 99; this neurochip reads "
                                              "version 1"):
        Checkpoint.load(tmp_path / "newer.npz")
    chip = fixed_chip()
    path = tmp_path / "state.npz"
    chip.checkpoint().save(path)
    with pytest.raises(CheckpointError, match="exists"):
        chip.checkpoint().save(path, overwrite=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_broken_pending_events_are_refused_and_change_nothing():
    chip = fixed_chip()
    chip.run(5, backend="numpy")
    saved = chip.checkpoint()
    late = dataclasses.replace(saved, pending_tick=saved.pending_tick + 8)
    with pytest.raises(CheckpointError, match=r"pending event tick \d+ outside 5\.\.12"):
        chip.restore(late)
    bad_state = dataclasses.replace(saved, state={**saved.state, "v": saved.state["v"] * 0
                                                  + 40000})
    with pytest.raises(CheckpointError, match="state.v=40000 outside"):
        chip.restore(bad_state)
    assert chip.checkpoint() == saved


def test_checkpoints_are_immutable():
    saved = fixed_chip().checkpoint()
    with pytest.raises(dataclasses.FrozenInstanceError):
        saved.tick = 3
    with pytest.raises(ValueError):
        saved.state["v"][0] = 1
    with pytest.raises(TypeError):
        saved.state["v"] = np.zeros(32)
    with pytest.raises(ValueError):
        saved.lfsr[0] = 1


# ----------------------------------------------------------------- command line

def test_cli_resume_gives_the_last_ticks_of_the_long_run(tmp_path):
    run = ("run", str(EXAMPLE), "--quiet")
    full = neurochip(*run, "--ticks", "200", "--out", "full.npz", cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    first = neurochip(*run, "--ticks", "100", "--save-state", "s.npz", "--backend", "numpy",
                      cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"state: {tmp_path / 's.npz'} (tick 100)" in first.stdout
    second = neurochip(*run, "--resume", "s.npz", "--ticks", "100", "--out", "b.npz",
                       "--save-state", "s2.npz", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    with np.load(tmp_path / "full.npz") as a, np.load(tmp_path / "b.npz") as b:
        assert int(b["start_tick"]) == 100
        compared = [key for key in b.files if key in a.files and b[key].ndim == 2]
        assert "exc.spikes" in compared and "registers.v" in compared
        for key in compared:
            assert_same_array(b[key], a[key][100:], key)
    assert Checkpoint.load(tmp_path / "s2.npz").tick == 200


def test_cli_refusals(tmp_path):
    run = ("run", str(EXAMPLE), "--quiet", "--ticks", "20")
    assert neurochip(*run, "--save-state", "s.npz", cwd=tmp_path).returncode == 0

    def refused(*args, says: str):
        result = neurochip(*run, *args, cwd=tmp_path)
        assert result.returncode == 2, (result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
        assert "emulator:" not in result.stdout  # refused before the run

    refused("--save-state", "s.npz", says="s.npz exists; pass --force")
    refused("--save-state", str(tmp_path / "no" / "s.npz"), says="no folder")
    refused("--save-state", "s.txt", says="must name a .npz file")
    refused("--resume", "missing.npz", says="no such checkpoint file")
    refused("--resume", "s.npz", "--v-bits", "12",
            says="spec.core.v_bits 16 there, 12 here")
    other = tmp_path / "other.toml"
    other.write_text(EXAMPLE.read_text().replace("seed = 11", "seed = 21"))
    result = neurochip("run", str(other), "--quiet", "--resume", "s.npz", cwd=tmp_path)
    assert result.returncode == 2 and "saved by a run of balanced.toml" in result.stderr
    assert "synapses differ" in result.stderr and result.stderr.count("\n") == 1
    refused("--resume", "s.npz", "--float", says="the float reference has no chip state")
    forced = neurochip(*run, "--save-state", "s.npz", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
