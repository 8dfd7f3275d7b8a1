"""What one core holds must fit its spec: capacities, parameter fields, synapse rows,
routes. ``Core`` checks its own configuration and ``Chip`` every core of its mesh with
the same function, so a refusal reads the same wherever it comes from.
"""

from __future__ import annotations

import numpy as np

from firmware_models.base import FirmwareModel, first_violation

from .routing import RoutingTable
from .spec import CoreSpec, SpecError
from .synapses import SynapseMemory

DEFAULT_LFSR_SEED = 0xACE1


def validate_params(model: FirmwareModel, params, spec: CoreSpec, core: int = 0) -> None:
    """Refuse a parameter value that does not fit its field, naming core, slot and field."""
    bad = first_violation(params, model.param_formats(spec))
    if bad is not None:
        lo, hi = bad.format.range
        kind = "signed" if bad.format.signed else "unsigned"
        raise SpecError(f"core {core}, slot {bad.index}: parameter {bad.field}={bad.value} "
                        f"outside {lo}..{hi} ({bad.format.bits}-bit {kind})")
    if hasattr(params, "noise_bits") and params.noise_bits.max(initial=0) > spec.noise_bits_max:
        slot = int(np.flatnonzero(params.noise_bits > spec.noise_bits_max)[0])
        raise SpecError(f"core {core}, slot {slot}: parameter noise_bits="
                        f"{int(params.noise_bits[slot])} exceeds noise_bits_max="
                        f"{spec.noise_bits_max}")
    check_leak = getattr(model.params_type, "leak_violation", None)
    bad_leak = check_leak(params, spec) if check_leak is not None else None
    if bad_leak is not None:
        field, slot, value = bad_leak
        shift = "k" + field[1:]
        why = (f"the core has no leak mantissas (leak_bits=0), so {field} must be 1"
               if not spec.leak_bits else
               f"exceeds 2^{shift}={1 << int(getattr(params, shift)[slot])} (the decay "
               f"1 - {field} 2^-{shift} would be negative)")
        raise SpecError(f"core {core}, slot {slot}: parameter {field}={value}: {why}")


def validate_core(spec: CoreSpec, model: FirmwareModel, params, synapses: SynapseMemory,
                  routes: RoutingTable, core: int = 0, n_cores: int = 1) -> None:
    """Everything one core holds must fit its capacities and fields; names what does not."""
    if not isinstance(params, model.params_type):
        raise SpecError(f"core {core}: the {model.name} model takes "
                        f"{model.params_type.__name__}, got {type(params).__name__} (the "
                        f"spec's dialect is {spec.dialect!r})")
    n = params.n
    if n > spec.n_slots:
        raise SpecError(f"core {core}: {n} neurons, capacity n_slots={spec.n_slots} "
                        f"(short by {n - spec.n_slots})")
    validate_params(model, params, spec, core)
    synapses.validate(spec, n, core, model.targets)
    if routes.route_start.size != n + 1:
        raise SpecError(f"core {core}: routing table has {routes.route_start.size - 1} "
                        f"slots, the core has {n}")
    routes.validate(spec, spec.n_axons, core, n_cores)
