"""What the compiler reports: per-core use of every capacity, the quantisation errors,
the weights clipped or zeroed and the routing entries that leave their core."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from firmware_models.lif.quantiser import ParameterError, format_errors

from .warnings import compile_warnings


@dataclass(frozen=True)
class CoreUse:
    core: int
    slots: int
    axons: int
    synapse_words: int
    routing_entries: int


@dataclass(frozen=True)
class CompileReport:
    partitioner: str
    capacities: dict[str, int]
    cores: tuple[CoreUse, ...]
    parameter_errors: tuple[ParameterError, ...]
    weight_error: ParameterError
    weights_clipped: int
    weights_zeroed: int
    w_exp: int
    delays_rounded: int
    inter_core_entries: int
    inter_core_entries_sequential: int
    # (name, start, stop) per population, in netlist order: warnings name them
    populations: tuple[tuple[str, int, int], ...] = ()
    weight_post: np.ndarray | None = field(default=None, repr=False)   # target per weight
    weight_clipped: np.ndarray | None = field(default=None, repr=False)  # clipped per weight
    zero_shift: dict[str, float] = field(default_factory=dict)  # register zero below E_L
    calibrated: bool = False
    dt: float | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every realised parameter more than 5 % off, every clipped weight, every moved
        register zero: one line each per population and parameter (compiler.warnings)."""
        return compile_warnings(self)

    @property
    def inter_core_ratio(self) -> float:
        """Inter-core routing entries of this partition over those of contiguous blocks."""
        base = self.inter_core_entries_sequential
        return self.inter_core_entries / base if base else 1.0

    def format(self) -> str:
        cap = self.capacities
        lines = ["per-core use (of capacity):",
                 f"{'core':>5} {'slots':>14} {'axons':>14} {'synapse words':>18} "
                 f"{'routing entries':>18}"]
        for c in self.cores:
            lines.append(
                f"{c.core:>5} {_used(c.slots, cap['n_slots']):>14} "
                f"{_used(c.axons, cap['n_axons']):>14} "
                f"{_used(c.synapse_words, cap['synapse_words']):>18} "
                f"{_used(c.routing_entries, cap['routing_entries']):>18}")
        lines += ["", "quantisation (asked → realised):", format_errors(
            (*self.parameter_errors, self.weight_error)),
            f"weights: exponent {self.w_exp}, {self.weights_clipped} clipped, "
            f"{self.weights_zeroed} rounded to zero; {self.delays_rounded} delays rounded "
            f"to whole ticks",
            f"partition ({self.partitioner}): {self.inter_core_entries} routing entries leave "
            f"their core, {self.inter_core_entries_sequential} with contiguous blocks "
            f"(ratio {self.inter_core_ratio:.3f})"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        def error(e: ParameterError) -> dict:
            return {"name": e.name, "unit": e.unit, "max_relative": e.max_relative,
                    "mean_relative": e.mean_relative}
        return {"partitioner": self.partitioner, "capacities": self.capacities,
                "cores": [vars(c) for c in self.cores],
                "parameters": [error(e) for e in self.parameter_errors],
                "weights": {**error(self.weight_error), "clipped": self.weights_clipped,
                            "zeroed": self.weights_zeroed, "w_exp": self.w_exp},
                "delays_rounded": self.delays_rounded,
                "inter_core_entries": self.inter_core_entries,
                "inter_core_entries_sequential": self.inter_core_entries_sequential,
                "inter_core_ratio": self.inter_core_ratio, "calibrated": self.calibrated,
                "warnings": list(self.warnings)}


def _used(used: int, capacity: int) -> str:
    return f"{used} ({100 * used / capacity:.0f}%)"
