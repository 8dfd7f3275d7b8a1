"""Field validators of the netlist parser: each takes a raw value and its ``FieldPath``,
and returns the value checked (and converted) or raises ``NetlistError`` naming the
field and the offending value."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import FieldPath
from .schema import MAX_AMPERES, MAX_COUNT, TICK_TOLERANCE, Values, tick_of


def _object(value, path: FieldPath, required: tuple[str, ...], optional: tuple[str, ...] = (),
            *, unknown: str = "unknown key") -> dict:
    if not isinstance(value, dict):
        path.fail("must be an object", value)
    known = (*required, *optional)
    for key in value:
        if not isinstance(key, str):
            path.fail("keys must be strings", key)
        if key not in known:
            path.key(key).fail(f"{unknown} (known: {', '.join(known)})")
    for key in required:
        if key not in value:
            path.key(key).fail("missing required key")
    return value


def _tagged(value, path: FieldPath, tag: str, kinds: tuple[str, ...], what: str) -> str:
    """The ``tag`` of an object that is one of several ``kinds`` (``type``, ``kind``)."""
    if not isinstance(value, dict):
        path.fail("must be an object", value)
    if tag not in value:
        path.key(tag).fail("missing required key")
    kind = value[tag]
    if kind not in kinds or not isinstance(kind, str):
        path.key(tag).fail(f"unknown {what} (known: {', '.join(kinds)})", kind)
    return kind


def _is_number(value) -> bool:
    return type(value) in (int, float)


def _number(value, path: FieldPath, what: str = "must be a number") -> float:
    if not _is_number(value):
        path.fail(what, value)
    try:
        x = float(value)
    except OverflowError:                    # an integer beyond the largest float
        path.fail("must be finite (too large for a 64-bit float)", value)
    if not math.isfinite(x):
        path.fail("must be finite", value)
    return x


def _magnitude(limit: float, unit: str):
    """A ``_values`` check: ``|x| <= limit``."""
    return (lambda x: abs(x) <= limit, f"must be at most {limit:g} {unit} in magnitude")


def _amperes(value, path: FieldPath, what: str = "must be a number (A)") -> float:
    """A current or a weight (A): a number of magnitude at most ``MAX_AMPERES``."""
    x = _number(value, path, what)
    test, problem = _magnitude(MAX_AMPERES, "A")
    if not test(x):
        path.fail(problem, value)
    return x


def _positive(value, path: FieldPath, unit: str) -> float:
    x = _number(value, path, f"must be a positive number of {unit}")
    if not x > 0:
        path.fail(f"must be a positive number of {unit}", value)
    return x


def _nonnegative(value, path: FieldPath, unit: str) -> float:
    x = _number(value, path, f"must be a number of {unit} >= 0")
    if not x >= 0:
        path.fail(f"must be a number of {unit} >= 0", value)
    return x


def _integer(value, path: FieldPath, minimum: int, what: str, maximum: int | None = None) -> int:
    if type(value) is not int or value < minimum:
        path.fail(f"must be {what}", value)
    if maximum is not None and value > maximum:
        path.fail(f"must be at most {maximum}", value)
    return value


MAX_SEED = 2**64 - 1     # seeds are 64-bit words


def _seed(value, path: FieldPath) -> int:
    return _integer(value, path, 0, "a non-negative integer", MAX_SEED)


def _bool(value, path: FieldPath) -> bool:
    if type(value) is not bool:
        path.fail("must be true or false", value)
    return value


def _string(value, path: FieldPath, what: str = "must be a string") -> str:
    if not isinstance(value, str):
        path.fail(what, value)
    return value


def _list(value, path: FieldPath, what: str = "must be a list") -> list:
    if not isinstance(value, list):
        path.fail(what, value)
    return value


def _length(items: list, path: FieldPath, expected: int, why: str) -> None:
    if len(items) != expected:
        path.fail(f"list of length {len(items)}, expected {expected} ({why})")


def _index(value, path: FieldPath, size: int, pop: str) -> int:
    if type(value) is not int or not 0 <= value < size:
        path.fail(f"must be a neuron index in 0..{size - 1} ({pop} has {size} neurons)", value)
    return value


def _time_in_run(value, path: FieldPath, dt: float, duration: float) -> float:
    """A time in ``[0, duration)`` whose tick is inside the run."""
    what = f"must be a time in [0, duration = {duration!r}) s"
    t = _number(value, path, what)
    if not (0 <= t < duration and tick_of(t, dt) < round(duration / dt)):
        path.fail(what, value)
    return t


def _values(value, path: FieldPath, length: int, why: str, check=None) -> Values:
    """A number or a list of ``length`` numbers; ``check = (test, problem)`` per value
    (``problem`` a string, or a function of the value giving one)."""
    test, problem = check if check else (lambda x: True, "")
    if isinstance(value, list):
        _length(value, path, length, why)
        out = tuple(_number(v, path.at(j)) for j, v in enumerate(value))
        for j, x in enumerate(out):
            if not test(x):
                path.at(j).fail(problem(x) if callable(problem) else problem, value[j])
        return out
    x = _number(value, path, f"must be a number or a list of {length} numbers")
    if not test(x):
        path.fail(problem(x) if callable(problem) else problem, value)
    return x


# ====================================================================== sections
@dataclass
class _Context:
    source: str
    dt: float
    duration: float
    sizes: dict[str, int]

    def population(self, value, path: FieldPath) -> str:
        name = _string(value, path, "must be a population name")
        if name not in self.sizes:
            path.fail(f"unknown population {name!r} (known: {', '.join(self.sizes)})")
        return name

    def delay_check(self):
        dt = self.dt
        top = MAX_COUNT * dt
        low = f"must be a number of seconds >= dt = {dt!r} (one tick)"
        return (lambda x: dt * (1 - TICK_TOLERANCE) <= x <= top,
                lambda x: f"must be at most {MAX_COUNT} ticks of dt ({top:g} s)"
                if x > top else low)
