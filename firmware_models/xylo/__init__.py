"""The Xylo dialect (xylosim 0.1.3 v2, Rockpool 3.1 ``XyloSim``): kernel, float twin,
quantiser."""

from .kernel import XYLO, XyloParams, XyloState, xylo_step

__all__ = ["XYLO", "XyloParams", "XyloState", "xylo_step"]
