"""An independent scalar oracle of the core's integer arithmetic and of one tick.

Everything here works on plain Python ints (arbitrary precision, no numpy in the
arithmetic) and is written from the mathematical definitions in docs/tick.md, the
module docstrings of ``neurochip.hardware.fixed`` / ``neurochip.hardware.lfsr`` / ``neurochip.hardware.routing`` /
``neurochip.hardware.synapses`` and ``firmware_models.lif.kernel`` -- not by copying their code:

* ``rng``/``saturate``/``wrap``/``overflowed``: N-bit signed (two's complement) and
  unsigned registers;
* ``shift_right``: ``x / 2**k`` rounded ``floor`` / ``nearest`` (halves away from zero) /
  ``zero`` (toward zero), computed with exact ``Fraction`` arithmetic;
* ``lfsr_clock``: one clock of the 32-bit Galois LFSR with taps ``0x80200003``;
* ``lif_tick``: the reference LIF program for ONE slot, in the documented order, with
  the overflow policy (saturate / wrap; check off / count / strict);
* ``ScalarCore``: a whole core -- synapse rows, pending axon events keyed by absolute
  tick, routing entries ``(axon, delay)``, the LFSR clocked serially (slot ``j`` at
  tick ``t`` gets the state after ``32 * (t * n + j + 1)`` clocks from the seed), and a
  Python loop over slots every tick.

It is slow on purpose: it is the oracle the vectorised emulator is checked against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

ROUNDINGS = ("floor", "nearest", "zero")
RESETS = {0: "value", 1: "subtract", 2: "none"}
LFSR_TAPS = 0x80200003


# --------------------------------------------------------------------------- registers

def rng(bits: int, signed: bool) -> tuple[int, int]:
    """Range of a ``bits``-wide register: two's complement when signed."""
    if signed:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2 ** bits - 1


def overflowed(x: int, bits: int, signed: bool) -> bool:
    lo, hi = rng(bits, signed)
    return not (lo <= x <= hi)


def saturate(x: int, bits: int, signed: bool) -> int:
    lo, hi = rng(bits, signed)
    return lo if x < lo else hi if x > hi else x


def wrap(x: int, bits: int, signed: bool) -> int:
    """The value whose low ``bits`` bits equal those of ``x`` (x mod 2**bits, in range)."""
    lo, _ = rng(bits, signed)
    return (x - lo) % (2 ** bits) + lo


def shift_right(x: int, k: int, rounding: str) -> int:
    """``x / 2**k`` rounded as ``rounding`` says, from the exact rational quotient."""
    q = Fraction(x, 2 ** k)
    if rounding == "floor":
        return math.floor(q)
    if rounding == "zero":
        return math.trunc(q)
    if rounding == "nearest":
        magnitude = math.floor(abs(q) + Fraction(1, 2))  # halves go up in magnitude
        return magnitude if q >= 0 else -magnitude
    raise ValueError(rounding)


# --------------------------------------------------------------------------- overflow

@dataclass
class Policy:
    """Register formats and overflow policy of one core (mirrors a ``CoreSpec``)."""

    i_bits: int
    v_bits: int
    theta_bits: int
    ref_bits: int
    overflow: str = "saturate"
    rounding: str = "floor"
    check: str = "count"

    @classmethod
    def of(cls, spec) -> "Policy":
        return cls(spec.i_bits, spec.v_bits, spec.theta_bits, spec.ref_bits,
                   spec.overflow, spec.rounding, spec.overflow_check)

    def fmt(self, register: str) -> tuple[int, bool]:
        return {"acc": (self.i_bits, True), "i": (self.i_bits, True),
                "v": (self.v_bits, True), "theta": (self.theta_bits, False),
                "ref": (self.ref_bits, False)}[register]


# program order of the register writes of one tick; strict mode reports the first
# overflow in (stage, slot) order because every stage runs over all slots at once
STAGES = {"acc": 0, "i": 1, "v": 2, "v_reset": 3, "theta": 4}


