"""Per-slot integer parameter records: building them from scalars or sequences.

Every model's parameter record is a frozen dataclass of ``int64`` arrays, one entry per
slot; ``int_fields`` turns keyword values (scalars broadcast, sequences per slot) into
those arrays and refuses anything that is not a whole number, naming the field.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np


def int_fields(record: str, n: int, values: dict) -> dict[str, np.ndarray]:
    """``values`` as ``int64`` arrays of shape ``(n,)``; names ``record.field`` on error."""
    arrays = {}
    for name, value in values.items():
        array = np.asarray(value)
        if array.dtype.kind not in "iub":
            try:
                as_float = array.astype(float)
            except (TypeError, ValueError):
                raise ValueError(f"{record}.{name} must be integers, got {value!r}") from None
            rounded = np.rint(as_float)
            if not np.array_equal(rounded, as_float):
                raise ValueError(f"{record}.{name} must be integers, got {value!r}")
            array = rounded
        try:
            arrays[name] = np.broadcast_to(array.astype(np.int64), (n,)).copy()
        except ValueError:
            raise ValueError(f"{record}.{name} has shape {array.shape}, "
                             f"expected a scalar or ({n},)") from None
    return arrays


class SlotRecord:
    """Mixin for a frozen dataclass of per-slot arrays: its slot count, a selection, and
    the all-zero record (a state record's value after reset)."""

    @classmethod
    def zeros(cls, n: int):
        return cls(*(np.zeros(n, dtype=np.int64) for _ in fields(cls)))

    @property
    def n(self) -> int:
        return getattr(self, fields(self)[0].name).shape[0]

    def take(self, index):
        """The record of the slots ``index`` selects, as the same type."""
        return type(self)(**{f.name: getattr(self, f.name)[index] for f in fields(self)})
