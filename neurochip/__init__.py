"""neurochip: a cycle-accurate, bit-exact emulator of neuromorphic cores."""

from .hardware.checkpoint import Checkpoint, CheckpointError
from .hardware.core import Core
from .compiler.dialects import DIALECTS, dialect_model, dialect_spec, loihi_network, xylo_network
from .hardware.engine import Engine, Layout, Recording
from .hardware.fixed import (Arithmetic, RegisterOverflowError, overflowed, saturate, shift_right,
                    value_range, wrap)
from .hardware.lfsr import CoreLfsr, NoiseBank
from .hardware.routing import AxonBuffer, RoutingTable
from .hardware.spec import CoreSpec, SpecError
from .hardware.synapses import SynapseMemory

__version__ = "0.1.0"

__all__ = ["Arithmetic", "AxonBuffer", "Checkpoint", "CheckpointError", "Core", "CoreLfsr", "CoreSpec", "DIALECTS", "Engine",
           "Layout", "dialect_model", "dialect_spec", "loihi_network", "xylo_network",
           "NoiseBank", "Recording",
           "RegisterOverflowError", "RoutingTable", "SpecError", "SynapseMemory", "overflowed",
           "saturate", "shift_right", "value_range", "wrap"]
