"""``impedance``: subthreshold gain against frequency: core vs ``|Z(ω)|`` vs
``analytic.discrete_gain`` (the exact response of the per-tick filter; docs/experiments.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from firmware_models.lif import analytic
from firmware_models.lif.quantiser import quantise
from firmware_models.lif.reference import LifPhysical, simulate

from ...hardware.core import Core
from ...hardware.synapses import SynapseMemory
from ..figures import new_figure, save
from .common import BASE, DT, core_spec, label_axes, ms, nA


#: whole cycles of the drive in the fit window (4096 ticks): 0.98 Hz .. 1.95 kHz at 0.25 ms
IMPEDANCE_CYCLES = (1, 2, 3, 5, 8, 13, 20, 32, 50, 80, 128, 200, 320, 512, 800, 1280, 2000)
_DRIVE_BITS = 8  # the current is delivered as binary-weighted events: |i| <= 2^8 - 1


def _fit_amplitude(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Amplitude of the (cos θ, sin θ) part of a least-squares fit of each column of
    ``x`` (samples × neurons) to ``(cos θ, sin θ, 1)`` (``theta``: samples × neurons)."""
    out = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        basis = np.stack([np.cos(theta[:, j]), np.sin(theta[:, j]), np.ones(len(x))], axis=1)
        coef, *_ = np.linalg.lstsq(basis, x[:, j], rcond=None)
        out[j] = math.hypot(coef[0], coef[1])
    return out


