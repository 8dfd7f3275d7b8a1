"""neurochip: a cycle-accurate, bit-exact emulator of neuromorphic cores."""

from .core import Core
from .dialects import DIALECTS, dialect_model, dialect_spec, loihi_network, xylo_network
from .engine import Engine, Layout, Recording
from .fixed import (Arithmetic, RegisterOverflowError, overflowed, saturate, shift_right,
                    value_range, wrap)
from .lfsr import CoreLfsr, NoiseBank
from .routing import AxonBuffer, RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory

__version__ = "0.1.0"

__all__ = ["Arithmetic", "AxonBuffer", "Core", "CoreLfsr", "CoreSpec", "DIALECTS", "Engine",
           "Layout", "dialect_model", "dialect_spec", "loihi_network", "xylo_network",
           "NoiseBank", "Recording",
           "RegisterOverflowError", "RoutingTable", "SpecError", "SynapseMemory", "overflowed",
           "saturate", "shift_right", "value_range", "wrap"]
