"""The experiments by their command-line names, and ``run_experiment``, which runs one,
writes ``NAME.png`` and prints its numbers (what ``neurochip experiment NAME`` does)."""

from __future__ import annotations

import os

from ..progress import printing
from .adaptation import adaptation
from .dimensionless import dimensionless
from .fi_curve import fi_curve
from .impedance import impedance
from .jitter import jitter
from .nonlinear_leak import nonlinear_leak

__all__ = ["EXPERIMENTS", "LEFT_OUT", "output_path", "run_experiment"]


#: command-line name -> experiment function (each returns a result with ``summary()``
#: and ``plot(path)``)
EXPERIMENTS = {
    "fi-curve": fi_curve,
    "dimensionless": dimensionless,
    "impedance": impedance,
    "adaptation": adaptation,
    "jitter": jitter,
    "nonlinear-leak": nonlinear_leak,
}

#: ideas of the seed text without an experiment here, and why (none left)
LEFT_OUT: dict[str, str] = {}


def output_path(name: str, out_dir: str = ".") -> str:
    """Where ``run_experiment`` writes the plot of ``name``: ``out_dir/NAME.png``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return os.path.join(out_dir, f"{name}.png")


def run_experiment(name: str, out_dir: str = ".", *, force: bool = False, quiet: bool = False,
                   **options):
    """Run experiment ``name`` (``options`` go to its function), write its plot to
    ``out_dir/NAME.png`` (``out_dir`` is created; an existing plot is kept and
    ``FileExistsError`` raised unless ``force``) and, unless ``quiet``, print its numbers
    and the plot's path. Returns ``(result, path)``."""
    path = output_path(name, out_dir)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it or --out to "
                              f"choose another folder")
    result = EXPERIMENTS[name](**options)
    os.makedirs(out_dir or ".", exist_ok=True)
    result.plot(path)
    if not quiet:
        with printing():   # above a progress bar, not run into its line
            print(result.summary())
            print(f"plot: {os.path.abspath(path)}")
    return result, path
