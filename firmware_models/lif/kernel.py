r"""The reference LIF program: what one tick computes, on integer registers.

For every slot, in this order (``shift`` rounds as the core's spec says, ``fit`` writes
a register with the spec's overflow mode and check; ``leak(x, m, k) = shift(x * m, k)``)::

    acc   = fit(acc, "acc")                        # summed w << w_exp of this tick
    i     = fit(i - leak(i, m_i, k_i) + acc, "i")
    if ref > 0:  ref = ref - 1;  v unchanged       # refractory: v is held
    else:        v = fit(v - leak(v, m_v, k_v) + i + bias + noise, "v")
    theta = theta - leak(theta, m_theta, k_theta)  # decays toward 0; cannot overflow
    fire  = (ref was 0) and v >= v_th + theta
    on fire:
        v     = v_reset                  (reset_mode 0, "value")
                fit(v - (v_th + theta))  (reset_mode 1, "subtract")
                v                        (reset_mode 2, "none")
        ref   = t_ref
        theta = fit(theta + alpha, "theta")

``noise = ((word & (2^m - 1)) - 2^(m-1)) << e`` with ``m = noise_bits``,
``e = noise_shift`` and ``word`` the slot's 32-bit LFSR output (zero when ``m = 0``):
uniform on ``[-2^(m-1), 2^(m-1) - 1] · 2^e``.

``x - leak(x, m, k)`` multiplies by ``1 - m 2^-k`` up to rounding: an exponential decay
with ``tau_eff = -dt / ln(1 - m 2^-k)``. The leak mantissas ``m_i``, ``m_v``, ``m_theta``
are ``CoreSpec.leak_bits`` wide (``0 <= m <= 2^k``); ``m = 1`` is the plain shift leak
``x - shift(x, k)`` bit for bit, ``m = 0`` no leak at all (exact), and a core with
``leak_bits = 0`` has no mantissa fields (every ``m`` is 1). During the refractory period
``v`` keeps the value the reset left (``v_reset`` with reset to value).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from ..base import Arithmetic, FieldFormat, FirmwareModel, compiled_loader
from ..records import SlotRecord, int_fields

RESET_MODES = ("value", "subtract", "none")


@dataclass(frozen=True)
class LifParams:
    """Integer parameter fields, one array entry per slot (all ``int64``)."""

    k_i: np.ndarray
    k_v: np.ndarray
    k_theta: np.ndarray
    bias: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    t_ref: np.ndarray
    alpha: np.ndarray
    reset_mode: np.ndarray
    noise_bits: np.ndarray
    noise_shift: np.ndarray
    m_i: np.ndarray      # leak mantissas (last, so the rows of the fields above keep
    m_v: np.ndarray      # their places): decay 1 - m 2^-k per tick
    m_theta: np.ndarray

    @classmethod
    def make(cls, n: int, *, k_i=4, k_v=4, k_theta=6, bias=0, v_th=1000, v_reset=0, t_ref=0,
             alpha=0, reset_mode="value", noise_bits=0, noise_shift=0, m_i=1, m_v=1,
             m_theta=1) -> "LifParams":
        """Parameters for ``n`` slots from scalars or per-slot sequences (the leak
        mantissas default to 1: the shift leak)."""
        if isinstance(reset_mode, str) or (np.ndim(reset_mode) and
                                           np.asarray(reset_mode).dtype.kind in "UO"):
            modes = np.atleast_1d(np.asarray(reset_mode))
            unknown = sorted({str(m) for m in modes} - set(RESET_MODES))
            if unknown:
                raise ValueError(f"reset_mode must be one of {RESET_MODES}, got {unknown[0]!r}")
            reset_mode = np.array([RESET_MODES.index(str(m)) for m in modes])
        values = dict(k_i=k_i, k_v=k_v, k_theta=k_theta, bias=bias, v_th=v_th, v_reset=v_reset,
                      t_ref=t_ref, alpha=alpha, reset_mode=reset_mode, noise_bits=noise_bits,
                      noise_shift=noise_shift, m_i=m_i, m_v=m_v, m_theta=m_theta)
        return cls(**int_fields("LifParams", n, values))

    @property
    def n(self) -> int:
        return self.v_th.shape[0]

    def take(self, index) -> "LifParams":
        return LifParams(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @cached_property
    def adaptive(self) -> bool:
        return bool(np.any(self.alpha))

    def leak_violation(self, spec) -> tuple[str, int, int] | None:
        """A leak mantissa this core cannot run (``leak_violation``), or None."""
        return leak_violation(self, spec)

    @cached_property
    def shift_leak(self) -> bool:
        """Every leak mantissa is 1: the leaks are plain shifts (no multiply)."""
        return bool(np.all(self.m_i == 1) and np.all(self.m_v == 1)
                    and np.all(self.m_theta == 1))

    @cached_property
    def noisy(self) -> bool:
        return bool(np.any(self.noise_bits))

    @cached_property
    def single_reset_mode(self) -> int | None:
        modes = np.unique(self.reset_mode)
        return int(modes[0]) if modes.size == 1 else None


@dataclass(frozen=True)
class LifState(SlotRecord):
    """Integer registers, one entry per slot (all ``int64``)."""

    i: np.ndarray
    v: np.ndarray
    theta: np.ndarray
    ref: np.ndarray


def param_formats(spec) -> dict[str, FieldFormat]:
    shift = FieldFormat(spec.shift_bits, False)
    return {
        "k_i": shift, "k_v": shift, "k_theta": shift,
        "bias": FieldFormat(spec.v_bits, True),
        "v_th": FieldFormat(spec.v_bits - 1, False),
        "v_reset": FieldFormat(spec.v_bits, True),
        "t_ref": FieldFormat(spec.ref_bits, False),
        "alpha": FieldFormat(spec.theta_bits, False),
        "reset_mode": FieldFormat(2, False, largest=len(RESET_MODES) - 1),
        "noise_bits": FieldFormat(max(1, spec.noise_bits_max.bit_length()), False),
        "noise_shift": shift,
        **mantissa_formats(spec),
    }


MANTISSAS = ("m_i", "m_v", "m_theta")
SHIFT_OF = {"m_i": "k_i", "m_v": "k_v", "m_theta": "k_theta"}


def mantissa_formats(spec) -> dict[str, FieldFormat]:
    """The leak mantissa fields, ``leak_bits`` wide; none when ``leak_bits`` is 0 (the
    core has no mantissas: every ``m`` must be 1)."""
    bits = getattr(spec, "leak_bits", 0)
    return {name: FieldFormat(bits, False) for name in MANTISSAS} if bits else {}


def leak_violation(p: LifParams, spec) -> tuple[str, int, int] | None:
    """The first (field, slot, value) of a leak mantissa the core cannot run: ``m != 1``
    on a core without mantissa fields, or ``m > 2^k`` (a negative decay factor)."""
    for name in MANTISSAS:
        m, k = getattr(p, name), getattr(p, SHIFT_OF[name])
        bad = (m != 1) if not getattr(spec, "leak_bits", 0) else (m > (np.int64(1) << k))
        if bad.any():
            slot = int(np.flatnonzero(bad)[0])
            return name, slot, int(m[slot])
    return None


def leak(arith: Arithmetic, x: np.ndarray, m: np.ndarray, k: np.ndarray,
         shift_leak: bool) -> np.ndarray:
    """``shift(x * m, k)``: what one tick's leak takes from register ``x``."""
    return arith.shift(x if shift_leak else x * m, k)


