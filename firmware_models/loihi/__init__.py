"""The Loihi dialect (Lava 0.10 ``PyLifModelBitAcc``): kernel, float twin, quantiser."""

from .kernel import LOIHI, LoihiParams, LoihiState, loihi_step

__all__ = ["LOIHI", "LoihiParams", "LoihiState", "loihi_step"]
