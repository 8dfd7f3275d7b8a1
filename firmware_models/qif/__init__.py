"""The quadratic integrate-and-fire: a nonlinear leak whose linearisation is the LIF.

``kernel`` (integer program: the quadratic term is a multiply and a shift),
``reference`` (float twin in SI units, analytic fixed point and ISI, the LIF that
linearises it at an operating point), ``quantiser`` (registers and the integer-vs-float
error interval).
"""

from .kernel import QIF, QifParams, QifState, qif_step

__all__ = ["QIF", "QifParams", "QifState", "qif_step"]
