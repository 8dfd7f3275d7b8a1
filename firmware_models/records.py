"""Per-slot integer parameter records: building them from scalars or sequences.

Every model's parameter record is a frozen dataclass of ``int64`` arrays, one entry per
slot; ``int_fields`` turns keyword values (scalars broadcast, sequences per slot) into
those arrays and refuses anything that is not a whole number, naming the field.
"""

from __future__ import annotations

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
