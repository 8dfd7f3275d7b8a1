"""Argument types of the ``neurochip`` command, its parser class and its usage error.

Every type raises ``argparse.ArgumentTypeError`` with a one-line message; ``_Parser``
turns every parse error into a ``UsageError`` (one line on stderr, exit code 2).
"""

from __future__ import annotations

import argparse
import math
import os
import re

from ..formats.netlist.schema import MAX_COUNT   # the largest tick count, size, slots
from ..formats.units import parse_duration
from ..hardware.fixed import ROUNDING_MODES
from ..hardware.spec import DIALECTS


class UsageError(Exception):
    """A bad argument or value: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(message)


# ====================================================================== numbers
MAX_CORES = 1 << 14         # the largest mesh (cores) a command builds (128x128)


def bounded(convert, what: str, *, above: float | None = None, at_least: float | None = None,
            at_most: float | None = None):
    """An argparse type: ``convert(text)`` (``int`` or ``float``), finite and ``> above``
    or ``>= at_least`` (and ``<= at_most``); anything else is refused with "expected
    WHAT, got TEXT"."""
    def check(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or (isinstance(value, float) and not math.isfinite(value)) \
                or (above is not None and not value > above) \
                or (at_least is not None and not value >= at_least):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        if at_most is not None and value > at_most:
            raise argparse.ArgumentTypeError(f"expected {what} up to {at_most}, got {text!r}")
        return value
    return check


positive_int = bounded(int, "a positive integer", above=0, at_most=MAX_COUNT)
nonnegative_int = bounded(int, "an integer >= 0", at_least=0, at_most=MAX_COUNT)
positive_float = bounded(float, "a positive number", above=0)
nonnegative_float = bounded(float, "a number >= 0", at_least=0)


def frequency(text: str) -> float:
    """A clock frequency in Hz: ``100MHz``, ``1GHz``, ``2.5e8`` (``k``, ``M``, ``G``)."""
    match = re.fullmatch(r"\s*([0-9.]+(?:e[+-]?\d+)?)\s*([kMG]?)(?:Hz)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a frequency such as 100MHz, 1GHz or 2.5e8, got {text!r}")
    value = float(match.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[match.group(2)]
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive frequency, got {text!r}")
    return value


def duration_ms(text: str) -> float:
    """A tick length in seconds from ``1ms``, ``0.1ms``, ``1e-4s``, ``100us``; a bare
    number is milliseconds (``--dt 1`` is 1 ms)."""
    try:
        return parse_duration(text, "ms", "--dt")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("--dt must be ", "expected ")) \
            from None


def mesh(text: str) -> tuple[int, int]:
    """A mesh of cores, ``WIDTHxHEIGHT`` such as ``4x4``."""
    match = re.fullmatch(r"(\d{1,6})x(\d{1,6})", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 4x4, got {text!r}")
    width, height = int(match.group(1)), int(match.group(2))
    if width * height > MAX_CORES:
        raise argparse.ArgumentTypeError(f"expected a mesh of at most {MAX_CORES} cores, got "
                                         f"{text!r} ({width * height} cores)")
    return width, height


# ====================================================================== files, names
def input_file(*suffixes: str):
    """An argparse type: the path of an existing file ending in one of ``suffixes``."""
    def check(text: str) -> str:
        if suffixes and not text.lower().endswith(suffixes):
            raise argparse.ArgumentTypeError(
                f"expected a {' or '.join(suffixes)} file, got {text!r}")
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
        if not os.path.isfile(text):
            raise argparse.ArgumentTypeError(f"no such file: {text!r}")
        return text
    return check


def check_output(path: str, *, force: bool, make_folder: bool = False) -> None:
    """Before any work: ``path`` can be written -- not an existing file without
    ``force``, not a folder, in a folder that exists (or, with ``make_folder``, can be
    made in the nearest existing one) and is writable."""
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder; name a file to write")
    if os.path.exists(path) and not force:
        raise UsageError(f"{path} exists; pass --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    while make_folder and not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: no folder {folder} to write it in")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"{path}: the folder {folder} is not writable")


def override(text: str) -> tuple[str, float]:
    """One table entry overridden: ``NAME=NUMBER``."""
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}") from None


def framework_option(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` for a framework's semantics: ``true``/``false``, ``none``, a number
    or a word (``reset_delay=false``, ``max_spikes_per_dt=1``, ``spike_fn=single``)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    word = value.strip()
    special = {"true": True, "false": False, "none": None}
    if word.lower() in special:
        return name.strip(), special[word.lower()]
    for convert in (int, float):
        try:
            number = convert(word)
        except ValueError:
            continue
        if isinstance(number, float) and not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"expected a finite value, got {text!r}")
        return name.strip(), number
    return name.strip(), word


# ====================================================================== comma lists
def _items(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def int_list(text: str) -> list[int]:
    """Comma-separated integers, at least one: ``8,10,12``."""
    try:
        values = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 8,10,12, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one integer, got {text!r}")
    return values


def rounding_list(text: str) -> list[str]:
    """Comma-separated rounding modes (``ROUNDING_MODES``), at least one."""
    values = _items(text)
    bad = [x for x in values if x not in ROUNDING_MODES]
    if bad or not values:
        raise argparse.ArgumentTypeError(
            f"expected rounding modes from {', '.join(ROUNDING_MODES)}, got {text!r}")
    return values


def dialect_list(text: str) -> list[str]:
    """Comma-separated dialects (``DIALECTS``), at least one; repeats dropped."""
    names = _items(text)
    bad = [t for t in names if t not in DIALECTS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list from "
                                         f"{','.join(DIALECTS)}, got {text!r}")
    return list(dict.fromkeys(names))
