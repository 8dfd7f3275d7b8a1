"""Partitioning: which core each neuron of a network goes to (docs/compiler.md, step 3).

``sequential_partition`` fills the cores with contiguous blocks of neurons;
``greedy_partition`` starts from those blocks and moves neurons towards the core most of
their synapses lead to (label propagation under the slot capacity), which keeps spikes
from crossing cores. ``inter_core_entries`` counts the routing entries that leave their
core, the figure the compiler uses to keep the better of the two.
"""

from __future__ import annotations

import numpy as np

from ..hardware.spec import SpecError

PARTITIONERS = ("greedy", "sequential")


def sequential_partition(n: int, n_cores: int, slots: int) -> np.ndarray:
    """Neurons in index order, filling each core's slots before the next core."""
    if n > n_cores * slots:
        raise SpecError(f"the network has {n} neurons, the chip has {n_cores} cores × {slots} "
                        f"slots = {n_cores * slots} (short by {n - n_cores * slots} slots)")
    per_core = -(-n // n_cores)  # spread evenly rather than filling the first cores
    return np.arange(n) // per_core


CHUNK = 1 << 21     # synapses per chunk of the passes over all of them
TABLE = 1 << 22     # the largest (neuron, core) table counted with bincount


def inter_core_entries(core_of: np.ndarray, pre: np.ndarray, post: np.ndarray,
                       delay: np.ndarray) -> int:
    """Routing entries that leave their core: one per (neuron, other core, delay).

    The distinct ``(pre, core of post, delay)`` are marked in a table of one byte per
    possible triple, in chunks (when the table is no larger than a few bytes per synapse;
    else found by one sort of them all)."""
    core_of = np.asarray(core_of, dtype=np.int64)
    n_cores = int(core_of.max()) + 1 if core_of.size else 1
    if not pre.size:
        return 0
    delays, delay_of = _delay_ids(delay)
    n_pre = int(pre.max()) + 1
    size = n_pre * n_cores * delays.size
    if size > max(8 * pre.size, 1 << 24):
        span = int(np.max(delay)) + 1
        keys = np.unique((pre.astype(np.int64) * n_cores + core_of[post]) * span + delay)
        source, dest = np.divmod(keys // span, n_cores)
        return int(np.count_nonzero(core_of[source] != dest))
    seen = np.zeros(size, dtype=bool)
    for a in range(0, pre.size, CHUNK):
        key = pre[a:a + CHUNK].astype(np.int64) * n_cores + core_of[post[a:a + CHUNK]]
        if delays.size > 1:
            key *= delays.size
            key += delay_of(a, a + CHUNK)
        seen[key] = True
    table = seen.reshape(n_pre, n_cores, delays.size)
    own = table[np.arange(n_pre), core_of[:n_pre]]
    return int(np.count_nonzero(seen)) - int(np.count_nonzero(own))


def _delay_ids(delay: np.ndarray):
    """The distinct delays (ascending) and a function giving the index among them of the
    delays of synapses ``a:b``."""
    delay = np.asarray(delay)
    if delay.ndim == 1 and delay.size and delay.strides[0] == 0:
        return delay[:1], lambda a, b: 0
    top = int(np.max(delay, initial=0)) + 1
    if top <= 4 * delay.size + (1 << 16):
        present = np.zeros(top, dtype=bool)
        present[delay] = True
        index = np.cumsum(present) - 1
        return np.flatnonzero(present), lambda a, b: index[delay[a:b]]
    values, inverse = np.unique(delay, return_inverse=True)
    inverse = inverse.ravel()
    return values, lambda a, b: inverse[a:b]


def _links(n: int, pre: np.ndarray, post: np.ndarray, core_of: np.ndarray,
           n_cores: int) -> np.ndarray:
    """``links[j, c]``: synapses (in and out) between neuron ``j`` and neurons on core
    ``c``, int32, counted in chunks (integers: the same in any order)."""
    links = np.zeros(n * n_cores, dtype=np.int64 if n * n_cores <= TABLE else np.int32)
    for ends, others in ((pre, post), (post, pre)):
        for a in range(0, ends.size, CHUNK):
            key = ends[a:a + CHUNK].astype(np.int64) * n_cores + core_of[others[a:a + CHUNK]]
            if links.dtype == np.int64:
                links += np.bincount(key, minlength=links.size)
            else:
                keys, counts = np.unique(key, return_counts=True)
                links[keys] += counts.astype(np.int32)
    return links.reshape(n, n_cores)


def greedy_partition(n: int, pre: np.ndarray, post: np.ndarray, n_cores: int, slots: int,
                     rounds: int = 20, seed: int = 0) -> np.ndarray:
    """Label propagation under a slot capacity, started from contiguous blocks.

    Each round, every neuron counts its synapses (in and out) per core and wants the core
    with the most; moves are granted in order of gain while the target core holds fewer
    than its limit (the slot capacity, and 20 % above an even share so that no core
    becomes the chip's bottleneck). Stops when a round moves no neuron.
    """
    core_of = sequential_partition(n, n_cores, slots)
    if n_cores == 1 or pre.size == 0:
        return core_of
    # keep the cores balanced (within 20 % of an even share) as well as within capacity
    limit = min(slots, max(int(np.ceil(1.2 * n / n_cores)), int(np.bincount(core_of).max())))
    if np.all(np.bincount(core_of, minlength=n_cores) >= limit):
        return core_of      # every core full: no move can be granted, whatever links say
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK // n_cores)
    for _ in range(rounds):
        links = _links(n, pre, post, core_of, n_cores)
        best = np.empty(n, dtype=np.int64)
        for a in range(0, n, rows):            # the same draws as one (n, n_cores) array
            block = links[a:a + rows]
            best[a:a + rows] = np.argmax(block + rng.random(block.shape) * 0.5, axis=1)
        gain = (links[np.arange(n), best] - links[np.arange(n), core_of]).astype(np.int64)
        del links
        movers = np.flatnonzero((best != core_of) & (gain > 0))
        if movers.size == 0:
            break
        movers = movers[np.argsort(-gain[movers], kind="stable")]
        core_of, moved = _grant(core_of, movers, best[movers], n_cores, limit)
        if moved == 0:
            break
    return core_of


def _grant(core_of: np.ndarray, movers: np.ndarray, targets: np.ndarray, n_cores: int,
           limit: int) -> tuple[np.ndarray, int]:
    """Move ``movers[k]`` to ``targets[k]``, in order, while the target holds fewer than
    ``limit`` neurons (each move frees a place on the core left). Build time, at most one
    step per neuron per round, over Python lists (a step is a few list operations)."""
    load = np.bincount(core_of, minlength=n_cores).tolist()
    where = core_of.tolist()
    moved = 0
    for j, target in zip(movers.tolist(), targets.tolist()):
        if load[target] < limit:
            load[where[j]] -= 1
            load[target] += 1
            where[j] = target
            moved += 1
    return np.array(where, dtype=core_of.dtype), moved