@dataclass(frozen=True)
class OverflowEvent:
    stage: int
    slot: int
    register: str
    value: int


def fit(x: int, register: str, policy: Policy, events: list, slot: int,
        stage: str | None = None) -> int:
    bits, signed = policy.fmt(register)
    if not overflowed(x, bits, signed):
        return x
    events.append(OverflowEvent(STAGES[stage or register], slot, register, x))
    if policy.overflow == "saturate":
        return saturate(x, bits, signed)
    if policy.overflow == "wrap":
        return wrap(x, bits, signed)
    raise ValueError(policy.overflow)


class ScalarOverflow(Exception):
    """Strict-mode overflow seen by the oracle: the first event of a tick."""

    def __init__(self, core: int, tick: int, event: OverflowEvent, bits: int, signed: bool):
        self.core, self.tick, self.event, self.bits, self.signed = core, tick, event, bits, signed
        lo, hi = rng(bits, signed)
        kind = "signed" if signed else "unsigned"
        super().__init__(
            f"core {core}, slot {event.slot}: register '{event.register}' overflowed at tick "
            f"{tick}: value {event.value} outside [{lo}, {hi}] ({bits}-bit {kind})")


# --------------------------------------------------------------------------- LIF

@dataclass
class Neuron:
    """Parameters of one slot (plain ints)."""

    k_i: int = 4
    k_v: int = 4
    k_theta: int = 6
    bias: int = 0
    v_th: int = 1000
    v_reset: int = 0
    t_ref: int = 0
    alpha: int = 0
    reset_mode: int = 0
    noise_bits: int = 0
    noise_shift: int = 0
    m_i: int = 1      # leak mantissas: the leak takes shift(x * m, k)
    m_v: int = 1
    m_theta: int = 1


@dataclass
class Regs:
    i: int = 0
    v: int = 0
    theta: int = 0
    ref: int = 0


def noise_of(word: int | None, m: int, e: int) -> int:
    """``((word mod 2**m) - 2**(m-1)) * 2**e``; zero when ``m == 0`` or no word."""
    if word is None or m == 0:
        return 0
    return ((word % 2 ** m) - 2 ** (m - 1)) * 2 ** e


def lif_tick(p: Neuron, r: Regs, acc: int, word: int | None, policy: Policy,
             events: list, slot: int = 0) -> tuple[Regs, bool]:
    """One tick of the reference LIF program for one slot (kernel.py docstring)."""
    sh = policy.rounding
    acc = fit(acc, "acc", policy, events, slot)
    i = fit(r.i - shift_right(r.i * p.m_i, p.k_i, sh) + acc, "i", policy, events, slot)
    was_refractory = r.ref > 0
    if was_refractory:
        ref = r.ref - 1
        v = r.v  # held
    else:
        ref = r.ref
        noise = noise_of(word, p.noise_bits, p.noise_shift)
        v = fit(r.v - shift_right(r.v * p.m_v, p.k_v, sh) + i + p.bias + noise, "v", policy, events,
                slot)
    theta = r.theta - shift_right(r.theta * p.m_theta, p.k_theta, sh)
    assert not overflowed(theta, policy.theta_bits, False), "theta decay cannot overflow"
    threshold = p.v_th + theta
    fire = (not was_refractory) and v >= threshold
    if fire:
        if p.reset_mode == 0:
            v = p.v_reset
        elif p.reset_mode == 1:
            v = fit(v - threshold, "v", policy, events, slot, stage="v_reset")
        elif p.reset_mode == 2:
            pass
        else:
            raise ValueError(f"reset_mode {p.reset_mode} is not defined")
        ref = p.t_ref
        theta = fit(theta + p.alpha, "theta", policy, events, slot)
    return Regs(i, v, theta, ref), fire


# --------------------------------------------------------------------------- LFSR

def lfsr_clock(state: int) -> int:
    """One clock of the Galois LFSR x^32 + x^22 + x^2 + x + 1 (taps 0x80200003)."""
    out = state & 1
    state >>= 1
    if out:
        state ^= LFSR_TAPS
    return state


