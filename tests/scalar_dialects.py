"""Independent scalar oracles of the two chip dialects, on plain Python ints.

Written from the rules of issue 6 (Lava 0.10 ``PyLifModelBitAcc`` for Loihi, xylosim
0.1.3 v2 for Xylo) as the vendors' simulators state them -- one neuron at a time, one
synaptic event at a time, with Python's unbounded ints and explicit ``if`` tests -- not
from ``firmware_models.loihi`` / ``firmware_models.xylo``. Slow on purpose.

* ``loihi_tick``: one tick of one Loihi neuron. The ``u`` wrap is Lava's own single
  correction (``> 2^23`` loses ``2^24``, ``<= -2^23`` gains it); callers keep the raw
  value within ``±3·2^23`` where that is the whole story (the function asserts it).
* ``xylo_tick``: one tick of one Xylo neuron given its ordered list of weights per
  synaptic current.
* ``XyloNet``: a whole xylosim network (input, recurrent and output weights with
  their shifts), spikes of the previous tick delivered count times, channel by channel.
* ``LoihiNet``: LIF populations joined by Lava ``Dense`` connections (one tick late).
"""

from __future__ import annotations

U_HALF = 2 ** 23


def toward_zero_div4096(x: int) -> int:
    q = abs(x) // 4096
    return q if x >= 0 else -q


def loihi_tick(u: int, v: int, a_in: int, du: int, dv: int, bias_mant: int, bias_exp: int,
               vth: int) -> tuple[int, int, bool]:
    u = toward_zero_div4096(u * (4096 - du - 1))
    raw = u + a_in * 64
    assert -3 * U_HALF < raw <= 3 * U_HALF, "outside the range of Lava's single correction"
    if raw > U_HALF:
        raw -= 2 * U_HALF
    elif raw <= -U_HALF:
        raw += 2 * U_HALF
    u = raw
    v = toward_zero_div4096(v * (4096 - dv)) + u + bias_mant * 2 ** bias_exp
    limit = U_HALF - 1
    if v > limit:
        v = limit
    if v < -limit:
        v = -limit
    spike = v > vth * 64
    if spike:
        v = 0
    return u, v, spike


def sat16(x: int, bits: int = 16) -> int:
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return lo if x < lo else hi if x > hi else x


def xylo_decay_step(x: int, d: int) -> int:
    """The amount ``x`` loses: ``floor(x / 2^d)``, but 1 when that is 0 and ``x > 0``."""
    step = x // 2 ** d
    if step == 0 and x > 0:
        step = 1
    return step


def xylo_tick(isyn: list[int], v: int, adds: list[list[int]], dash_syn: list[int],
              dash_mem: int, threshold: int, bias: int, max_spikes: int,
              bits: int = 16) -> tuple[list[int], int, int]:
    isyn = list(isyn)
    for s in range(len(isyn)):
        for w in adds[s]:
            isyn[s] = sat16(isyn[s] + w, bits)
        isyn[s] = isyn[s] - xylo_decay_step(isyn[s], dash_syn[s])
    leak = -xylo_decay_step(v, dash_mem)
    if leak > 2 ** (bits - 1) - 1:   # xylosim keeps -decay in an int16_t: -(-32768) wraps
        leak -= 2 ** bits
    dv = sat16(leak + sum(isyn), bits)
    dv = sat16(dv + bias, bits)
    v = sat16(v + dv, bits)
    count = 0
    while v >= threshold and count < max_spikes:
        count += 1
        v = v - threshold
    return isyn, v, count


