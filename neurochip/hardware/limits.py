"""Resource limits shared by the hardware and the file formats: the memory budget a load
or a run may ask for before it allocates, and the time a file read may take.

* ``memory_budget()``: bytes, from the environment variable ``NEUROCHIP_MEMORY_BUDGET``
  (an integer number of bytes, or with a unit: ``"512MiB"``, ``"8GiB"``, ``"2GB"``);
  default 4 GiB. Loaders and runs estimate what they will allocate and refuse, with the
  estimate, what exceeds it (``over_budget``).
* ``read_timeout()``: seconds a file read may take before the reader is killed, from
  ``NEUROCHIP_READ_TIMEOUT`` (default 5 s).

A bad value of either variable is a ``ValueError`` naming it.
"""

from __future__ import annotations

import os
import re

MEMORY_BUDGET_VAR = "NEUROCHIP_MEMORY_BUDGET"
READ_TIMEOUT_VAR = "NEUROCHIP_READ_TIMEOUT"
DEFAULT_MEMORY_BUDGET = 4 * 2 ** 30
DEFAULT_READ_TIMEOUT = 5.0

_UNITS = {"": 1, "b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
          "kib": 2 ** 10, "mib": 2 ** 20, "gib": 2 ** 30, "tib": 2 ** 40}


def parse_bytes(text: str | int, what: str = MEMORY_BUDGET_VAR) -> int:
    """``"4GiB"``, ``"512 MB"``, ``"1e9"`` or ``4096`` as a positive number of bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError(f"{what} must be a number of bytes (e.g. 4294967296 or '4GiB'), "
                             f"got {text!r}")
        try:
            value = float(m.group(1)) * _UNITS[m.group(2).lower()]
        except ValueError:
            raise ValueError(f"{what} must be a number of bytes, got {text!r}") from None
    if not (value >= 1 and value < 2 ** 63):
        raise ValueError(f"{what} must be at least 1 byte, got {text!r}")
    return int(value)


def memory_budget() -> int:
    """The memory budget in bytes (``NEUROCHIP_MEMORY_BUDGET``, default 4 GiB)."""
    text = os.environ.get(MEMORY_BUDGET_VAR, "").strip()
    return parse_bytes(text) if text else DEFAULT_MEMORY_BUDGET


def read_timeout() -> float:
    """Seconds a file read may take (``NEUROCHIP_READ_TIMEOUT``, default 5)."""
    text = os.environ.get(READ_TIMEOUT_VAR, "").strip()
    if not text:
        return DEFAULT_READ_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 < value < 1e6):
        raise ValueError(f"{READ_TIMEOUT_VAR} must be a positive number of seconds, got "
                         f"{text!r}")
    return value


def format_bytes(n: float) -> str:
    """``n`` bytes for a message: ``"3.2 GiB"``, ``"639 PiB"``."""
    for unit, size in (("EiB", 2 ** 60), ("PiB", 2 ** 50), ("TiB", 2 ** 40), ("GiB", 2 ** 30),
                       ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def over_budget(estimate: float, what: str) -> str | None:
    """``None`` when ``estimate`` bytes fit the budget, else the sentence saying why not
    (``what`` says what needs them: "the unrolled convolution (1e9 synapses)")."""
    budget = memory_budget()
    if estimate <= budget:
        return None
    return (f"{what} needs about {format_bytes(estimate)}, over the memory budget of "
            f"{format_bytes(budget)} ({MEMORY_BUDGET_VAR})")
