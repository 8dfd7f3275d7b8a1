"""Error paths of CoreSpec, parameters, synapse memory, routing, Core, with exact messages.

Every refusal must name what is wrong and where (core, slot, axon, entry, field, value,
range); a strict-mode overflow names core, slot, register and tick.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from firmware_models.lif import LifParams, LifState
from neurochip import (Core, CoreSpec, RegisterOverflowError, RoutingTable, SpecError,
                       SynapseMemory)


def exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


# ----------------------------------------------------------------- CoreSpec

WIDTHS = [("i_bits", 2, 32), ("v_bits", 3, 32), ("theta_bits", 1, 32), ("ref_bits", 1, 16),
          ("w_bits", 2, 16), ("w_exp_bits", 0, 4), ("delay_bits", 1, 8),
          ("shift_bits", 1, 5), ("noise_bits_max", 0, 31)]


@pytest.mark.parametrize("name,lo,hi", WIDTHS)
def test_spec_width_ranges(name, lo, hi):
    assert getattr(CoreSpec(**{name: lo}), name) == lo
    assert getattr(CoreSpec(**{name: hi}), name) == hi
    for bad in (lo - 1, hi + 1):
        with pytest.raises(SpecError, match=exactly(
                f"CoreSpec.{name} must be an integer in {lo}..{hi}, got {bad}")):
            CoreSpec(**{name: bad})
    with pytest.raises(SpecError, match=exactly(
            f"CoreSpec.{name} must be an integer in {lo}..{hi}, got {float(hi)!r}")):
        CoreSpec(**{name: float(hi)})


@pytest.mark.parametrize("name", ["n_slots", "n_axons", "synapse_words", "routing_entries",
                                  "max_fanout"])
@pytest.mark.parametrize("bad", [0, -3, 2.5, "8"])
def test_spec_capacities_positive(name, bad):
    with pytest.raises(SpecError, match=exactly(
            f"CoreSpec.{name} must be a positive integer, got {bad!r}")):
        CoreSpec(**{name: bad})


@pytest.mark.parametrize("name,allowed,bad", [
    ("overflow", ("saturate", "wrap"), "clip"),
    ("rounding", ("floor", "nearest", "zero"), "up"),
    ("overflow_check", ("off", "count", "strict"), "raise")])
def test_spec_modes(name, allowed, bad):
    with pytest.raises(SpecError, match=exactly(
            f"CoreSpec.{name} must be one of {allowed}, got {bad!r}")):
        CoreSpec(**{name: bad})


def test_spec_replace_unknown_field():
    with pytest.raises(SpecError, match=exactly("CoreSpec has no field(s) ['foo', 'v_width']")):
        CoreSpec().replace(v_width=8, foo=1)
    with pytest.raises(SpecError, match=r"CoreSpec\.v_bits must be an integer in 3\.\.32, got 40"):
        CoreSpec().replace(v_bits=40)


def test_spec_error_is_value_error():
    assert issubclass(SpecError, ValueError)


# ----------------------------------------------------------------- parameters

SPEC = CoreSpec(n_slots=8, n_axons=4, v_bits=12, theta_bits=6, ref_bits=3, shift_bits=4,
                noise_bits_max=12)
# field: (out-of-range value, lo, hi, bits, kind) for SPEC, from the CoreSpec docstring
PARAM_CASES = [
    ("k_i", 16, 0, 15, 4, "unsigned"), ("k_v", -1, 0, 15, 4, "unsigned"),
    ("k_theta", 16, 0, 15, 4, "unsigned"), ("bias", 2048, -2048, 2047, 12, "signed"),
    ("bias", -2049, -2048, 2047, 12, "signed"), ("v_th", 2048, 0, 2047, 11, "unsigned"),
    ("v_th", -1, 0, 2047, 11, "unsigned"), ("v_reset", -2049, -2048, 2047, 12, "signed"),
    ("t_ref", 8, 0, 7, 3, "unsigned"), ("alpha", 64, 0, 63, 6, "unsigned"),
    ("reset_mode", 3, 0, 2, 2, "unsigned"), ("reset_mode", -1, 0, 2, 2, "unsigned"),
    ("noise_bits", 16, 0, 15, 4, "unsigned"), ("noise_shift", 16, 0, 15, 4, "unsigned"),
]


@pytest.mark.parametrize("name,value,lo,hi,bits,kind", PARAM_CASES)
def test_params_outside_their_fields(name, value, lo, hi, bits, kind):
    params = LifParams.make(5, **{name: [0, 0, value, 0, value]})
    with pytest.raises(SpecError, match=exactly(
            f"core 3, slot 2: parameter {name}={value} outside {lo}..{hi} ({bits}-bit {kind})")):
        Core(SPEC, params, core_id=3)
    # the ends of the range are accepted (noise_bits is further capped by noise_bits_max)
    top = min(hi, SPEC.noise_bits_max) if name == "noise_bits" else hi
    for ok in (lo, top):
        Core(SPEC, LifParams.make(5, **{name: ok}), core_id=3)


def test_noise_bits_beyond_spec_maximum():
    params = LifParams.make(4, noise_bits=[0, 0, 13, 0])
    with pytest.raises(SpecError, match=exactly(
            "core 1, slot 2: parameter noise_bits=13 exceeds noise_bits_max=12")):
        Core(SPEC, params, core_id=1)
    Core(SPEC, LifParams.make(4, noise_bits=12), core_id=1)


def test_more_neurons_than_slots():
    with pytest.raises(SpecError, match=exactly(
            "core 2: 9 neurons, capacity n_slots=8 (short by 1)")):
        Core(SPEC, LifParams.make(9), core_id=2)


def test_lifparams_make_errors():
    with pytest.raises(ValueError, match=r"reset_mode must be one of \('value', 'subtract', "
                                         r"'none'\), got 'hold'"):
        LifParams.make(2, reset_mode=["value", "hold"])
    with pytest.raises(ValueError, match=r"LifParams\.bias must be integers, got 1\.5"):
        LifParams.make(2, bias=1.5)
    with pytest.raises(ValueError, match=r"LifParams\.k_v has shape \(3,\), expected a scalar "
                                         r"or \(2,\)"):
        LifParams.make(2, k_v=[1, 2, 3])


# ----------------------------------------------------------------- synapse memory

def test_synapse_words_beyond_capacity():
    spec = SPEC.replace(synapse_words=3)
    syn = SynapseMemory.from_lists(4, [0, 1, 1, 3], [0, 1, 2, 3], [1, 1, 1, 1])
    with pytest.raises(SpecError, match=exactly(
            "core 4 synapse memory: 4 synapse words, capacity synapse_words=3 (short by 1)")):
        Core(spec, LifParams.make(4), syn, core_id=4)


def test_synapse_axons_beyond_capacity():
    syn = SynapseMemory.from_lists(5, [4], [0], [1])
    with pytest.raises(SpecError, match=exactly(
            "core 0 synapse memory: 5 axons, capacity n_axons=4")):
        Core(SPEC, LifParams.make(4), syn)


def test_synapse_slot_out_of_range():
    syn = SynapseMemory.from_lists(4, [2, 0, 2], [1, 0, 3], [1, 1, 1])
    # words sorted by axon: axon 0 -> word 0; axon 2 -> words 1, 2 (slot 3 is word 2)
    with pytest.raises(SpecError, match=r"^core 0 synapse memory, axon 2 word \d: slot=3 "
                                        r"outside 0\.\.2$"):
        Core(SPEC, LifParams.make(3), syn)
    syn = SynapseMemory.from_lists(4, [0], [-1], [1])
    with pytest.raises(SpecError, match=exactly(
            "core 0 synapse memory, axon 0 word 0: slot=-1 outside 0..2")):
        Core(SPEC, LifParams.make(3), syn)


@pytest.mark.parametrize("w_bits,w", [(8, 128), (8, -129), (2, 2), (2, -3), (16, 32768)])
def test_synapse_weight_beyond_w_bits(w_bits, w):
    spec = SPEC.replace(w_bits=w_bits)
    lo, hi = -(1 << (w_bits - 1)), (1 << (w_bits - 1)) - 1
    syn = SynapseMemory.from_lists(4, [1], [0], [w])
    with pytest.raises(SpecError, match=exactly(
            f"core 0 synapse memory, axon 1 word 0: w={w} outside {lo}..{hi}")):
        Core(spec, LifParams.make(2), syn)
    Core(spec, LifParams.make(2), SynapseMemory.from_lists(4, [1, 1], [0, 1], [lo, hi]))


def test_synapse_exponent_beyond_w_exp_bits():
    syn = SynapseMemory.from_lists(4, [1], [0], [1], w_exp=[0, 0, 8, 0])
    with pytest.raises(SpecError, match=exactly(
            "core 0 synapse memory, axon 2: w_exp=8 outside 0..7")):
        Core(SPEC, LifParams.make(2), syn)


def test_synapse_from_lists_errors():
    with pytest.raises(SpecError, match=exactly("synapse names axon 4, outside 0..3")):
        SynapseMemory.from_lists(4, [0, 4], [0, 0], [1, 1])
    with pytest.raises(SpecError, match=exactly(
            "synapse lists differ in length: axon 2, slot 2, w 1")):
        SynapseMemory.from_lists(4, [0, 1], [0, 0], [1])


# ----------------------------------------------------------------- routing table

@pytest.mark.parametrize("delay_bits,delay,hi", [(4, 0, 15), (4, 16, 15), (1, 2, 1),
                                                 (1, 0, 1), (8, 256, 255)])
def test_routing_delay_out_of_range(delay_bits, delay, hi):
    spec = SPEC.replace(delay_bits=delay_bits)
    routes = RoutingTable.from_lists(3, [0, 1, 1], [0, 1, 2], [1, 1, delay])
    with pytest.raises(SpecError, match=exactly(
            f"core 0 routing table, slot 1 entry 1: delay={delay} outside 1..{hi}")):
        Core(spec, LifParams.make(3), routes=routes)
    Core(spec, LifParams.make(3), routes=RoutingTable.from_lists(3, [0, 1], [0, 1], [1, hi]))


def test_routing_fanout_over_max():
    spec = SPEC.replace(max_fanout=2)
    routes = RoutingTable.from_lists(3, [2, 0, 2, 2], [0, 1, 2, 3], 1)
    with pytest.raises(SpecError, match=exactly(
            "core 6 routing table, slot 2: fan-out 3 exceeds max_fanout=2")):
        Core(spec, LifParams.make(3), routes=routes, core_id=6)


def test_routing_entries_beyond_capacity():
    spec = SPEC.replace(routing_entries=2)
    routes = RoutingTable.from_lists(3, [0, 1, 2], [0, 1, 2], 1)
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table: 3 entries, capacity routing_entries=2 (short by 1)")):
        Core(spec, LifParams.make(3), routes=routes)


def test_route_to_another_core_on_standalone_core():
    routes = RoutingTable.from_lists(3, [0, 2], [0, 1], 1, core=[0, 1])
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table, slot 2 entry 0: core=1 outside 0..0")):
        Core(SPEC, LifParams.make(3), routes=routes)


def test_route_to_missing_axon():
    routes = RoutingTable.from_lists(3, [1], [4], 1)
    with pytest.raises(SpecError, match=exactly(
            "core 0 routing table, slot 1 entry 0: axon=4 outside 0..3")):
        Core(SPEC, LifParams.make(3), routes=routes)


def test_routing_table_for_other_slot_count():
    routes = RoutingTable.from_lists(4, [0], [0], 1)
    with pytest.raises(SpecError, match=exactly(
            "core 0: routing table has 4 slots, the core has 3")):
        Core(SPEC, LifParams.make(3), routes=routes)
    with pytest.raises(SpecError, match=exactly("routing entry for slot 3, outside 0..2")):
        RoutingTable.from_lists(3, [0, 3], [0, 0], 1)


# ----------------------------------------------------------------- inject, run, state

def test_inject_outside_buffer_horizon():
    core = Core(SPEC, LifParams.make(2))  # delay_bits 4: the buffer holds 16 ticks
    core.inject([0], 15)
    with pytest.raises(SpecError, match=exactly(
            "core 0: cannot inject for tick 16; the axon buffer holds ticks 0..15")):
        core.inject([0], 16)
    core.run(5)
    core.inject([1], 5)
    core.inject([1], 20)
    for tick in (4, 21, -1):
        with pytest.raises(SpecError, match=exactly(
                f"core 0: cannot inject for tick {tick}; the axon buffer holds ticks 5..20")):
            core.inject([1], tick)
    short = Core(SPEC.replace(delay_bits=1), LifParams.make(1), core_id=7)
    with pytest.raises(SpecError, match=exactly(
            "core 7: cannot inject for tick 2; the axon buffer holds ticks 0..1")):
        short.inject([0], 2)


def test_inject_axon_out_of_range():
    core = Core(SPEC, LifParams.make(2))
    for axon in (4, -1):
        with pytest.raises(SpecError, match=exactly(f"core 0: axon {axon} outside 0..3")):
            core.inject([0, axon], 1)


@pytest.mark.parametrize("shape", [(5, 3), (4, 4), (5,), (5, 4, 1)])
def test_run_inputs_wrong_shape(shape):
    core = Core(SPEC, LifParams.make(2))
    with pytest.raises(SpecError, match=exactly(
            f"inputs have shape {shape}, expected (5, 4) (ticks × axons)")):
        core.run(5, inputs=np.zeros(shape, dtype=np.int64))
    assert core.t == 0


def test_run_unknown_record():
    core = Core(SPEC, LifParams.make(2))
    with pytest.raises(SpecError, match=exactly(
            "cannot record 'w'; choose from ('spikes', 'v', 'i', 'theta', 'ref')")):
        core.run(3, record=("spikes", "w"))


@pytest.mark.parametrize("name,value,lo,hi", [
    ("v", 2048, -2048, 2047), ("v", -2049, -2048, 2047), ("i", 32768, -32768, 32767),
    ("theta", -1, 0, 63), ("theta", 64, 0, 63), ("ref", 8, 0, 7), ("ref", -1, 0, 7)])
def test_state_set_out_of_range(name, value, lo, hi):
    core = Core(SPEC, LifParams.make(3), core_id=2)
    registers = {f: np.zeros(3, dtype=np.int64) for f in ("i", "v", "theta", "ref")}
    registers[name][1] = value
    with pytest.raises(SpecError, match=exactly(
            f"core 2, slot 1: state.{name}={value} outside {lo}..{hi}")):
        core.state = LifState(**registers)
    registers[name][1] = hi
    core.state = LifState(**registers)
    assert core.state.__getattribute__(name).tolist() == [0, hi, 0]


def test_state_set_wrong_shape():
    core = Core(SPEC, LifParams.make(2))
    with pytest.raises(SpecError, match=exactly(
            "core 0: state.i has shape (3,), expected (2,)")):
        core.state = LifState(np.zeros(3), np.zeros(2), np.zeros(2), np.zeros(2))


# ----------------------------------------------------------------- strict overflow in a run

def test_strict_v_overflow_names_core_slot_register_tick():
    """8-bit v, leak off (k_v = 31), slot 1 integrates bias 50: v = 50, 100, 150 -> tick 2."""
    spec = CoreSpec(n_slots=3, n_axons=1, v_bits=8, overflow_check="strict")
    params = LifParams.make(3, k_v=31, bias=[0, 50, 20], v_th=127)
    core = Core(spec, params, core_id=5)
    with pytest.raises(RegisterOverflowError, match=exactly(
            "core 5, slot 1: register 'v' overflowed at tick 2: value 150 outside "
            "[-128, 127] (8-bit signed)")) as info:
        core.run(10, record=("v",))
    assert (info.value.core, info.value.slot, info.value.register, info.value.tick,
            info.value.value) == (5, 1, "v", 2, 150)
    assert core.t == 2  # ticks 0 and 1 completed
    assert core.state.v.tolist() == [0, 100, 40]
    # the same network with count: saturates at 127 and fires (v_th 127), counted once
    counted = Core(spec.replace(overflow_check="count"), params, core_id=5)
    rec = counted.run(3, record=("v", "spikes"))
    assert rec["v"][:, 1].tolist() == [50, 100, 0]
    assert rec.spikes[:, 1].tolist() == [False, False, True]
    assert counted.overflow_counts == {"acc": 0, "i": 0, "v": 1, "theta": 0, "ref": 0}
    assert rec.overflow == counted.overflow_counts


def test_strict_acc_overflow_from_inputs():
    """8-bit i: two events of weight 100 on slot 2 at tick 3 make acc 200."""
    spec = CoreSpec(n_slots=3, n_axons=2, i_bits=8, overflow_check="strict")
    syn = SynapseMemory.from_lists(2, [0, 1], [2, 0], [100, 100])
    core = Core(spec, LifParams.make(3), syn)
    inputs = np.zeros((6, 2), dtype=np.int64)
    inputs[1, 0] = 1
    inputs[3, 0] = 2
    with pytest.raises(RegisterOverflowError, match=exactly(
            "core 0, slot 2: register 'acc' overflowed at tick 3: value 200 outside "
            "[-128, 127] (8-bit signed)")):
        core.run(6, inputs=inputs)


def test_strict_theta_overflow():
    """4-bit theta, alpha 10, no decay: fires at ticks 0 and 1; theta 10 + 10 = 20 at tick 1."""
    spec = CoreSpec(n_slots=2, n_axons=1, theta_bits=4, overflow_check="strict")
    params = LifParams.make(2, k_v=0, k_theta=31, v_th=[0, 2047], bias=[100, 0], alpha=10)
    core = Core(spec, params)
    with pytest.raises(RegisterOverflowError, match=exactly(
            "core 0, slot 0: register 'theta' overflowed at tick 1: value 20 outside "
            "[0, 15] (4-bit unsigned)")):
        core.run(4)


def test_strict_reports_earlier_register_first():
    """Same tick: slot 0 overflows v, slot 1 overflows acc; acc is written first."""
    spec = CoreSpec(n_slots=2, n_axons=1, i_bits=8, v_bits=8, overflow_check="strict")
    syn = SynapseMemory.from_lists(1, [0, 0], [1, 1], [100, 100])
    params = LifParams.make(2, k_v=31, bias=[127, 0], v_th=127, reset_mode="none")
    core = Core(spec, params, syn)
    core.inject([0], 1)
    # tick 0: slot 0 v = 127 fires (reset none); tick 1: slot 0 v = 254, slot 1 acc = 200
    with pytest.raises(RegisterOverflowError, match=r"^core 0, slot 1: register 'acc' "
                                                    r"overflowed at tick 1: value 200 "):
        core.run(3)


# ----------------------------------------------------------------- event counts

def test_negative_event_counts_are_refused():
    spec = CoreSpec(n_slots=1, n_axons=2)
    syn = SynapseMemory.from_lists(2, [0, 1], [0, 0], [10, 1])
    core = Core(spec, LifParams.make(1, k_i=0, v_th=32767), syn)
    with pytest.raises(SpecError, match=r"^inputs: event counts must be >= 0, got -1$"):
        core.run(1, inputs=np.array([[-1, 1]]), record=("i",))
    with pytest.raises(SpecError, match=r"^core 0: event counts must be >= 0, got -2$"):
        core.inject([1], 0, counts=-2)


def test_fractional_event_counts_are_refused():
    spec = CoreSpec(n_slots=1, n_axons=2)
    syn = SynapseMemory.from_lists(2, [0], [0], [10])
    core = Core(spec, LifParams.make(1, k_i=0, v_th=32767), syn)
    with pytest.raises(SpecError, match=r"^inputs: event counts must be whole numbers, "
                                        r"got 0\.5$"):
        core.run(2, inputs=np.array([[0.5, 0], [1.7, 0]]))
    with pytest.raises(SpecError, match=r"whole numbers, got 1\.5"):
        core.inject([0], 0, counts=1.5)


def test_a_core_refuses_an_lfsr_seed_that_locks_or_does_not_fit():
    for params in (LifParams.make(2, noise_bits=[0, 3]), LifParams.make(2)):
        for seed in (0, 2 ** 32):
            with pytest.raises(SpecError, match=exactly(
                    f"core 0: lfsr_seed must be in 1..2**32-1 (zero locks the LFSR), "
                    f"got {seed}")):
                Core(SPEC, params, lfsr_seed=seed)


def test_inject_refuses_non_integer_ticks_and_axons():
    core = Core(SPEC, LifParams.make(2))
    with pytest.raises(SpecError, match=exactly(
            "core 0: the arrival tick must be an integer, got 3.0")):
        core.inject([0], 3.0)
    with pytest.raises(SpecError, match=exactly(
            "core 0: axons must be integers, got dtype float64")):
        core.inject(np.array([0.5]), 0)


def test_state_refuses_non_integer_registers():
    core = Core(SPEC, LifParams.make(2))
    state = core.state
    with pytest.raises(SpecError, match=exactly(
            "core 0: state.i must be integers, got dtype float64")):
        core.state = type(state)(np.array([0.7, -1.9]), state.v, state.theta, state.ref)


def test_corespec_takes_numpy_integers_and_refuses_bools():
    spec = CoreSpec(v_bits=np.int64(12), n_slots=np.int32(5))
    assert spec.v_bits == 12 and type(spec.v_bits) is int and spec.n_slots == 5
    with pytest.raises(SpecError, match=exactly(
            "CoreSpec.ref_bits must be an integer in 1..16, got True")):
        CoreSpec(ref_bits=True)


def test_synapse_error_names_the_word_within_its_row():
    spec = CoreSpec(n_slots=3, n_axons=3)
    syn = SynapseMemory.from_lists(3, [2, 0, 2], [1, 0, 3], [1, 1, 1])
    with pytest.raises(SpecError, match=exactly(
            "core 0 synapse memory, axon 2 word 1: slot=3 outside 0..2")):
        Core(spec, LifParams.make(3), syn)
