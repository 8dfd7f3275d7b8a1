"""The per-core pseudo-random generator: a 32-bit Galois LFSR, vectorised by jumping.

Polynomial ``x^32 + x^22 + x^2 + x + 1`` (maximal length, period ``2^32 - 1``; the tap
set 32, 22, 2, 1 of Xilinx XAPP052, table 3). One clock of the Galois form::

    out = s & 1;  s >>= 1;  if out: s ^= 0x80200003

A core with ``n`` slots clocks its LFSR 32 times per slot per tick, slots in ascending
order: slot ``j`` at tick ``t`` (counting from 0) receives the 32-bit state after
``32 * (t * n + j + 1)`` clocks from the seed. The LFSR is clocked only on cores where
some slot has noise enabled, so noise never depends on how other cores are configured.

Clocking is linear over GF(2), so ``m`` clocks are a 32×32 bit matrix ``A^m``. Applying
it to many states at once needs four 256-entry tables (one per input byte), which is how
every slot's state advances by ``32 * n`` clocks in one vectorised step per tick.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

TAPS = 0x80200003
WORD_CLOCKS = 32


def clock(state: int, clocks: int = 1) -> int:
    """Scalar reference: ``state`` after ``clocks`` single clocks."""
    for _ in range(clocks):
        out = state & 1
        state >>= 1
        if out:
            state ^= TAPS
    return state


def _apply(columns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Matrix (given by its 32 column images) times each state, over GF(2)."""
    result = np.zeros_like(states)
    for bit in range(32):
        result ^= np.where((states >> np.uint64(bit)) & np.uint64(1), columns[bit], np.uint64(0))
    return result


def _power_columns(clocks: int) -> np.ndarray:
    """Column images of ``A^clocks`` by repeated squaring."""
    result = np.array([1 << bit for bit in range(32)], dtype=np.uint64)  # identity
    base = np.array([clock(1 << bit) for bit in range(32)], dtype=np.uint64)
    while clocks:
        if clocks & 1:
            result = _apply(base, result)
        base = _apply(base, base)
        clocks >>= 1
    return result


@lru_cache(maxsize=64)
def jump_tables(clocks: int) -> np.ndarray:
    """Four 256-entry tables ``T[b][byte]`` = image of ``byte << 8b`` after ``clocks`` clocks.

    Cached: treat the result as read-only.
    """
    columns = _power_columns(clocks)
    byte_values = np.arange(256, dtype=np.uint64)
    tables = np.zeros((4, 256), dtype=np.uint64)
    for b in range(4):
        tables[b] = _apply(columns, byte_values << np.uint64(8 * b))
    tables.flags.writeable = False
    return tables


def jump(states: np.ndarray, tables: np.ndarray) -> np.ndarray:
    s = states
    return (tables[0][s & 0xFF] ^ tables[1][(s >> np.uint64(8)) & 0xFF]
            ^ tables[2][(s >> np.uint64(16)) & 0xFF] ^ tables[3][s >> np.uint64(24)])


class CoreLfsr:
    """The noise stream of one core of ``n`` slots (see the module docstring)."""

    def __init__(self, seed: int, n: int):
        seed = int(seed)
        if not 0 < seed < (1 << 32):
            raise ValueError(f"LFSR seed must be in 1..2**32-1 (zero locks the LFSR), got {seed}")
        self.seed, self.n = seed, n
        self._tick_tables = jump_tables(WORD_CLOCKS * n)
        # lanes[j] is the state after 32*j clocks; built by doubling, log2(n) vectorised steps
        lanes = np.array([seed], dtype=np.uint64)
        while lanes.size < n:
            lanes = np.concatenate([lanes, jump(lanes, jump_tables(WORD_CLOCKS * lanes.size))])
        self._lanes = jump(lanes[:n], jump_tables(WORD_CLOCKS))

    def next_words(self) -> np.ndarray:
        """The 32-bit words of this tick, one per slot (as ``int64``); advances one tick."""
        words = self._lanes.astype(np.int64)
        self._lanes = jump(self._lanes, self._tick_tables)
        return words

    @property
    def lanes(self) -> np.ndarray:
        return self._lanes.copy()


class NoiseBank:
    """The LFSRs of many cores side by side: one lane per slot, all advanced at once.

    ``seeds[c]`` and ``sizes[c]`` are core ``c``'s seed and slot count; only cores with
    ``enabled[c]`` are clocked (their words follow ``CoreLfsr`` exactly); the words of
    the other cores' slots are 0 and unused. One jump table per distinct core size:
    ``lane_group[j]`` is the table of slot ``j`` (-1: not clocked), ``tables[g]`` its
    four byte tables.
    """

    def __init__(self, seeds, sizes, enabled):
        sizes = np.asarray(sizes, dtype=np.int64)
        enabled = np.asarray(enabled, dtype=bool)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        self.lanes = np.zeros(int(starts[-1]), dtype=np.uint64)
        self.lane_group = np.full(int(starts[-1]), -1, dtype=np.int64)
        distinct = np.unique(sizes[enabled])
        self.tables = np.zeros((distinct.size, 4, 256), dtype=np.uint64)
        self._groups = []
        for g, n in enumerate(distinct):
            self.tables[g] = jump_tables(WORD_CLOCKS * int(n))
            cores = np.flatnonzero((sizes == n) & enabled)
            for c in cores:
                self.lanes[starts[c]:starts[c + 1]] = CoreLfsr(seeds[c], int(n)).lanes
                self.lane_group[starts[c]:starts[c + 1]] = g
            self._groups.append(np.flatnonzero(self.lane_group == g))

    def next_words(self) -> np.ndarray:
        words = self.lanes.astype(np.int64)
        for g, index in enumerate(self._groups):
            self.lanes[index] = jump(self.lanes[index], self.tables[g])
        return words
