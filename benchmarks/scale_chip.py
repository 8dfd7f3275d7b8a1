"""The chip of the scale-out benchmarks (``bench_scale.py``), made core by core.

``neurons`` LIF neurons (the parameters of ``neurochip.lab.examples.random_network``:
about 25 Hz at 1 ms ticks, random initial membranes) in contiguous blocks on a
``width × height`` mesh. Every neuron of core ``s`` routes to the ``k`` cores
``s, s + 1, .., s + k - 1`` (mod the core count), ``k = min(fanout, cores)``, one
entry each with delay ``delay``; on core ``c`` the axon of a neuron of core
``c - o`` has a row of ``fanout // k`` synapses onto random slots of ``c`` (weights
-12..12). So every core's configuration is drawn from its own seeds: a process that
holds only some cores (an MPI rank) makes only those, and the chip is the same.
"""

from __future__ import annotations

import numpy as np

from firmware_models.lif import LifParams, LifState
from neurochip import CoreSpec, RoutingTable, SynapseMemory
from neurochip.hardware.chip import ChipSpec, CoreConfig
from neurochip.lab.examples import K_V, V_TH, bias_for_period


def scale_spec(neurons: int, fanout: int, width: int = 4, height: int = 4,
               delay: int = 1) -> tuple[ChipSpec, np.ndarray, int]:
    """The chip's spec, slots per core and destinations per neuron."""
    n_cores = width * height
    slots = np.diff(np.arange(n_cores + 1) * neurons // n_cores)
    k = min(fanout, n_cores)
    core = CoreSpec(n_slots=int(slots.max()), n_axons=int(slots.max()) * k,
                    synapse_words=int(slots.max()) * k * (fanout // k) + 1,
                    routing_entries=int(slots.max()) * k, max_fanout=k,
                    delay_bits=max(int(delay).bit_length(), 1))
    return ChipSpec(width, height, core=core), slots, k


def scale_core(c: int, spec: ChipSpec, slots: np.ndarray, k: int, fanout: int,
               delay: int = 1, seed: int = 0) -> tuple[CoreConfig, LifState]:
    """Core ``c``'s configuration and initial state."""
    n_cores = spec.n_cores
    rng = np.random.default_rng([seed, c])
    n = int(slots[c])
    params = LifParams.make(n, k_i=3, k_v=K_V, bias=bias_for_period(40), v_th=V_TH,
                            v_reset=0, t_ref=2)
    sources = slots[(c - np.arange(k)) % n_cores]  # axon block o: neurons of core c - o
    words = fanout // k
    axon = np.repeat(np.arange(int(sources.sum())), words)
    post = rng.integers(0, n, axon.size, dtype=np.int32)
    w = rng.integers(-12, 13, axon.size, dtype=np.int16)
    synapses = SynapseMemory.from_lists(int(sources.sum()), axon, post, w)
    # neuron j of core c: entry o goes to core c + o, axon block o there
    block_start = {o: int(slots[(c + o - np.arange(o)) % n_cores].sum()) for o in range(k)}
    slot = np.repeat(np.arange(n), k)
    o = np.tile(np.arange(k), n)
    starts = np.array([block_start[i] for i in range(k)])
    routes = RoutingTable.from_lists(n, slot, axon=starts[o] + slot, delay=delay,
                                     core=(c + o) % n_cores)
    zeros = np.zeros(n, np.int64)
    state = LifState(zeros, rng.integers(0, V_TH, n), zeros, zeros)
    return CoreConfig(params, synapses, routes), state
