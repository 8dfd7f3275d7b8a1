r"""Closed-form results of LIF theory (seed text, "原理与机制"), for ``LifPhysical``.

Constant current (f-I curve). With total current ``I`` (``I`` given plus ``p.I_bias``)
the membrane relaxes to ``V_inf = E_L + R I``; if ``V_inf > V_th`` the neuron fires
periodically with

    T_ISI = T_ref + tau_m ln((V_inf - V_reset) / (V_inf - V_th)),      r = 1 / T_ISI,

and never fires if ``V_inf <= V_th``, i.e. below the rheobase ``g_L (V_th - E_L)``.

Dimensionless form. With ``v̂ = (V - E_L)/(V_th - E_L)``, ``t̂ = t / tau_m`` and
``î = R I / (V_th - E_L)`` the membrane equation becomes ``dv̂/dt̂ = -v̂ + î`` with
threshold 1, and

    T̂ = t̂_ref + ln((î - v̂_r) / (î - 1))        (î > 1; no spike for î <= 1),

so every LIF with the same ``(î, v̂_r, t̂_ref)`` has the same ISI in units of ``tau_m``.

Impedance. For ``I = I_0 e^{iωt}`` the subthreshold response is ``Z(ω) I``, with
``Z(ω) = R / (1 + iωtau_m)``, ``|Z| = R / sqrt(1 + (ωtau_m)^2)``: a first-order low-pass
filter with corner ``ω = 1/tau_m`` where ``|Z| = R/√2``.

Discrete filter. The core's decay ``v' = a v + drive`` (``a = 1 - 2^-k``), normalised to
unit DC gain as ``v' = a v + (1 - a) u``, answers ``u_k = e^{iωk dt}`` in steady state with
``v_k = H e^{iωk dt}``, ``H = (1 - a) / (1 - a e^{-iω dt})``. With ``a = e^{-dt/tau}``,
``|H|^2 = 1 / (1 + sin^2(ω dt/2) / sinh^2(dt/(2 tau)))`` which tends to ``|Z|^2/R^2`` as
``dt -> 0``. The decay ``x - (x >> k)`` has time constant ``tau_eff = -dt/ln(1 - 2^-k)``.

The formulas assume the deterministic model (``sigma`` is ignored) without adaptation
(``alpha = 0``, else ``ValueError``). Reset ``"value"`` uses ``V_reset``; reset
``"subtract"`` in continuous time removes the threshold at the exact crossing, which
leaves ``V = E_L``, so it is the same formula with ``V_reset = E_L``; reset ``"none"``
has no regular ISI (``ValueError``). Functions broadcast over array parameters and
arguments and return a float for all-scalar input.
"""

from __future__ import annotations

import numpy as np

from .reference import LifPhysical


def _out(x):
    x = np.asarray(x)
    return x.item() if x.ndim == 0 else x


def _reset_potential(p: LifPhysical) -> np.ndarray:
    """Potential the ISI starts from: ``V_reset`` (value) or ``E_L`` (subtract)."""
    if np.any(np.asarray(p.alpha) != 0):
        raise ValueError("LifPhysical.alpha must be 0 for the closed-form ISI (an adaptive "
                         "threshold has no constant ISI formula)")
    modes = np.asarray(p.reset)
    if np.any(modes == "none"):
        raise ValueError("LifPhysical.reset 'none' has no regular ISI (V stays above "
                         "threshold)")
    return np.where(modes == "subtract", np.asarray(p.E_L), np.asarray(p.V_reset))


def rheobase(p: LifPhysical):
    """Smallest total current that makes the neuron fire: ``g_L (V_th - E_L)`` (A).

    It is a total current: the extra current needed on top of ``p.I_bias`` is
    ``rheobase(p) - p.I_bias``.
    """
    return _out(np.asarray(p.g_L) * (np.asarray(p.V_th) - np.asarray(p.E_L)))


