r"""The seed text's ideas as runnable experiments: emulated core vs float reference vs theory.

Each experiment is a function with small default sizes (a few seconds: many neurons with
different inputs side by side on one core, one run) that returns a frozen result
dataclass holding its numbers, with ``summary()`` (the numbers as text) and
``plot(path)`` (one PNG). ``EXPERIMENTS`` maps the command-line names to the functions;
``run_experiment`` runs one, writes ``NAME.png`` and prints its numbers (what
``neurochip experiment NAME`` does).

=================  =========================================================================
``fi-curve``       rate against DC current, core (8/12/16-bit membrane) vs float reference
                   vs ``analytic.rate``, for several refractory periods
``dimensionless``  physically different neurons collapse onto one ``T̂(î)`` curve; the
                   core's registers *are* that dimensionless form
``impedance``      subthreshold gain against frequency: core vs ``|Z(ω)|`` vs
                   ``analytic.discrete_gain`` (the exact response of the per-tick filter)
``adaptation``     ISI sequences from phasic to tonic as ``alpha`` and ``tau_theta`` vary
``jitter``         spike-time jitter against noise amplitude and membrane slope, compared
                   with ``σ_t ≈ σ_V / |dV/dt|``; Gaussian (float) vs LFSR (core) noise
``nonlinear-leak`` the LIF as the local linearisation of a quadratic leak: QIF float vs
                   QIF core (``firmware_models.qif``) vs the tangent LIF at ``V0``, whose
                   steady-state error ``c x² / g_eff`` grows with the square of the distance
=================  =========================================================================

docs/experiments.md gives the maths and the measured numbers of each experiment.

One module per experiment (``fi_curve``, ``dimensionless``, ``impedance``, ``adaptation``,
``jitter``, ``nonlinear_leak``: its result class, its runner and its theory helpers);
``common`` holds what they share and the conventions shared by all (``dt``, refractory
ticks, spike times); ``registry`` holds ``EXPERIMENTS``, ``LEFT_OUT``, ``output_path`` and
``run_experiment``.
"""

from .adaptation import ALPHAS, TAU_THETAS, AdaptationResult, adaptation, adaptation_steady_isi
from .common import BASE, DT, first_passage_ticks, integer_isi_bracket, spike_intervals
from .dimensionless import I_HATS, NEURON_TYPES, DimensionlessResult, dimensionless
from .fi_curve import FI_RATIOS, FiCurveResult, fi_curve
from .impedance import IMPEDANCE_CYCLES, ImpedanceResult, current_events, impedance
from .jitter import (JITTER_RATIOS, JITTER_SIGMA_V, JitterResult, compensate_noise_mean, jitter,
                     jitter_prediction, noise_mean_lsb)
from .nonlinear_leak import (NL_DISPLACEMENTS, NL_SUPRA, QIF_BASE, NonlinearLeakResult,
                             nonlinear_leak)
from .registry import EXPERIMENTS, LEFT_OUT, output_path, run_experiment

#: the name tests/test_experiments.py calls it by (``common.spike_intervals``)
_intervals = spike_intervals

__all__ = [
    "ALPHAS",
    "BASE",
    "DT",
    "EXPERIMENTS",
    "FI_RATIOS",
    "IMPEDANCE_CYCLES",
    "I_HATS",
    "JITTER_RATIOS",
    "JITTER_SIGMA_V",
    "LEFT_OUT",
    "NEURON_TYPES",
    "NL_DISPLACEMENTS",
    "NL_SUPRA",
    "QIF_BASE",
    "TAU_THETAS",
    "AdaptationResult",
    "DimensionlessResult",
    "FiCurveResult",
    "ImpedanceResult",
    "JitterResult",
    "NonlinearLeakResult",
    "adaptation",
    "adaptation_steady_isi",
    "compensate_noise_mean",
    "current_events",
    "dimensionless",
    "fi_curve",
    "first_passage_ticks",
    "impedance",
    "integer_isi_bracket",
    "jitter",
    "jitter_prediction",
    "noise_mean_lsb",
    "nonlinear_leak",
    "output_path",
    "run_experiment",
    "spike_intervals",
]
