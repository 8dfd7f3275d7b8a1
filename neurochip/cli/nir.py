"""The options every command takes for a NIR graph (``.nir``) and what they build: the
input array, the tick, the reset, the float reference's framework, options and
stepping (``neurochip.lab.nir_runs``)."""

from __future__ import annotations

import argparse
import os

from ..formats.nir.framework_run import STEPPINGS
from ..formats.units import format_duration
from .args import UsageError, duration_ms, framework_option


def add_nir_options(parser: argparse.ArgumentParser, *, float_reference: bool = True) -> None:
    group = parser.add_argument_group("NIR graphs (.nir)")
    group.add_argument("--input", help="input array file (.npy, or .npz with one array), "
                                       "ticks × input shape; zero input when absent")
    group.add_argument("--dt", type=duration_ms, default=1e-3,
                       help="tick length: 1ms, 0.1ms, 1e-4s, 100us; a bare number is "
                            "milliseconds (1ms)")
    group.add_argument("--reset", choices=["auto", "value", "subtract", "none"],
                       default="auto", help="reset mode (auto: as the exporter's simulator)")
    group.add_argument("--dt-export", type=duration_ms,
                       help="the exporter's own step: snnTorch/Rockpool dt0, or Norse "
                            "to_nir's dt (1e-3 s), which Norse 1.1.0 multiplies taus by")
    if not float_reference:
        return
    from ..lab.nir_runs import REFERENCES
    group.add_argument("--framework", choices=REFERENCES, default="auto",
                       help="the float reference's equations: the exporting framework's own "
                            "(auto: the exporter detected) or the netlist's float model")
    group.add_argument("--option", type=framework_option, action="append", default=[],
                       metavar="NAME=VALUE",
                       help="a framework option the file does not carry, e.g. "
                            "reset_delay=false (snntorch), spike_fn=single (sinabs), "
                            "max_spikes_per_dt=1 (rockpool), dt_export=1 (norse)")
    group.add_argument("--stepping", choices=STEPPINGS,
                       help="how the float reference passes a layer stack: same-step (as "
                            "the frameworks) or tick-per-hop (as the chip); run --float: "
                            "same-step, comparisons with the chip: tick-per-hop")


def read_input(path: str | None, ticks: int | None):
    """The input array of ``--input`` (None: zeros of ``ticks`` ticks, made later)."""
    import numpy as np

    if path is None:
        return None
    try:
        data = np.load(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path}: not a .npy or .npz array file ({error})") from None
    if hasattr(data, "files"):
        if len(data.files) != 1:
            raise UsageError(f"{path}: expected one array, found {', '.join(data.files)}")
        data = data[data.files[0]]
    return data


def prepare_from_args(args):
    """``lab.nir_runs.prepare`` from the command's options; echoes the tick length."""
    from ..hardware.spec import SpecError
    from ..lab.nir_runs import chip_reset, framework_refractory, prepare, with_refractory
    from ..lab.progress import waiting

    options = dict(getattr(args, "option", []))
    reset = chip_reset(args.reset, options)
    x = read_input(args.input, args.ticks)
    try:
        with waiting(f"reading {os.path.basename(args.netlist)}",
                     quiet=getattr(args, "quiet", False)):
            prepared = prepare(args.netlist, x, args.dt, reset=reset,
                               dt_export=args.dt_export,
                               ticks=args.ticks if x is not None else args.ticks or 100)
        framework = getattr(args, "framework", "auto")
        kind = prepared.network.convention if framework == "auto" else framework
        # the chip's way to clear a whole membrane after a spike
        prepared = with_refractory(prepared, framework_refractory(prepared.network, kind,
                                                                  options))
    except SpecError:   # what the chip cannot take (exit 1), not a malformed argument
        raise
    except ValueError as error:
        message = str(error)
        raise UsageError(message if message.startswith(args.netlist) else
                         f"{args.netlist}: {message}") from None
    if not getattr(args, "quiet", False):
        net = prepared.network
        print(f"{args.netlist}: {net.convention} export ({net.convention_reason}); dt = "
              f"{format_duration(args.dt)}, {prepared.ticks} ticks, reset "
              f"{', '.join(sorted(set(net.reset.values())))}")
        for note in net.warnings:
            print(f"note: {note}")
    return prepared


def reference_from_args(args, prepared, default_stepping: str):
    from ..lab.nir_runs import float_reference

    try:
        return float_reference(prepared, getattr(args, "framework", "auto"),
                               args.stepping or default_stepping, **dict(args.option))
    except ValueError as error:
        raise UsageError(str(error)) from None