def v_inf(p: LifPhysical, I):
    """Steady-state potential ``E_L + R (I + I_bias)`` (V)."""
    return _out(np.asarray(p.E_L) + np.asarray(p.R) * (np.asarray(I, dtype=float) +
                                                         np.asarray(p.I_bias)))


def isi(p: LifPhysical, I):
    r"""Inter-spike interval (s) under constant current ``I`` (A, on top of ``p.I_bias``).

    ``T_ref + tau_m ln((V_inf - V_reset)/(V_inf - V_th))`` with ``V_inf = E_L + R I``;
    ``inf`` where ``V_inf <= V_th``.
    """
    V_r = _reset_potential(p)
    vi = np.asarray(v_inf(p, I))
    above = vi > np.asarray(p.V_th)
    num = np.where(above, vi - V_r, 2.0)
    den = np.where(above, vi - np.asarray(p.V_th), 1.0)
    value = np.asarray(p.T_ref) + np.asarray(p.tau_m) * np.log(num / den)
    return _out(np.where(above, value, np.inf))


def rate(p: LifPhysical, I):
    """Firing rate (Hz) under constant current: ``1 / isi``; 0 below rheobase."""
    T = np.asarray(isi(p, I))
    with np.errstate(divide="ignore"):
        return _out(np.where(np.isfinite(T), 1.0 / T, 0.0))


def to_dimensionless(p: LifPhysical, V=None, t=None, I=None):
    r"""Dimensionless voltage, time and/or current of the seed text.

    ``v̂ = (V - E_L)/(V_th - E_L)``, ``t̂ = t/tau_m``, ``î = R I/(V_th - E_L)`` (pure unit
    changes: ``p.I_bias`` is not added). Returns the converted value when one argument is
    given, else a tuple of those given, in the order ``(v̂, t̂, î)``.
    """
    given = [(name, value) for name, value in (("V", V), ("t", t), ("I", I))
             if value is not None]
    if not given:
        raise ValueError("to_dimensionless needs at least one of V, t, I")
    scale = np.asarray(p.V_th) - np.asarray(p.E_L)
    if np.any(scale == 0):
        raise ValueError("LifPhysical.V_th must differ from E_L for the dimensionless form")
    out = []
    for name, value in given:
        value = np.asarray(value, dtype=float)
        if name == "V":
            out.append(_out((value - np.asarray(p.E_L)) / scale))
        elif name == "t":
            out.append(_out(value / np.asarray(p.tau_m)))
        else:
            out.append(_out(np.asarray(p.R) * value / scale))
    return out[0] if len(out) == 1 else tuple(out)


def dimensionless_parameters(p: LifPhysical) -> tuple:
    """``(v̂_r, t̂_ref)`` of ``p``: the reset potential (V_reset, or E_L for reset
    ``"subtract"``) and the refractory period in dimensionless units."""
    return (to_dimensionless(p, V=_reset_potential(p)), to_dimensionless(p, t=p.T_ref))


def isi_dimensionless(i_hat, v_reset_hat, t_ref_hat=0.0):
    r"""``T̂ = t̂_ref + ln((î - v̂_r)/(î - 1))`` for ``î > 1``, ``inf`` for ``î <= 1``.

    Requires ``v̂_r < 1`` (reset below threshold) and ``t̂_ref >= 0``.
    """
    i_hat = np.asarray(i_hat, dtype=float)
    v_r = np.asarray(v_reset_hat, dtype=float)
    t_ref = np.asarray(t_ref_hat, dtype=float)
    if np.any(v_r >= 1):
        raise ValueError(f"v_reset_hat must be below 1 (the threshold), got {v_reset_hat!r}")
    if np.any(t_ref < 0):
        raise ValueError(f"t_ref_hat must be >= 0, got {t_ref_hat!r}")
    above = i_hat > 1
    num = np.where(above, i_hat - v_r, 2.0)
    den = np.where(above, i_hat - 1.0, 1.0)
    return _out(np.where(above, t_ref + np.log(num / den), np.inf))


