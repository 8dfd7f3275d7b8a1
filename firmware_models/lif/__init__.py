"""The reference LIF: integer kernel, floating-point twin, quantiser, analytic results."""

from .kernel import LIF, RESET_MODES, LifParams, LifState, lif_step

__all__ = ["LIF", "RESET_MODES", "LifParams", "LifState", "lif_step"]