def lfsr_words(seed: int, n: int, ticks: int) -> list[list[int]]:
    """Serially clocked words: ``words[t][j]`` = state after 32*(t*n + j + 1) clocks."""
    state, out = seed, []
    for _ in range(ticks):
        row = []
        for _ in range(n):
            for _ in range(32):
                state = lfsr_clock(state)
            row.append(state)
        out.append(row)
    return out


# --------------------------------------------------------------------------- core

@dataclass
class ScalarCore:
    """A whole core, one slot at a time.

    ``rows[a]`` is the list of ``(slot, w)`` words of axon ``a`` and ``w_exp[a]`` its
    exponent; ``routes[s]`` the list of ``(axon, delay)`` entries of slot ``s``.
    """

    policy: Policy
    neurons: list[Neuron]
    rows: list[list[tuple[int, int]]]
    w_exp: list[int]
    routes: list[list[tuple[int, int]]]
    lfsr_seed: int = 0xACE1
    core_id: int = 0
    delay_bits: int = 4
    regs: list[Regs] = field(default=None)
    t: int = 0
    counts: dict = field(default=None)

    def __post_init__(self):
        n = len(self.neurons)
        if self.regs is None:
            self.regs = [Regs() for _ in range(n)]
        self.counts = {name: 0 for name in ("acc", "i", "v", "theta", "ref")}
        self.pending: dict[int, dict[int, int]] = {}  # absolute tick -> axon -> events
        self.noisy = any(nrn.noise_bits for nrn in self.neurons)
        self.lfsr_state = self.lfsr_seed

    @property
    def n(self) -> int:
        return len(self.neurons)

    def inject(self, axon: int, tick: int, count: int = 1) -> None:
        assert self.t <= tick <= self.t + 2 ** self.delay_bits - 1
        row = self.pending.setdefault(tick, {})
        row[axon] = row.get(axon, 0) + count

    def tick(self) -> list[bool]:
        t = self.t
        arriving = self.pending.pop(t, {})
        acc = [0] * self.n
        for axon, count in arriving.items():
            for slot, w in self.rows[axon]:
                acc[slot] += count * (w * 2 ** self.w_exp[axon])
        words = [None] * self.n
        if self.noisy:
            for j in range(self.n):
                for _ in range(32):
                    self.lfsr_state = lfsr_clock(self.lfsr_state)
                words[j] = self.lfsr_state
        events: list[OverflowEvent] = []
        new_regs, fired = [], []
        for j in range(self.n):
            regs, fire = lif_tick(self.neurons[j], self.regs[j], acc[j], words[j],
                                  self.policy, events, j)
            new_regs.append(regs)
            fired.append(fire)
        if events and self.policy.check == "strict":
            first = min(events, key=lambda e: (e.stage, e.slot))
            bits, signed = self.policy.fmt(first.register)
            raise ScalarOverflow(self.core_id, t, first, bits, signed)
        if self.policy.check == "count":
            for e in events:
                self.counts[e.register] += 1
        self.regs = new_regs
        for j in range(self.n):
            if fired[j]:
                for axon, delay in self.routes[j]:
                    assert 1 <= delay <= 2 ** self.delay_bits - 1
                    row = self.pending.setdefault(t + delay, {})
                    row[axon] = row.get(axon, 0) + 1
        self.t = t + 1
        return fired

    def run(self, ticks: int, inputs=None) -> dict[str, list[list]]:
        """``inputs[k][a]`` events on axon ``a`` arriving at tick ``self.t + k``."""
        trace = {"spikes": [], "i": [], "v": [], "theta": [], "ref": []}
        for k in range(ticks):
            if inputs is not None:
                for a, c in enumerate(inputs[k]):
                    if c:
                        self.inject(a, self.t, int(c))
            fired = self.tick()
            trace["spikes"].append(fired)
            for name in ("i", "v", "theta", "ref"):
                trace[name].append([getattr(r, name) for r in self.regs])
        return trace