def impedance(p: LifPhysical, omega):
    """Complex membrane impedance ``Z(ω) = R / (1 + iω tau_m)`` (ohm; ω in rad/s)."""
    omega = np.asarray(omega, dtype=float)
    return _out(np.asarray(p.R) / (1.0 + 1j * omega * np.asarray(p.tau_m)))


def impedance_magnitude(p: LifPhysical, omega):
    """``|Z(ω)| = R / sqrt(1 + (ω tau_m)^2)`` (ohm)."""
    omega = np.asarray(omega, dtype=float)
    return _out(np.asarray(p.R) / np.sqrt(1.0 + (omega * np.asarray(p.tau_m)) ** 2))


def _check_filter(dt, a):
    if np.any(~(np.asarray(dt, dtype=float) > 0)):
        raise ValueError(f"dt must be positive, got {dt!r}")
    a = np.asarray(a, dtype=float)
    if np.any(~((a >= 0) & (a < 1))):
        raise ValueError(f"a must be in [0, 1), got {a!r}")


def discrete_response(omega, dt, a):
    r"""Steady-state complex response of ``v' = a v + (1 - a) u`` to ``u_k = e^{iωk dt}``:
    ``H = (1 - a) / (1 - a e^{-iω dt})`` (``H = 1`` at DC)."""
    _check_filter(dt, a)
    omega, dt, a = (np.asarray(x, dtype=float) for x in (omega, dt, a))
    theta = omega * dt
    # 1 - a e^{-iθ} = (1 - a) + a (1 - cos θ) + i a sin θ, written without the
    # cancellation of 1 - a cos θ when a -> 1 and θ -> 0 (small dt)
    den = (1.0 - a) + a * (2.0 * np.sin(theta / 2) ** 2) + 1j * a * np.sin(theta)
    return _out((1.0 - a) / den)


def discrete_gain(omega, dt, a):
    r"""``|(1 - a) / (1 - a e^{-iω dt})|``: gain of the per-tick recursion
    ``v' = a v + (1 - a) u`` for a sinusoid of ω rad/s, relative to DC (exact, no
    small-dt approximation). Equals
    ``1 / sqrt(1 + 4 a sin^2(ω dt / 2) / (1 - a)^2)``."""
    return _out(np.abs(np.asarray(discrete_response(omega, dt, a))))


def tau_eff(k, dt):
    r"""Time constant (s) of the per-tick decay ``x - (x >> k)``, i.e. ``x (1 - 2^-k)``:

    ``tau_eff = -dt / ln(1 - 2^-k)`` for ``k >= 1``; ``0`` for ``k = 0`` (``x - x = 0``).

    Bounds: with ``x = 2^-k`` in ``(0, 1/2]``, ``-ln(1 - x) = Σ x^n/n`` lies between
    ``x`` (first term) and ``Σ x^n = x/(1 - x)``, strictly for ``x > 0``, so
    ``(2^k - 1) dt < tau_eff < 2^k dt``.
    """
    k_arr = np.asarray(k)
    if k_arr.dtype.kind not in "iub":
        as_float = k_arr.astype(float)
        if not np.all(np.isfinite(as_float)) or np.any(np.rint(as_float) != as_float):
            raise ValueError(f"k must be integer shifts, got {k!r}")
        k_arr = np.rint(as_float).astype(np.int64)
    if np.any(k_arr < 0):
        raise ValueError(f"k must be >= 0, got {k!r}")
    dt = np.asarray(dt, dtype=float)
    if np.any(~(dt > 0)):
        raise ValueError(f"dt must be positive, got {dt!r}")
    x = np.exp2(-k_arr.astype(float))
    with np.errstate(divide="ignore"):
        value = -dt / np.log1p(-x)
    return _out(np.where(k_arr > 0, value, 0.0))