def noise_from_words(params: LifParams, words: np.ndarray) -> np.ndarray:
    m = params.noise_bits
    mantissa = (words & ((np.int64(1) << m) - 1)) - ((np.int64(1) << m) >> 1)
    return mantissa << params.noise_shift


def lif_step(p: LifParams, s: LifState, acc: np.ndarray, random_words: np.ndarray | None,
             arith: Arithmetic) -> tuple[LifState, np.ndarray]:
    """One tick of the reference LIF program (module docstring) for every slot."""
    unit = p.shift_leak
    acc = arith.fit(acc, "acc")
    i = arith.fit(s.i - leak(arith, s.i, p.m_i, p.k_i, unit) + acc, "i")

    refractory = s.ref > 0
    drive = s.v - leak(arith, s.v, p.m_v, p.k_v, unit) + i + p.bias
    if random_words is not None and p.noisy:
        drive = drive + noise_from_words(p, random_words)
    v = arith.fit(np.where(refractory, s.v, drive), "v")
    ref = s.ref - refractory

    if p.adaptive or s.theta.any():
        theta = s.theta - leak(arith, s.theta, p.m_theta, p.k_theta, unit)
        threshold = p.v_th + theta
    else:
        theta = s.theta
        threshold = p.v_th
    fired = (v >= threshold) & ~refractory
    if not fired.any():
        return LifState(i, v, theta, ref), fired

    mode = p.single_reset_mode
    if mode == 0:
        v = np.where(fired, p.v_reset, v)
    elif mode == 1:
        v = arith.fit(np.where(fired, v - threshold, v), "v")
    elif mode is None:
        after = np.where(p.reset_mode == 0, p.v_reset,
                         np.where(p.reset_mode == 1, v - threshold, v))
        v = arith.fit(np.where(fired, after, v), "v")
    ref = np.where(fired, p.t_ref, ref)
    if p.adaptive:
        theta = arith.fit(np.where(fired, theta + p.alpha, theta), "theta")
    return LifState(i, v, theta, ref), fired


def is_idle(p: LifParams, before: LifState, acc: np.ndarray, fired: np.ndarray) -> np.ndarray:
    """Slots at rest (all registers 0) whose summed input is 0 (events that cancel count
    as none), with no bias, no noise and no spike: the tick leaves them as they were."""
    return ((before.v == 0) & (before.i == 0) & (before.theta == 0) & (before.ref == 0)
            & (acc == 0) & (p.bias == 0) & (p.noise_bits == 0) & ~fired)


LIF = FirmwareModel(
    name="lif",
    params_type=LifParams,
    state_type=LifState,
    step=lif_step,
    param_formats=param_formats,
    idle=is_idle,
    load_compiled=compiled_loader(__package__),
)
