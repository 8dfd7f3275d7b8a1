"""Chip dialects: the arithmetic of a chip family, selectable by name.

A dialect is a firmware model (``firmware_models.MODELS``: integer kernel, float twin,
quantiser) and a ``CoreSpec`` preset with that chip's register and weight widths:

========= ====================================== ===========================================
name      model                                  preset
========= ====================================== ===========================================
``lif``   the project's reference LIF            ``CoreSpec()`` defaults
``loihi`` Lava 0.10 ``PyLifModelBitAcc``          ``u``, ``v`` 24 bit; weights 9-bit signed
          (docs/dialect-loihi.md)                mantissa (-256..255, Lava's 8 bits plus
                                                 sign mode); ``w_exp`` 0..7
``xylo``  xylosim 0.1.3 v2 / Rockpool XyloSim    ``isyn1``, ``isyn2``, ``v`` 16 bit; weights
          (docs/dialect-xylo.md)                 int8; ``w_exp`` (``weight_shift``) 0..7
========= ====================================== ===========================================

The preset sets ``CoreSpec.dialect`` and the widths; capacities come from whoever builds
the spec. A ``Core`` or ``Chip`` built on a spec without an explicit model runs the
spec's dialect, and ``compile_netlist`` quantises for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from firmware_models import MODELS
from firmware_models.lif import quantiser as lif_quantiser
from firmware_models.loihi import quantiser as loihi_quantiser
from firmware_models.xylo import quantiser as xylo_quantiser
from firmware_models.base import FirmwareModel
from firmware_models.loihi import LOIHI
from firmware_models.xylo import XYLO, XyloParams
from firmware_models.xylo.kernel import MAX_OUTPUT_SPIKES, MAX_SPIKES

from ..hardware.core import Core
from ..hardware.routing import RoutingTable
from ..hardware.spec import DIALECTS, CoreSpec, SpecError
from ..hardware.synapses import SynapseMemory

DEFAULT_DIALECT = "lif"

# the register that holds the synaptic current (in the quantiser's i_lsb) in each dialect
CURRENT_REGISTER = {"lif": "i", "loihi": "u", "xylo": "isyn1"}

PRESETS: dict[str, dict] = {
    "lif": {"dialect": "lif"},
    "loihi": {"dialect": "loihi", "i_bits": 24, "v_bits": 24, "w_bits": 9, "w_exp_bits": 3},
    "xylo": {"dialect": "xylo", "i_bits": 16, "v_bits": 16, "w_bits": 8, "w_exp_bits": 3},
}


def check_dialect(name) -> str:
    if name not in DIALECTS:
        raise SpecError(f"dialect must be one of {DIALECTS}, got {name!r}")
    return name


def dialect_model(name: str) -> FirmwareModel:
    """The firmware model of dialect ``name`` (a ``CoreSpec``'s ``dialect``)."""
    return MODELS[check_dialect(name)]


def dialect_spec(name: str, base: CoreSpec | None = None, **fields) -> CoreSpec:
    """``base`` (default ``CoreSpec()``) with dialect ``name``'s widths, then ``fields``."""
    base = base if base is not None else CoreSpec()
    return base.replace(**{**PRESETS[check_dialect(name)], **fields})


class _LifQuantiser:
    """The reference LIF's quantiser behind the interface the dialects' quantisers share:
    ``quantise_groups``, ``quantise_weights``, ``weight_lsb`` (amperes of synaptic jump
    per weight LSB, per neuron), ``with_bias`` (rewrite the bias register of every
    neuron), ``bias_range`` and ``for_network`` (per-neuron changes that depend on the
    network: which neurons are readouts)."""

    @staticmethod
    def quantise_groups(*args, **kwargs):
        return lif_quantiser.quantise_groups(*args, memoryless=True, mantissa=True,
                                             **kwargs)

    quantise_weights = staticmethod(lif_quantiser.quantise_weights)

    @staticmethod
    def with_bias(params, bias):
        return replace(params, bias=np.asarray(bias, dtype=np.int64))

    @staticmethod
    def bias_range(spec) -> tuple[int, int]:
        return -(1 << (spec.v_bits - 1)), (1 << (spec.v_bits - 1)) - 1

    @staticmethod
    def weight_lsb(q):
        return q.scales.i_lsb

    @staticmethod
    def for_network(params, readout):
        return params


QUANTISERS = {"lif": _LifQuantiser, "loihi": loihi_quantiser, "xylo": xylo_quantiser}


def dialect_quantiser(name: str):
    """The quantiser of dialect ``name`` (module or class with the shared interface)."""
    return QUANTISERS[check_dialect(name)]


# ====================================================================== Xylo networks
def _int_weights(name: str, values, shape_hint: str, lo: int, hi: int) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        if array.dtype.kind != "f" or not np.array_equal(array, np.rint(array)):
            raise SpecError(f"{name} must be integers ({shape_hint}), got dtype {array.dtype}")
        array = np.rint(array)
    array = array.astype(np.int64)
    bad = np.argwhere((array < lo) | (array > hi))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        raise SpecError(f"{name}[{', '.join(map(str, index))}]={int(array[index])} outside "
                        f"{lo}..{hi}")
    return array


@dataclass(frozen=True)
class XyloNetwork:
    """A Xylo network on one core: hidden slots ``0..n_hidden-1``, output slots after
    them; input channel ``i`` is axon ``i``, hidden neuron ``h`` feeds axon
    ``n_in + h`` (its recurrent row, ``weight_shift_rec``) and ``n_in + n_hidden + h``
    (its output row, ``weight_shift_out``), both one tick late."""

    core: Core
    n_in: int
    n_hidden: int
    n_out: int

    def inputs(self, raster) -> np.ndarray:
        """Event counts (ticks × axons) from input spike counts (ticks × ``n_in``),
        at most ``MAX_INPUT_SPIKES`` per channel and tick."""
        raster = np.asarray(raster)
        if raster.ndim != 2 or raster.shape[1] != self.n_in:
            raise SpecError(f"input raster has shape {raster.shape}, expected "
                            f"(ticks, {self.n_in})")
        counts = _int_weights("input raster", raster, "spike counts", 0,
                              XYLO.max_input_events)
        out = np.zeros((counts.shape[0], self.core.synapses.n_axons), dtype=np.int64)
        out[:, :self.n_in] = counts
        return out

    def run(self, raster, record: tuple[str, ...] = ("spikes",)):
        """Run one tick per raster row; the recording's ``spikes`` are counts per slot."""
        return self.core.run(len(raster), self.inputs(raster), record)


def xylo_network(w_in, w_rec, w_out, *, dash_mem=4, dash_syn=4, dash_syn2=4,
                 threshold=1000, bias=0, dash_mem_out=4, dash_syn_out=4,
                 threshold_out=1000, bias_out=0, weight_shift_in=0, weight_shift_rec=0,
                 weight_shift_out=0, spec: CoreSpec | None = None) -> XyloNetwork:
    """A Xylo network as xylosim takes it, on one core of the ``xylo`` dialect.

    ``w_in`` (inputs × hidden × 2, or inputs × hidden for ``isyn1`` only), ``w_rec``
    (hidden × hidden × 2 or hidden × hidden) and ``w_out`` (hidden × outputs) are int8;
    the neuron parameters are scalars or one value per neuron.
    """
    w_in, w_rec = (np.asarray(w) for w in (w_in, w_rec))
    w_in = w_in[..., None] if w_in.ndim == 2 else w_in
    w_rec = w_rec[..., None] if w_rec.ndim == 2 else w_rec
    n_in, n_hid = w_in.shape[:2]
    w_out = np.asarray(w_out)
    if w_rec.shape[:2] != (n_hid, n_hid) or w_out.ndim != 2 or w_out.shape[0] != n_hid:
        raise SpecError(f"weights do not agree: w_in {w_in.shape}, w_rec {w_rec.shape}, "
                        f"w_out {w_out.shape} (expected inputs × hidden, hidden × hidden, "
                        f"hidden × outputs)")
    n_out = w_out.shape[1]
    w_in = _int_weights("w_in", w_in, "int8", -128, 127)
    w_rec = _int_weights("w_rec", w_rec, "int8", -128, 127)
    w_out = _int_weights("w_out", w_out, "int8", -128, 127)
    n = n_hid + n_out
    hidden = np.arange(n_hid)
    params = XyloParams.make(
        n, dash_syn1=np.concatenate([np.broadcast_to(dash_syn, n_hid),
                                     np.broadcast_to(dash_syn_out, n_out)]),
        dash_syn2=np.concatenate([np.broadcast_to(dash_syn2, n_hid), np.zeros(n_out)]),
        dash_mem=np.concatenate([np.broadcast_to(dash_mem, n_hid),
                                 np.broadcast_to(dash_mem_out, n_out)]),
        threshold=np.concatenate([np.broadcast_to(threshold, n_hid),
                                  np.broadcast_to(threshold_out, n_out)]),
        bias=np.concatenate([np.broadcast_to(bias, n_hid), np.broadcast_to(bias_out, n_out)]),
        max_spikes=np.concatenate([np.full(n_hid, MAX_SPIKES), np.full(n_out, MAX_OUTPUT_SPIKES)]))
    words = []  # (axon, slot, w, target), row-major so words keep slot order
    for base, weights, slot_offset in ((0, w_in, 0), (n_in, w_rec, 0)):
        pre, post, target = np.nonzero(weights)
        words.append((base + pre, slot_offset + post, weights[pre, post, target], target))
    pre, post = np.nonzero(w_out)
    words.append((n_in + n_hid + pre, n_hid + post, w_out[pre, post], np.zeros_like(pre)))
    axon, slot, w, target = (np.concatenate(parts) for parts in zip(*words))
    n_axons = n_in + 2 * n_hid
    w_exp = np.concatenate([np.full(n_in, weight_shift_in), np.full(n_hid, weight_shift_rec),
                            np.full(n_hid, weight_shift_out)])
    synapses = SynapseMemory.from_lists(n_axons, axon, slot, w, w_exp, target)
    routes = RoutingTable.from_lists(n, np.concatenate([hidden, hidden]),
                                     np.concatenate([n_in + hidden, n_in + n_hid + hidden]), 1)
    if spec is None:
        spec = dialect_spec("xylo", CoreSpec(n_slots=max(n, 1), n_axons=max(n_axons, 1),
                                             synapse_words=max(axon.size, 1),
                                             routing_entries=max(2 * n_hid, 1)))
    return XyloNetwork(Core(spec, params, synapses, routes, model=XYLO), n_in, n_hid, n_out)


# ====================================================================== Loihi networks
@dataclass(frozen=True)
class LoihiNetwork:
    """A Lava-style network on one core: ``n`` LIF neurons in slots ``0..n-1``, input
    channel ``i`` on axon ``i``, neuron ``j``'s spikes on axon ``n_in + j`` (one tick
    late, as Lava's ``Dense`` delivers them)."""

    core: Core
    n_in: int
    n: int

    def inputs(self, raster) -> np.ndarray:
        """Event counts (ticks × axons) from input spikes (ticks × ``n_in``, 0 or 1 per
        channel and tick) sent into the input ``Dense`` at each tick: they reach the
        neurons one tick later, as in Lava (the last tick's input arrives after the run)."""
        raster = np.asarray(raster)
        if raster.ndim != 2 or raster.shape[1] != self.n_in:
            raise SpecError(f"input raster has shape {raster.shape}, expected "
                            f"(ticks, {self.n_in})")
        spikes = _int_weights("input raster", raster, "spikes", 0, 1)
        out = np.zeros((spikes.shape[0], self.core.synapses.n_axons), dtype=np.int64)
        out[1:, :self.n_in] = spikes[:-1]
        return out

    def run(self, raster, record: tuple[str, ...] = ("spikes",)):
        return self.core.run(len(raster), self.inputs(raster), record)


def lava_dense_weights(name: str, weights, num_weight_bits: int = 8,
                       sign_mode: str | None = None) -> np.ndarray:
    """Integer Dense weights as Lava's bit-accurate ``Dense`` holds them: the sign mode
    (``mixed`` -256..255, ``excitatory`` 0..255, ``inhibitory`` -255..0; by default the
    one the weights need) and truncation to ``num_weight_bits`` by ``(w >> n) << n``
    (one bit more in mixed mode). A weight outside its mode's range is refused, not
    clipped as Lava would."""
    from firmware_models.loihi.quantiser import SIGN_MODES, sign_mode as mode_of
    from firmware_models.loihi.quantiser import truncate, weight_range

    if not isinstance(num_weight_bits, (int, np.integer)) or not 1 <= num_weight_bits <= 8:
        raise SpecError(f"{name}: num_weight_bits must be in 1..8, got {num_weight_bits!r}")
    array = _int_weights(name, weights, "integers", -256, 255)
    mode = mode_of(array[array != 0].astype(float)) if sign_mode is None else sign_mode
    if mode not in SIGN_MODES:
        raise SpecError(f"{name}: sign_mode must be one of {SIGN_MODES}, got {mode!r}")
    lo, hi = weight_range(mode)
    _int_weights(f"{name} ({mode})", array, "integers", lo, hi)
    return truncate(array, mode, int(num_weight_bits))


def loihi_network(w_in, w_rec, params, *, weight_exp_in: int = 0, weight_exp_rec: int = 0,
                  num_weight_bits: int = 8, sign_mode_in: str | None = None,
                  sign_mode_rec: str | None = None, spec: CoreSpec | None = None
                  ) -> LoihiNetwork:
    """A Lava network on one core of the ``loihi`` dialect: an input ``Dense`` (``w_in``,
    neurons × inputs, Lava's (out, in) layout) and a recurrent ``Dense`` (``w_rec``,
    neurons × neurons) onto ``params.n`` LIF neurons (``LoihiParams``), each ``Dense``
    with its ``weight_exp`` (0..7), sign mode and ``num_weight_bits``."""
    w_in = lava_dense_weights("w_in", w_in, num_weight_bits, sign_mode_in)
    w_rec = lava_dense_weights("w_rec", w_rec, num_weight_bits, sign_mode_rec)
    n = params.n
    if w_in.ndim != 2 or w_in.shape[0] != n or w_rec.shape != (n, n):
        raise SpecError(f"weights do not agree with {n} neurons: w_in {w_in.shape} "
                        f"(neurons × inputs), w_rec {w_rec.shape} (neurons × neurons)")
    n_in = w_in.shape[1]
    post_in, pre_in = np.nonzero(w_in)
    post_rec, pre_rec = np.nonzero(w_rec)
    axon = np.concatenate([pre_in, n_in + pre_rec])
    slot = np.concatenate([post_in, post_rec])
    w = np.concatenate([w_in[post_in, pre_in], w_rec[post_rec, pre_rec]])
    order = np.argsort(axon, kind="stable")
    n_axons = n_in + n
    w_exp = np.concatenate([np.full(n_in, weight_exp_in), np.full(n, weight_exp_rec)])
    synapses = SynapseMemory.from_lists(n_axons, axon[order], slot[order], w[order], w_exp)
    neurons = np.arange(n)
    routes = RoutingTable.from_lists(n, neurons, n_in + neurons, 1)
    if spec is None:
        spec = dialect_spec("loihi", CoreSpec(n_slots=max(n, 1), n_axons=max(n_axons, 1),
                                              synapse_words=max(axon.size, 1),
                                              routing_entries=max(n, 1)))
    return LoihiNetwork(Core(spec, params, synapses, routes, model=LOIHI), n_in, n)
