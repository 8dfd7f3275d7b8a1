"""Built-in networks (integer level) for the throughput command and the benchmarks.

``random`` is the benchmark network (docs/performance.md): ``n`` LIF neurons, each with
``fanout`` synapses onto random neurons (weights uniform in -12..12, delay 1 tick), a DC
bias that fires a neuron every ``period`` ticks on its own (25 Hz at 1 ms ticks for a
period of 40) and random initial membranes so the network does not fire in lock-step.
"""

from __future__ import annotations

import numpy as np

from firmware_models.lif import LifParams, LifState

from ..compiler.placement import Network

V_TH = 1000
K_V = 5


def bias_for_period(period: int, k_v: int = K_V, v_th: int = V_TH) -> int:
    """Smallest bias that takes v from 0 to ``v_th`` within ``period`` ticks (no input)."""
    a = 1 - 2.0 ** -k_v
    return int(np.ceil(v_th * (1 - a) / (1 - a ** period)))


def random_network(n: int = 1000, fanout: int = 100, period: int = 40,
                   seed: int = 0) -> tuple[Network, LifState]:
    """The network and a desynchronised initial state."""
    rng = np.random.default_rng(seed)
    params = LifParams.make(n, k_i=3, k_v=K_V, bias=bias_for_period(period), v_th=V_TH,
                            v_reset=0, t_ref=2)
    # compact integer types: 10^8 synapses stay within a few GiB
    pre = np.repeat(np.arange(n, dtype=np.int32), fanout)
    post = rng.integers(0, n, n * fanout, dtype=np.int32)
    w = rng.integers(-12, 13, n * fanout, dtype=np.int16)
    net = Network(params, pre, post, w, np.ones(n * fanout, dtype=np.int8))
    zeros = np.zeros(n, dtype=np.int64)
    return net, LifState(zeros, rng.integers(0, V_TH, n), zeros, zeros)


def sequential_placement(n: int, n_cores: int) -> np.ndarray:
    """Neuron j on core ``j * n_cores // n``: contiguous blocks of equal size."""
    return np.arange(n) * n_cores // n
