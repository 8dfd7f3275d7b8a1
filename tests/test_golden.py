"""Golden vectors: tick-by-tick register values derived by hand (docs/golden-vectors.md).

Every expected list below was typed in from the hand derivation in
``docs/golden-vectors.md`` (section letters match); none was produced by running the
emulator. The LFSR words of section f were computed with a ten-line re-implementation of
the documented clock rule that does not import ``neurochip`` (shown in the doc). Each
test builds a ``Core``, runs it recording every register, and compares exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware_models.lif import LifParams
from firmware_models.lif.kernel import LifState
from neurochip import (Core, CoreSpec, RegisterOverflowError, RoutingTable, SpecError,
                       SynapseMemory)

RECORD = ("spikes", "v", "i", "theta", "ref")
HIGH = 30000  # a threshold no sequence here reaches (v_th is 15-bit unsigned by default)


def run_core(core: Core, ticks: int):
    return core.run(ticks, record=RECORD)


def check(rec, slot: int, expected: dict[str, list[int]], label: str = "") -> None:
    """Compare the traces of ``slot`` with hand-derived lists (``spikes`` as tick indices)."""
    for name, values in expected.items():
        if name == "spikes":
            got = [int(t) for t in np.flatnonzero(rec["spikes"][:, slot])]
        else:
            got = [int(x) for x in rec[name][:, slot]]
        assert got == list(values), (
            f"{label} slot {slot} register {name}:\n  hand derivation {list(values)}\n"
            f"  emulator        {got}")


# ---------------------------------------------------------------------------------------
# a. impulse response: one synaptic event, w = +64 (slot 0) and w = -64 (slot 1), w_exp = 1
# ---------------------------------------------------------------------------------------

IMPULSE = {
    # rounding: (slot 0 with w = +64, slot 1 with w = -64)
    "floor": (
        dict(i=[128, 96, 72, 54, 41, 31, 24, 18, 14, 11],
             v=[128, 208, 254, 277, 284, 280, 269, 254, 237, 219]),
        dict(i=[-128, -96, -72, -54, -40, -30, -22, -16, -12, -9],
             v=[-128, -208, -254, -276, -281, -275, -262, -245, -226, -206]),
    ),
    "nearest": (
        dict(i=[128, 96, 72, 54, 40, 30, 22, 16, 12, 9],
             v=[128, 208, 254, 276, 281, 276, 263, 246, 227, 208]),
        dict(i=[-128, -96, -72, -54, -40, -30, -22, -16, -12, -9],
             v=[-128, -208, -254, -276, -281, -276, -263, -246, -227, -208]),
    ),
    "zero": (
        dict(i=[128, 96, 72, 54, 41, 31, 24, 18, 14, 11],
             v=[128, 208, 254, 277, 284, 280, 269, 254, 237, 219]),
        dict(i=[-128, -96, -72, -54, -41, -31, -24, -18, -14, -11],
             v=[-128, -208, -254, -277, -284, -280, -269, -254, -237, -219]),
    ),
}


@pytest.mark.parametrize("rounding", ["floor", "nearest", "zero"])
def test_a_impulse_response(rounding):
    spec = CoreSpec(rounding=rounding)
    params = LifParams.make(2, k_i=2, k_v=3, v_th=HIGH)
    synapses = SynapseMemory.from_lists(1, axon=[0, 0], slot=[0, 1], w=[64, -64], w_exp=1)
    core = Core(spec, params, synapses)
    core.inject([0], tick=0)
    rec = run_core(core, 10)
    for slot, expected in enumerate(IMPULSE[rounding]):
        check(rec, slot, dict(expected, spikes=[], theta=[0] * 10, ref=[0] * 10),
              f"impulse/{rounding}")
    assert rec.overflow == {"acc": 0, "i": 0, "v": 0, "theta": 0, "ref": 0}


def test_a_rounding_modes_differ_where_the_doc_says():
    pos_floor, neg_floor = IMPULSE["floor"]
    pos_zero, neg_zero = IMPULSE["zero"]
    assert pos_floor == pos_zero                       # floor == zero for x >= 0
    assert neg_floor["v"][3] != neg_zero["v"][3]       # first difference: tick 3
    assert neg_zero["v"] == [-x for x in pos_floor["v"]]  # zero is odd-symmetric


# ---------------------------------------------------------------------------------------
# h. leak mantissas: the leak shift(x * m, k), decay 1 - m 2^-k (floor rounding)
# ---------------------------------------------------------------------------------------

def test_h_leak_mantissas():
    """Slot 0: k_v = 3, m_v = 3 (decay 5/8), bias 16: v stops at 43 (float 128/3).
    Slot 1: m_v = 0, no leak: bias -5 adds up exactly. Slot 2: the shift leak k_v = 24
    that stands in for "no leak" takes 1 LSB a tick from a negative v. Slot 3: k_i = 2,
    m_i = 3 (decay 1/4) after one event of 128; v by the plain shift k_v = 3. Slot 4:
    theta from 100 with k_theta = 2, m_theta = 3."""
    params = LifParams.make(5, k_i=[4, 4, 4, 2, 4], m_i=[1, 1, 1, 3, 1],
                            k_v=[3, 4, 24, 3, 4], m_v=[3, 0, 1, 1, 1],
                            k_theta=[6, 6, 6, 6, 2], m_theta=[1, 1, 1, 1, 3],
                            bias=[16, -5, -5, 0, 0], v_th=HIGH)
    synapses = SynapseMemory.from_lists(1, axon=[0], slot=[3], w=[64], w_exp=1)
    core = Core(CoreSpec(), params, synapses)
    zeros = np.zeros(5, np.int64)
    core.state = LifState(zeros, zeros, np.array([0, 0, 0, 0, 100]), zeros)
    core.inject([0], tick=0)
    rec = run_core(core, 10)
    check(rec, 0, dict(v=[16, 26, 33, 37, 40, 41, 42, 43, 43, 43], i=[0] * 10), "m_v = 3")
    check(rec, 1, dict(v=[-5, -10, -15, -20, -25, -30, -35, -40, -45, -50]), "m_v = 0")
    check(rec, 2, dict(v=[-5, -9, -13, -17, -21, -25, -29, -33, -37, -41]), "k_v = 24")
    check(rec, 3, dict(i=[128, 32, 8, 2, 1, 1, 1, 1, 1, 1],
                       v=[128, 144, 134, 120, 106, 94, 84, 75, 67, 60]), "m_i = 3")
    check(rec, 4, dict(theta=[25, 7, 2, 1, 1, 1, 1, 1, 1, 1], v=[0] * 10), "m_theta = 3")
    assert rec.spikes.sum() == 0


# ---------------------------------------------------------------------------------------
# b. refractory: DC bias, reset to value v_reset = -20, t_ref = 3 / 0 / 1
# ---------------------------------------------------------------------------------------

def test_b_refractory_sequence():
    params = LifParams.make(3, k_v=2, bias=40, v_th=100, v_reset=-20, t_ref=[3, 0, 1])
    rec = run_core(Core(CoreSpec(), params), 15)
    check(rec, 0, dict(
        v=[40, 70, 93, -20, -20, -20, -20, 25, 59, 85, -20, -20, -20, -20, 25],
        ref=[0, 0, 0, 3, 2, 1, 0, 0, 0, 0, 3, 2, 1, 0, 0],
        spikes=[3, 10], i=[0] * 15, theta=[0] * 15), "refractory t_ref=3")
    check(rec, 1, dict(
        v=[40, 70, 93, -20, 25, 59, 85, -20, 25, 59, 85, -20, 25, 59, 85],
        ref=[0] * 15, spikes=[3, 7, 11], i=[0] * 15, theta=[0] * 15), "refractory t_ref=0")
    check(rec, 2, dict(
        v=[40, 70, 93, -20, -20, 25, 59, 85, -20, -20, 25, 59, 85, -20, -20],
        ref=[0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0],
        spikes=[3, 8, 13], i=[0] * 15, theta=[0] * 15), "refractory t_ref=1")


# ---------------------------------------------------------------------------------------
# c. adaptation: alpha = 30, k_theta = 4 (slot 0) against alpha = 0 (slot 1)
# ---------------------------------------------------------------------------------------

def test_c_adaptation_sequence():
    params = LifParams.make(2, k_v=2, bias=40, v_th=100, v_reset=0, t_ref=0,
                            k_theta=4, alpha=[30, 0])
    rec = run_core(Core(CoreSpec(), params), 25)
    check(rec, 0, dict(
        v=[40, 70, 93, 0, 40, 70, 93, 110, 123, 0, 40, 70, 93, 110, 123, 133, 0,
           40, 70, 93, 110, 123, 133, 140, 0],
        theta=[0, 0, 0, 30, 29, 28, 27, 26, 25, 54, 51, 48, 45, 43, 41, 39, 67,
               63, 60, 57, 54, 51, 48, 45, 73],
        spikes=[3, 9, 16, 24], i=[0] * 25, ref=[0] * 25), "adaptation alpha=30")
    check(rec, 1, dict(
        v=[40, 70, 93, 0] * 6 + [40],
        theta=[0] * 25, spikes=[3, 7, 11, 15, 19, 23], i=[0] * 25, ref=[0] * 25),
        "adaptation alpha=0")
    spikes = [3, 9, 16, 24]
    assert [b - a for a, b in zip(spikes, spikes[1:])] == [6, 7, 8]


# ---------------------------------------------------------------------------------------
# d. subtract reset (overshoot carried), subtract with t_ref = 2, reset none with t_ref = 2
# ---------------------------------------------------------------------------------------

SUBTRACT = [
    dict(v=[45, 88, 28, 72, 13, 58, 0, 45, 88, 28, 72, 13, 58, 0],
         ref=[0] * 14, spikes=[2, 4, 6, 9, 11, 13]),
    dict(v=[45, 88, 28, 28, 28, 72, 13, 13, 13, 58, 0, 0, 0, 45],
         ref=[0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 2, 1, 0, 0], spikes=[2, 6, 10]),
    dict(v=[45, 88, 128, 128, 128, 165, 165, 165, 200, 200, 200, 233, 233, 233],
         ref=[0, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0], spikes=[2, 5, 8, 11]),
]


@pytest.mark.parametrize("n", [2, 3], ids=["subtract-only", "mixed-with-none"])
def test_d_subtract_reset_sequence(n):
    # n = 2: every slot "subtract" (the single-mode path); n = 3 adds a "none" slot (mixed)
    modes = ["subtract", "subtract", "none"][:n]
    params = LifParams.make(n, k_v=4, bias=45, v_th=100, v_reset=-50,
                            t_ref=[0, 2, 2][:n], reset_mode=modes)
    rec = run_core(Core(CoreSpec(), params), 14)
    for slot in range(n):
        check(rec, slot, dict(SUBTRACT[slot], i=[0] * 14, theta=[0] * 14),
              f"reset {modes[slot]}")


# ---------------------------------------------------------------------------------------
# e. saturate vs wrap at the rails, i_bits = v_bits = 8
# ---------------------------------------------------------------------------------------

RAILS = {
    "saturate": (
        [dict(i=[127, 96], v=[127, 127], spikes=[0, 1]),
         dict(i=[120, 90], v=[127, 127], spikes=[0, 1]),
         dict(i=[-128, -96], v=[-78, -114], spikes=[])],
        {"acc": 2, "i": 0, "v": 4, "theta": 0, "ref": 0},
    ),
    "wrap": (
        [dict(i=[-56, -42], v=[-6, 3], spikes=[]),
         dict(i=[120, 90], v=[-86, 65], spikes=[]),
         dict(i=[56, 42], v=[106, -71], spikes=[])],
        {"acc": 2, "i": 0, "v": 2, "theta": 0, "ref": 0},
    ),
}


def rails_core(overflow: str, check_mode: str = "count") -> Core:
    spec = CoreSpec(i_bits=8, v_bits=8, overflow=overflow, overflow_check=check_mode)
    params = LifParams.make(3, k_i=2, k_v=3, bias=50, v_th=127, reset_mode="none")
    synapses = SynapseMemory.from_lists(1, axon=[0, 0, 0], slot=[0, 1, 2],
                                        w=[100, 60, -100], w_exp=1)
    core = Core(spec, params, synapses)
    core.inject([0], tick=0)
    return core


@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
@pytest.mark.parametrize("check_mode", ["count", "off"])
def test_e_rails(overflow, check_mode):
    core = rails_core(overflow, check_mode)
    rec = run_core(core, 2)
    slots, counts = RAILS[overflow]
    for slot, expected in enumerate(slots):
        check(rec, slot, dict(expected, theta=[0, 0], ref=[0, 0]), f"{overflow}/{check_mode}")
    if check_mode == "off":
        counts = {name: 0 for name in counts}
    assert rec.overflow == counts


def test_e_rails_tick0_counts():
    # after tick 0 alone: saturate counted acc twice (slots 0, 2) and v twice (slots 0, 1);
    # wrap counted acc twice (slots 0, 2) and v once (slot 1)
    for overflow, counts in (("saturate", {"acc": 2, "i": 0, "v": 2, "theta": 0, "ref": 0}),
                             ("wrap", {"acc": 2, "i": 0, "v": 1, "theta": 0, "ref": 0})):
        core = rails_core(overflow)
        core.tick()
        assert core.overflow_counts == counts, overflow


def test_e_rails_strict_raises_on_acc():
    core = rails_core("saturate", "strict")
    with pytest.raises(RegisterOverflowError) as info:
        core.tick()
    err = info.value
    assert (err.core, err.slot, err.register, err.tick, err.value) == (0, 0, "acc", 0, 200)
    assert "outside [-128, 127] (8-bit signed)" in str(err)


# ---------------------------------------------------------------------------------------
# f. noise: 4 slots, LFSR seed 1, noise_bits = 4
# ---------------------------------------------------------------------------------------

# LFSR words (state after 32 * (4 t + j + 1) clocks from seed 1), by the documented rule
WORDS = [[0x8A0F3DB5, 0x90BD2FA6, 0x44C38D95, 0x972542A4],
         [0xCAE5AE48, 0x743CEA61, 0xD57CC71C, 0x875E9ED7]]
NOISE_E0 = [[-3, -2, -3, -4], [0, -7, 4, -1]]  # (word & 15) - 8


def noise_core(noise_bits, noise_shift) -> Core:
    params = LifParams.make(4, k_v=3, v_th=HIGH, noise_bits=noise_bits,
                            noise_shift=noise_shift)
    return Core(CoreSpec(), params, lfsr_seed=1)


def test_f_noise_words_and_values():
    core = noise_core(4, 0)
    for t in range(2):
        assert [int(w) for w in core.lfsr.next_words()] == WORDS[t], f"tick {t}"
    assert [[(w & 15) - 8 for w in row] for row in WORDS] == NOISE_E0


@pytest.mark.parametrize("noise_bits,noise_shift,expected_v", [
    (4, 0, [[-3, -2, -3, -4], [-2, -8, 2, -4]]),
    (4, 2, [[-12, -8, -12, -16], [-10, -35, 6, -18]]),
    ([4, 0, 4, 4], 0, [[-3, 0, -3, -4], [-2, 0, 2, -4]]),
], ids=["m4-e0", "m4-e2", "slot1-off"])
def test_f_noise_sequence(noise_bits, noise_shift, expected_v):
    rec = run_core(noise_core(noise_bits, noise_shift), 2)
    for slot in range(4):
        check(rec, slot, dict(v=[expected_v[0][slot], expected_v[1][slot]], i=[0, 0],
                              theta=[0, 0], ref=[0, 0], spikes=[]), f"noise {noise_shift}")


# ---------------------------------------------------------------------------------------
# g. delays: routes with delay 1, 3, 3 on a delay_bits = 2 core (ring of 4 rows)
# ---------------------------------------------------------------------------------------

def delay_core() -> Core:
    spec = CoreSpec(delay_bits=2)
    params = LifParams.make(2, k_i=[4, 1], k_v=1, bias=[60, 0], v_th=[100, HIGH],
                            t_ref=[15, 0])
    synapses = SynapseMemory.from_lists(1, axon=[0], slot=[1], w=[8], w_exp=0)
    routes = RoutingTable.from_lists(2, slot=[0, 0, 0], axon=0, delay=[1, 3, 3])
    return Core(spec, params, synapses, routes)


def test_g_delays():
    rec = run_core(delay_core(), 9)
    check(rec, 0, dict(v=[60, 90, 0, 0, 0, 0, 0, 0, 0], i=[0] * 9, theta=[0] * 9,
                       ref=[0, 0, 15, 14, 13, 12, 11, 10, 9], spikes=[2]), "delay source")
    check(rec, 1, dict(i=[0, 0, 0, 8, 4, 18, 9, 5, 3], v=[0, 0, 0, 8, 8, 22, 20, 15, 11],
                       theta=[0] * 9, ref=[0] * 9, spikes=[]), "delay target")


def test_g_inject_horizon():
    core = delay_core()  # depth 4: at t = 0 the buffer holds ticks 0..3
    core.inject([0], tick=3)
    with pytest.raises(SpecError):
        core.inject([0], tick=4)


# ---------------------------------------------------------------------------------------
# Refractory hold with subtract reset (tick.md: v keeps the post-reset value)
# ---------------------------------------------------------------------------------------

def test_refractory_holds_value_not_v_reset():
    core = Core(CoreSpec(), LifParams.make(1, v_th=100, v_reset=-50, t_ref=2,
                                           reset_mode="subtract"))
    core.state = LifState(i=np.array([0]), v=np.array([120]), theta=np.array([0]),
                          ref=np.array([0]))
    # tick 0: v = 120 - (120 >> 4) + 0 = 113 >= 100, fire, v = 13, ref = 2; then held
    rec = run_core(core, 3)
    check(rec, 0, dict(v=[13, 13, 13], ref=[2, 1, 0], spikes=[0]), "hold")
