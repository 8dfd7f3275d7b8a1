"""Durations as people type them: ``"0.1ms"``, ``"1e-4s"``, ``"100us"``, or a bare number
in a unit the caller states (the CLI's ``--dt`` takes milliseconds, the Python API
seconds), so one parser serves every entry point."""

from __future__ import annotations

import math
import re

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zµ]*)\s*\Z")


def parse_duration(value, bare_unit: str = "s", what: str = "dt") -> float:
    """``value`` in seconds: a number (in ``bare_unit``) or a string with a unit from
    ``UNITS``; positive and finite, or a ``ValueError`` naming ``what`` and the value."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a duration such as 1ms or 1e-4s, got {value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), bare_unit
    else:
        match = _DURATION.match(str(value))
        if match is None or (match.group(2) and match.group(2) not in UNITS):
            raise ValueError(f"{what} must be a duration such as 1ms, 0.1ms or 1e-4s "
                             f"(units {', '.join(UNITS)}), got {value!r}")
        number, unit = float(match.group(1)), match.group(2) or bare_unit
    seconds = number * UNITS[unit]
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """``1e-3`` -> ``"1 ms"``: the largest unit in which the value is at least 1."""
    for unit in ("s", "ms", "us", "ns"):
        if seconds >= UNITS[unit] or unit == "ns":
            return f"{seconds / UNITS[unit]:.6g} {unit}"
    raise AssertionError("unreachable")
