"""The built-in example: a few LIF neurons on one core beside their float reference.

Eight neurons in physical units (tau_m 16 ms, tau_syn 4 ms, threshold 20 mV above rest,
2 ms refractory period; two of them with an adaptive threshold, two with a DC bias)
receive seeded Poisson spike trains through random excitatory and inhibitory synapses.
The network is quantised onto one core, run there, and run on the float reference with
the parameters the core realises (so the difference is the arithmetic's alone, and the
provable bound of ``firmware_models.lif.error_bound`` applies) and with the parameters
as asked (the difference then adds the parameter quantisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_models.lif import LifParams
from firmware_models.lif.error_bound import ErrorBound
from firmware_models.lif.quantiser import QuantisedLif, quantise, quantise_weights
from firmware_models.lif.reference import FloatTrace, LifPhysical, simulate

from ..hardware.core import Core, Recording
from ..hardware.spec import CoreSpec
from ..hardware.synapses import SynapseMemory
from .figures import chip_label, legend_beside, new_figure, raster_title, save

N_NEURONS = 8
N_INPUTS = 16


@dataclass(frozen=True)
class DemoResult:
    spec: CoreSpec
    dt: float
    quantised: QuantisedLif
    core: Recording
    realised: FloatTrace
    asked: FloatTrace
    deviation_lsb: np.ndarray   # (ticks, n): v_int - V_float(realised) in LSB
    bound_lsb: np.ndarray       # (ticks, n): largest |deviation| the bound allows
    first_divergence: int | None  # first tick whose spikes differ (core vs realised float)

    @property
    def v_core_volts(self) -> np.ndarray:
        return self.quantised.scales.volts(self.core["v"])


def demo_network(seed: int = 7) -> tuple[LifPhysical, np.ndarray, float]:
    """Physical parameters, input weights (inputs × neurons, amperes) and input rate (Hz)."""
    rng = np.random.default_rng(seed)
    alpha = np.where(np.arange(N_NEURONS) >= N_NEURONS - 2, 4e-3, 0.0)
    bias = np.where(np.arange(N_NEURONS) < 2, 0.22e-9, 0.0)
    p = LifPhysical(C=160e-12, g_L=10e-9, E_L=-70e-3, V_th=-50e-3, V_reset=-65e-3,
                    T_ref=2e-3, tau_syn=4e-3, tau_theta=64e-3, alpha=alpha, I_bias=bias)
    weights = rng.normal(0.15e-9, 0.2e-9, size=(N_INPUTS, N_NEURONS))
    return p, weights, 20.0


DEMO_STAGES = 4  # core run, float (realised), float (asked), error bound


def run_demo(ticks: int = 1000, dt: float = 1e-3, spec: CoreSpec | None = None,
             seed: int = 7, progress=None) -> DemoResult:
    """The demo network on a core and on the float reference; ``progress()``, when
    given, is called after each of its ``DEMO_STAGES`` stages."""
    step = progress if progress is not None else (lambda: None)
    spec = spec or CoreSpec(n_slots=N_NEURONS, n_axons=N_INPUTS, synapse_words=1024)
    p, weights, rate = demo_network(seed)
    q = quantise(p, dt, spec, n=N_NEURONS)
    post = np.tile(np.arange(N_NEURONS), N_INPUTS)
    qw = quantise_weights(weights.ravel(), q.scales.i_lsb[post], spec)
    synapses = SynapseMemory.from_lists(N_INPUTS, np.repeat(np.arange(N_INPUTS), N_NEURONS),
                                        post, qw.w, qw.w_exp)
    core = Core(spec, q.params, synapses)
    inputs = np.random.default_rng(seed + 1).random((ticks, N_INPUTS)) < rate * dt
    recording = core.run(ticks, inputs.astype(np.int64), record=("spikes", "v", "i", "theta"))
    step()

    realised_w = qw.error.realised.reshape(N_INPUTS, N_NEURONS)
    realised = simulate(q.realised, dt, ticks, n=N_NEURONS, syn_input=inputs @ realised_w)
    step()
    asked = simulate(p.broadcast(N_NEURONS), dt, ticks, n=N_NEURONS,
                     syn_input=inputs @ weights)
    step()

    deviation = recording["v"] - (realised.V - q.scales.E_L) / q.scales.v_lsb
    bound = _bound_trace(q.params, spec.rounding, recording)
    step()
    differs = np.flatnonzero((recording.spikes != realised.spikes).any(axis=1))
    first = int(differs[0]) if differs.size else None
    return DemoResult(spec, dt, q, recording, realised, asked, deviation, bound, first)


def _bound_trace(params: LifParams, rounding: str, recording: Recording) -> np.ndarray:
    bound = ErrorBound(params, rounding)
    spikes = recording.spikes
    out = np.zeros(spikes.shape)
    refractory = np.zeros(params.n, dtype=bool)
    remaining = np.zeros(params.n, dtype=np.int64)
    for t in range(spikes.shape[0]):
        refractory = remaining > 0
        remaining = remaining - refractory
        bound.integrate(refractory)
        out[t] = np.maximum(np.abs(bound.v[0]), np.abs(bound.v[1]))
        bound.reset(spikes[t])
        remaining = np.where(spikes[t], params.t_ref, remaining)
    return out


def demo_figure(result: DemoResult):
    """Membrane of two neurons (core, float with realised and with asked parameters) and
    the spikes of all, core and float (a ``matplotlib.figure.Figure``)."""
    ticks, n = result.core["v"].shape
    t_ms = (np.arange(ticks) + 1) * result.dt * 1e3
    shown = [1, n - 1]
    spec = result.spec
    emulator = chip_label("emulator", dialect=spec.dialect, v_bits=spec.v_bits,
                          i_bits=spec.i_bits, w_bits=spec.w_bits, rounding=spec.rounding)
    fig, axes = new_figure(len(shown) + 1, 1, figsize=(10.5, 7.5), sharex=True)
    for ax, j in zip(axes, shown):
        ax.plot(t_ms, result.asked.V[:, j] * 1e3, color="0.6", lw=1,
                label="float reference (parameters asked)")
        ax.plot(t_ms, result.realised.V[:, j] * 1e3, color="C0", lw=1,
                label="float reference (parameters realised)")
        ax.plot(t_ms, result.v_core_volts[:, j] * 1e3, color="C3", lw=0.8, ls="--",
                label=emulator)
        ax.set_ylabel(f"neuron {j}\nV (mV)")
    legend_beside(axes[0])
    ax = axes[-1]
    core_t, core_n = np.nonzero(result.core.spikes)
    float_t, float_n = np.nonzero(result.realised.spikes)
    ax.scatter(t_ms[float_t], float_n + 0.15, s=6, color="C0",
               label="float reference (parameters realised)")
    ax.scatter(t_ms[core_t], core_n - 0.15, s=6, color="C3", label=emulator)
    ax.set_ylabel("neuron")
    ax.set_xlabel("time (ms)")
    legend_beside(ax)
    raster_title(ax, f"spikes: {emulator} {len(core_t)}, float reference (parameters "
                     f"realised) {len(float_t)}")
    fig.suptitle(f"neurochip demo: {n} LIF neurons on one core, dt = {result.dt * 1e3:g} ms")
    return fig


def plot_demo(result: DemoResult, path: str) -> None:
    """Write ``demo_figure(result)`` to ``path`` (PNG)."""
    save(demo_figure(result), path, dpi=120)


def summary(result: DemoResult) -> str:
    spec, q = result.spec, result.quantised
    ticks, n = result.core["v"].shape
    lines = [f"neurochip demo: {n} LIF neurons on 1 core ({spec.v_bits}-bit v, {spec.i_bits}-bit "
             f"i, {spec.rounding} rounding), dt = {result.dt * 1e3:g} ms, {ticks} ticks",
             f"1 LSB of v = {q.scales.v_lsb * 1e3:.4g} mV; parameters asked and realised:",
             q.report(),
             "",
             f"{'neuron':>6} {'spikes core':>12} {'float realised':>15} {'float asked':>12} "
             f"{'max |dv| LSB':>13} {'bound LSB':>10}"]
    core_counts = result.core.spike_counts()
    realised_counts = result.realised.spikes.sum(axis=0)
    asked_counts = result.asked.spikes.sum(axis=0)
    agreed = slice(0, result.first_divergence if result.first_divergence is not None else ticks)
    dev = np.abs(result.deviation_lsb[agreed]).max(axis=0, initial=0.0)
    bound = result.bound_lsb[agreed].max(axis=0, initial=0.0)
    for j in range(n):
        lines.append(f"{j:>6} {int(core_counts[j]):>12} {int(realised_counts[j]):>15} "
                     f"{int(asked_counts[j]):>12} {dev[j]:>13.3f} {bound[j]:>10.1f}")
    largest = float(dev.max(initial=0.0))
    lines += ["",
              f"spikes: core {int(core_counts.sum())}, float (realised parameters) "
              f"{int(realised_counts.sum())}, float (asked parameters) {int(asked_counts.sum())}",
              f"largest membrane deviation core vs float: {largest:.3f} LSB "
              f"({largest * q.scales.v_lsb * 1e3:.4g} mV); provable bound "
              f"{float(bound.max(initial=0.0)):.1f} LSB",
              "spike trains identical" if result.first_divergence is None else
              f"spike trains first differ at tick {result.first_divergence}",
              f"overflows: {sum(result.core.overflow.values())}"]
    return "\n".join(lines)