class XyloNet:
    """A xylosim network: ``w_in[i][j][s]``, ``w_rec[h][j][s]``, ``w_out[h][o]`` (int8)."""

    def __init__(self, w_in, w_rec, w_out, shift_in, shift_rec, shift_out, hidden, output,
                 bits: int = 16):
        self.w_in, self.w_rec, self.w_out = w_in, w_rec, w_out
        self.shifts = (shift_in, shift_rec, shift_out)
        self.hidden, self.output = hidden, output   # lists of per-neuron dicts
        self.bits = bits
        n_hid, n_out = len(hidden), len(output)
        self.h_isyn = [[0, 0] for _ in range(n_hid)]
        self.h_v = [0] * n_hid
        self.o_isyn = [[0, 0] for _ in range(n_out)]
        self.o_v = [0] * n_out
        self.last = [0] * n_hid

    def tick(self, counts_in: list[int]) -> tuple[list[int], list[int]]:
        n_hid, n_out = len(self.hidden), len(self.output)
        h_adds = [[[], []] for _ in range(n_hid)]
        o_adds = [[[], []] for _ in range(n_out)]
        for i, count in enumerate(counts_in):
            for _ in range(count):
                for j in range(n_hid):
                    for s in range(2):
                        if self.w_in[i][j][s]:
                            h_adds[j][s].append(self.w_in[i][j][s] * 2 ** self.shifts[0])
        for h, count in enumerate(self.last):
            for _ in range(count):
                for j in range(n_hid):
                    for s in range(2):
                        if self.w_rec[h][j][s]:
                            h_adds[j][s].append(self.w_rec[h][j][s] * 2 ** self.shifts[1])
                for o in range(n_out):
                    if self.w_out[h][o]:
                        o_adds[o][0].append(self.w_out[h][o] * 2 ** self.shifts[2])
        h_counts, o_counts = [], []
        for j, p in enumerate(self.hidden):
            self.h_isyn[j], self.h_v[j], c = xylo_tick(
                self.h_isyn[j], self.h_v[j], h_adds[j], [p["dash_syn1"], p["dash_syn2"]],
                p["dash_mem"], p["threshold"], p["bias"], 31, self.bits)
            h_counts.append(c)
        for o, p in enumerate(self.output):
            self.o_isyn[o], self.o_v[o], c = xylo_tick(
                self.o_isyn[o], self.o_v[o], o_adds[o], [p["dash_syn1"], p["dash_syn2"]],
                p["dash_mem"], p["threshold"], p["bias"], 1, self.bits)
            o_counts.append(c)
        self.last = h_counts
        return h_counts, o_counts


def lava_truncate(w: int, mode: str, num_weight_bits: int) -> int:
    """Lava's truncate_weights for one weight: (w >> n) << n, n = 8 - bits (+1 mixed)."""
    n = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    return (w >> n) << n


class LoihiNet:
    """Lava processes, one timestep at a time: an input Dense and a recurrent Dense (each
    sends the activation it accumulated in the previous timestep, then accumulates this
    timestep's spikes: sum of weights, shifted by weight_exp) onto LIF neurons
    (``loihi_tick``). Weights are (post, pre), already in their Dense's format."""

    def __init__(self, w_in, w_rec, exp_in, exp_rec, neurons):
        self.w_in, self.w_rec, self.exp = w_in, w_rec, (exp_in, exp_rec)
        self.neurons = neurons
        n = len(neurons)
        self.buff_in, self.buff_rec = [0] * n, [0] * n
        self.u, self.v = [0] * n, [0] * n

    def tick(self, s_in: list[int]) -> list[bool]:
        n = len(self.neurons)
        a_in = [self.buff_in[j] + self.buff_rec[j] for j in range(n)]
        self.buff_in = [sum(self.w_in[j][i] for i in range(len(s_in)) if s_in[i])
                        * 2 ** self.exp[0] for j in range(n)]
        spikes = []
        for j, p in enumerate(self.neurons):
            self.u[j], self.v[j], s = loihi_tick(self.u[j], self.v[j], a_in[j], p["du"],
                                                 p["dv"], p["bias_mant"], p["bias_exp"],
                                                 p["vth"])
            spikes.append(s)
        self.buff_rec = [sum(self.w_rec[j][k] for k in range(n) if spikes[k])
                         * 2 ** self.exp[1] for j in range(n)]
        return spikes
