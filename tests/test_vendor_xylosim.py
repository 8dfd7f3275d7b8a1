"""Side by side with the vendor simulator: xylosim 0.1.3 (v2), the C++ simulator behind
Rockpool's XyloSim. Optional: skipped when xylosim is not installed (it builds from
source with ``pip install xylosim==0.1.3``; CI does not depend on it).

Random networks (input, recurrent and output weights onto both synaptic currents,
biases, every decay shift, thresholds small enough for many spikes per tick, input
counts up to 15) run on xylosim's ``XyloLayer`` and on ``neurochip.compiler.dialects.
xylo_network``; every recorded register and every spike count must agree."""

from __future__ import annotations

import numpy as np
import pytest

xylosim = pytest.importorskip("xylosim.v2")

from neurochip.compiler.dialects import xylo_network  # noqa: E402


def synapse_lists(weights: np.ndarray) -> list[list]:
    """xylosim's synapse lists, one per presynaptic neuron, from a (pre, post, syn) array."""
    out = []
    for pre in range(weights.shape[0]):
        row = []
        for post in range(weights.shape[1]):
            for syn in range(weights.shape[2]):
                if weights[pre, post, syn]:
                    row.append(xylosim.XyloSynapse(post, syn, int(weights[pre, post, syn])))
        out.append(row)
    return out


def run_both(seed: int, ticks: int = 60):
    rng = np.random.default_rng(seed)
    n_in, n_hid, n_out = rng.integers(1, 6), rng.integers(1, 9), rng.integers(1, 4)
    sparse = lambda shape: rng.integers(-128, 128, shape) * (rng.random(shape) < 0.6)  # noqa
    w_in, w_rec, w_out = sparse((n_in, n_hid, 2)), sparse((n_hid, n_hid, 2)), \
        sparse((n_hid, n_out))
    dash_mem, dash_syn, dash_syn2 = (rng.integers(0, 16, n_hid) for _ in range(3))
    dash_mem_out, dash_syn_out = rng.integers(0, 16, n_out), rng.integers(0, 16, n_out)
    threshold = rng.integers(1, 3000, n_hid)
    threshold_out = rng.integers(1, 3000, n_out)
    bias, bias_out = rng.integers(-300, 300, n_hid), rng.integers(-300, 300, n_out)
    shifts = rng.integers(0, 8, 3)
    raster = rng.integers(0, 16, (ticks, n_in)) * (rng.random((ticks, n_in)) < 0.4)

    # xylosim keeps raw pointers to the synapse objects: keep them alive with the layer
    synapses = (synapse_lists(w_in), synapse_lists(w_rec), synapse_lists(w_out[..., None]))
    layer = xylosim.XyloLayer(
        *synapses,
        [[] for _ in range(n_hid)], threshold.tolist(), threshold_out.tolist(), True,
        bias.tolist(), bias_out.tolist(), int(shifts[0]), int(shifts[1]), int(shifts[2]),
        dash_mem.tolist(), dash_mem_out.tolist(),
        [[int(a), int(b)] for a, b in zip(dash_syn, dash_syn2)],
        [[int(a)] for a in dash_syn_out], "side-by-side")
    out_spikes = np.array(layer.evolve(raster.tolist()))

    net = xylo_network(w_in, w_rec, w_out, dash_mem=dash_mem, dash_syn=dash_syn,
                       dash_syn2=dash_syn2, threshold=threshold, bias=bias,
                       dash_mem_out=dash_mem_out, dash_syn_out=dash_syn_out,
                       threshold_out=threshold_out, bias_out=bias_out,
                       weight_shift_in=int(shifts[0]), weight_shift_rec=int(shifts[1]),
                       weight_shift_out=int(shifts[2]))
    rec = net.run(raster, record=("spikes", "isyn1", "isyn2", "v"))
    return layer, synapses, out_spikes, rec, n_hid


@pytest.mark.parametrize("seed", range(25))
def test_xylo_dialect_matches_xylosim(seed):
    layer, _synapses, out_spikes, rec, n_hid = run_both(seed)
    assert rec.spikes[:, :n_hid].tolist() == np.array(layer.rec_recurrent_spikes).tolist()
    assert rec.spikes[:, n_hid:].tolist() == out_spikes.tolist()
    assert rec["v"][:, :n_hid].tolist() == np.array(layer.rec_v_mem).T.tolist()
    assert rec["v"][:, n_hid:].tolist() == np.array(layer.rec_v_mem_out).T.tolist()
    assert rec["isyn1"][:, :n_hid].tolist() == np.array(layer.rec_i_syn).T.tolist()
    assert rec["isyn2"][:, :n_hid].tolist() == np.array(layer.rec_i_syn2).T.tolist()
    assert rec["isyn1"][:, n_hid:].tolist() == np.array(layer.rec_i_syn_out).T.tolist()
    assert rec.spikes.sum() > 0