def current_events(counts: np.ndarray) -> tuple[np.ndarray, SynapseMemory]:
    """A per-tick integer current ``counts`` (ticks × n, LSB of ``i``) as synaptic events.

    Neuron ``j`` gets ``2 · 8`` axons, ``16 j + 8 s + b`` with weight ``±1`` (``s = 0``:
    +, ``s = 1``: −) and row exponent ``b``; bit ``b`` of ``|counts|`` is one event on the
    axon of its sign. With ``k_i = 0`` the current register is the tick's ``acc``, i.e.
    exactly ``counts[k]``. Returns the event counts (ticks × 16 n) and the synapse memory.
    """
    counts = np.asarray(counts, dtype=np.int64)
    top = (1 << _DRIVE_BITS) - 1
    if np.abs(counts).max(initial=0) > top:
        raise ValueError(f"current of {int(np.abs(counts).max())} LSB per tick exceeds the "
                         f"{top} the binary event drive carries")
    ticks, n = counts.shape
    bits = np.arange(_DRIVE_BITS)
    pos = (np.maximum(counts, 0)[:, :, None] >> bits) & 1
    neg = (np.maximum(-counts, 0)[:, :, None] >> bits) & 1
    events = np.stack([pos, neg], axis=2).reshape(ticks, n * 2 * _DRIVE_BITS)
    axon = np.arange(n * 2 * _DRIVE_BITS)
    slot = axon // (2 * _DRIVE_BITS)
    sign = np.where((axon // _DRIVE_BITS) % 2 == 0, 1, -1)
    w_exp = axon % _DRIVE_BITS
    return events, SynapseMemory.from_lists(axon.size, axon, slot, sign, w_exp)


@dataclass(frozen=True)
class ImpedanceResult:
    """Subthreshold gain (relative to DC, i.e. ``|Z| / R``) per frequency.

    ``gain_discrete_asked`` is ``discrete_gain(ω, dt, e^{-dt/tau_m})`` (the float
    reference's exact response), ``gain_discrete_core[b]`` the same with the core's
    ``a = 1 - 2^-k_v``; ``bound[b]`` the largest ``|gain_core - gain_discrete_core|``
    the quantisation allows (``impedance`` docstring).
    """

    dt: float
    tau_m: float
    R: float
    window: int
    warmup: int
    amplitude: float           # A
    freqs: np.ndarray          # Hz
    v_bits: tuple
    gain_analytic: np.ndarray  # |Z(ω)| / R
    gain_discrete_asked: np.ndarray
    gain_float: np.ndarray     # float reference, parameters as asked, exact sinusoid
    gain_core: np.ndarray      # (n_bits, n_f)
    gain_realised: np.ndarray  # (n_bits, n_f) float reference, realised, same rounded input
    gain_discrete_core: np.ndarray  # (n_bits, n_f)
    k_v: np.ndarray            # (n_bits,)
    drive_lsb: np.ndarray      # (n_bits,) amplitude of the drive in LSB of i per tick
    bound: np.ndarray          # (n_bits,) absolute gain bound
    overflows: np.ndarray      # (n_bits,) register overflows of each core run
    spikes: np.ndarray         # (n_bits, n_f) spikes per neuron (0: stayed subthreshold)

    @property
    def core_error(self) -> np.ndarray:
        """``max |gain_core - gain_discrete_core|`` per membrane width over the neurons
        that stayed subthreshold (``nan`` if none did)."""
        err = np.where(self.spikes == 0, np.abs(self.gain_core - self.gain_discrete_core),
                       -np.inf)
        best = err.max(axis=1)
        return np.where(np.isfinite(best), best, np.nan)

    @property
    def corner(self) -> float:
        """``1 / (2 π tau_m)`` (Hz), where ``|Z| = R / √2``."""
        return 1.0 / (2 * math.pi * self.tau_m)

    def summary(self) -> str:
        lines = [f"impedance: sinusoidal current of {self.amplitude / nA:.3g} nA, tau_m "
                 f"{self.tau_m / ms:g} ms (corner {self.corner:.2f} Hz), dt = "
                 f"{self.dt / ms:g} ms, fit over {self.window} ticks after {self.warmup}",
                 f"{'f Hz':>8} {'|Z|/R':>8} {'disc.':>8} {'float':>8}" + "".join(
                     f" {f'core{b}':>8} {f'disc{b}':>8}" for b in self.v_bits)]
        for i, f in enumerate(self.freqs):
            lines.append(f"{f:>8.2f} {self.gain_analytic[i]:>8.5f} "
                         f"{self.gain_discrete_asked[i]:>8.5f} {self.gain_float[i]:>8.5f}" +
                         "".join(f" {self.gain_core[b, i]:>8.5f} "
                                 f"{self.gain_discrete_core[b, i]:>8.5f}"
                                 for b in range(len(self.v_bits))))
        lines.append("")
        rel = np.abs(self.gain_float / self.gain_discrete_asked - 1).max()
        lines.append(f"float reference vs discrete_gain: largest relative difference {rel:.2g}; "
                     f"vs |Z|/R: {np.abs(self.gain_float / self.gain_analytic - 1).max():.3g} "
                     f"(the per-tick filter is not the continuous one near Nyquist)")
        for b, bits in enumerate(self.v_bits):
            spiked = self.freqs[self.spikes[b] > 0]
            lines.append(f"{bits:>2}-bit core (k_v = {int(self.k_v[b])}, drive "
                         f"{self.drive_lsb[b]:.4g} LSB/tick): max |gain - discrete_gain| "
                         f"{self.core_error[b]:.3g}, bound {self.bound[b]:.3g} "
                         f"({'inside' if self.core_error[b] <= self.bound[b] else 'OUTSIDE'})"
                         + ("; fired (not subthreshold, left out) at "
                            + ", ".join(f"{f:.3g}" for f in spiked) + " Hz" if spiked.size
                            else ""))
        return "\n".join(lines)

    def plot(self, path: str) -> None:
        """Write ``figure()`` to ``path`` (PNG)."""
        save(self.figure(), path)

    def figure(self):
        """The experiment's figure (a ``matplotlib.figure.Figure``)."""
        fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.5))
        fine = np.geomspace(self.freqs.min(), 0.5 / self.dt, 400)
        ax1.loglog(fine, 1 / np.sqrt(1 + (2 * np.pi * fine * self.tau_m) ** 2), "k-", lw=1,
                   label="|Z|/R = 1/√(1+(ωτ)²)")
        ax1.loglog(fine, analytic.discrete_gain(2 * np.pi * fine, self.dt,
                                                math.exp(-self.dt / self.tau_m)),
                   "k--", lw=1, label="discrete_gain (per-tick filter)")
        ax1.loglog(self.freqs, self.gain_float, "o", mfc="none", color="0.3",
                   label="float reference")
        for b, bits in enumerate(self.v_bits):
            ax1.loglog(self.freqs, np.maximum(self.gain_core[b], 1e-4), "x", color=f"C{b}",
                       label=f"core, {bits}-bit membrane")
            ax2.semilogx(self.freqs, self.gain_core[b] - self.gain_discrete_core[b], "x-",
                         color=f"C{b}", lw=0.8, label=f"{bits}-bit (bound ±{self.bound[b]:.2g})")
            ax2.axhline(self.bound[b], color=f"C{b}", lw=0.6, ls=":")
            ax2.axhline(-self.bound[b], color=f"C{b}", lw=0.6, ls=":")
        ax1.axvline(self.corner, color="0.7", lw=0.8)
        label_axes(ax1, "frequency (Hz)", "gain |V| / (R |I|)",
                   "subthreshold gain: a low-pass filter", legend=7)
        ax2.set_yscale("symlog", linthresh=1e-3)
        label_axes(ax2, "frequency (Hz)", "core gain - discrete_gain(1 - 2^-k_v)",
                   "core vs the exact per-tick response (dotted: bounds)", legend=7)
        return fig


