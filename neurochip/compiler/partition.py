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


def inter_core_entries(core_of: np.ndarray, pre: np.ndarray, post: np.ndarray,
                       delay: np.ndarray) -> int:
    """Routing entries that leave their core: one per (neuron, other core, delay)."""
    n_cores = int(core_of.max()) + 1 if core_of.size else 1
    span = int(delay.max()) + 1 if delay.size else 1
    keys = np.unique((pre.astype(np.int64) * n_cores + core_of[post]) * span + delay)
    source, dest = np.divmod(keys // span, n_cores)
    return int(np.count_nonzero(core_of[source] != dest))


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
    rng = np.random.default_rng(seed)
    ends = np.concatenate([pre, post])
    others = np.concatenate([post, pre])
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
        for j in movers:  # build time, not a hot path: at most n per round
            target = best[j]
            if load[target] < limit:
                load[core_of[j]] -= 1
                load[target] += 1
                core_of[j] = target
                moved += 1
        if moved == 0:
            break
    return core_of