def impedance(*, dt: float = DT, window: int = 4096, cycles=IMPEDANCE_CYCLES,
              amplitude: float = 0.8, v_bits=(8, 12, 16), neuron: LifPhysical = BASE,
              warmup_taus: float = 20.0) -> ImpedanceResult:
    r"""Gain of the membrane for a sinusoidal current ``I_k = I_1 cos(ω k dt)`` (held over
    tick ``k``), one neuron per frequency; ``amplitude`` is ``I_1`` in units of the
    rheobase (below 1 the neuron never fires).

    Frequencies are ``m / (window dt)`` for the whole numbers of cycles ``m``, so that the
    fit window holds whole periods and ``cos, sin, 1`` are orthogonal on it: the fitted
    amplitude of a sequence ``x`` is then ``max_φ (2/N) Σ x_k cos(θ_k - φ)``, which is at
    most ``U - L`` for any ``x_k`` in ``[L, U]`` (remove the midpoint; ``|cos| <= 1``).

    On the core the current reaches ``v`` through the current register with ``k_i = 0``
    (``i`` = this tick's events, ``current_events``), rounded to ``c_k = round(I_k /
    i_lsb)``. In LSB, ``v`` is the ideal filter ``v' = a v + c`` (``a = 1 - 2^-k_v``)
    plus the floor error ``e_k`` in ``[0, 2^k_v - 1)`` (docs/error-bounds.md) plus the
    filtered rounding residual, in ``[-2^(k_v-1), 2^(k_v-1)]``. The ideal filter answers
    ``I_1 cos`` with amplitude ``2^k_v A_1 |H|``, ``A_1 = I_1 / i_lsb``,
    ``|H| = discrete_gain(ω, dt, a)``; so

        |gain_core - discrete_gain| <= (2^(k_v+1) - 1) / (2^k_v A_1) + a^W

    where ``a^W`` covers the start-up transient left after ``W`` warm-up ticks. The
    bound shrinks as ``1/A_1``: it is a statement about how many LSB the drive spans.
    """
    cycles = np.asarray(cycles, dtype=np.int64)
    if np.any(cycles < 1) or np.any(2 * cycles >= window):
        raise ValueError(f"cycles must be in 1..{window // 2 - 1} (below Nyquist)")
    n = cycles.size
    freqs = cycles / (window * dt)
    omega = 2 * np.pi * freqs
    p = neuron.broadcast(n)
    I1 = amplitude * float(analytic.rheobase(neuron))
    tau = float(neuron.tau_m)
    warmup = math.ceil(warmup_taus * tau / dt)
    ticks = warmup + window
    k = np.arange(ticks)
    drive = I1 * np.cos(omega[None, :] * k[:, None] * dt)             # (ticks, n) A
    theta = omega[None, :] * k[warmup:, None] * dt

    trace = simulate(p, dt, ticks, n=n, I_ext=drive)
    gain_float = _fit_amplitude(trace.V[warmup:] - p.E_L, theta) / (I1 * p.R)
    gain_discrete_asked = np.asarray(analytic.discrete_gain(omega, dt, math.exp(-dt / tau)))

    g_core, g_real, g_disc, k_vs, A1s, bounds, overflows, spikes = ([] for _ in range(8))
    for bits in v_bits:
        spec = core_spec(n, bits, n_axons=n * 2 * _DRIVE_BITS)
        q = quantise(p, dt, spec, n=n)
        params = replace(q.params, k_i=np.zeros(n, dtype=np.int64))
        kv = int(q.params.k_v[0])
        i_lsb = float(q.scales.i_lsb[0])
        counts = np.rint(drive / i_lsb).astype(np.int64)
        events, synapses = current_events(counts)
        rec = Core(spec, params, synapses).run(ticks, events, record=("spikes", "v"))
        A1 = I1 / i_lsb
        g_core.append(_fit_amplitude(rec["v"][warmup:].astype(float), theta) / (2 ** kv * A1))
        real = simulate(q.realised, dt, ticks, n=n, I_ext=counts * i_lsb)
        g_real.append(_fit_amplitude((real.V[warmup:] - p.E_L) / q.scales.v_lsb, theta)
                      / (2 ** kv * A1))
        a = 1.0 - 2.0 ** -kv
        g_disc.append(np.asarray(analytic.discrete_gain(omega, dt, a)))
        k_vs.append(kv)
        A1s.append(A1)
        bounds.append((2.0 ** (kv + 1) - 1) / (2 ** kv * A1) + a ** warmup)
        overflows.append(sum(rec.overflow.values()))
        spikes.append(rec.spikes.sum(axis=0))
    gain_analytic = np.asarray(analytic.impedance_magnitude(neuron, omega)) / float(neuron.R)
    return ImpedanceResult(
        dt=dt, tau_m=tau, R=float(neuron.R), window=window, warmup=warmup, amplitude=I1,
        freqs=freqs, v_bits=tuple(v_bits), gain_analytic=gain_analytic,
        gain_discrete_asked=gain_discrete_asked, gain_float=gain_float,
        gain_core=np.array(g_core), gain_realised=np.array(g_real),
        gain_discrete_core=np.array(g_disc), k_v=np.array(k_vs), drive_lsb=np.array(A1s),
        bound=np.array(bounds), overflows=np.array(overflows), spikes=np.array(spikes))

