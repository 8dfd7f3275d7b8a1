"""The ``neurochip`` command.

Bad arguments or values, and refused input files (a netlist, NIR graph or image field),
end with one line on stderr and exit code 2; a run that hits a hardware limit
(``SpecError``, a strict overflow) ends with one line and exit code 1.

``build_parser`` is one parser builder per command; the handlers are in ``commands``
(``neurochip compare``: ``compare``), the argument types in ``args``.
"""

from __future__ import annotations

import argparse
import sys

from ..compiler.dialects import DEFAULT_DIALECT, DIALECTS
from ..formats.image import ImageError
from ..formats.netlist import NetlistError
from ..formats.nir import NirError
from ..formats.nir.frameworks import FrameworkError
from ..hardware.energy import PRESETS
from ..hardware.fixed import ROUNDING_MODES, RegisterOverflowError
from ..hardware.spec import SpecError
from .args import (UsageError, _Parser, duration_ms, frequency, input_file, mesh, override,
                   positive_float, positive_int)
from .commands import (compile_command, demo_command, experiment_command, inspect_command,
                       run_command, throughput_command)
from .compare import add_compare_arguments, compare_command
from .nir import add_nir_options

__all__ = ["RUNS_THE_EMULATOR", "UsageError", "build_parser", "main"]


def _add_chip_options(parser: argparse.ArgumentParser) -> None:
    """The chip a netlist is compiled onto (``commands._chip_spec_for``)."""
    parser.add_argument("--mesh", type=mesh, default=(2, 2), help="cores as WxH (2x2)")
    parser.add_argument("--slots", type=positive_int, default=1024,
                        help="neuron slots per core (1024)")
    parser.add_argument("--partitioner", choices=["greedy", "sequential"], default="greedy")
    parser.add_argument("--v-bits", type=int,
                        help="membrane (and threshold, bias) width in bits (16; the "
                             "dialect's own with --dialect loihi|xylo)")
    parser.add_argument("--i-bits", type=int,
                        help="current width in bits (16; the dialect's own with --dialect)")
    parser.add_argument("--dialect", choices=DIALECTS, default=DEFAULT_DIALECT,
                        help="neuron arithmetic: the reference LIF, Loihi (Lava "
                             "PyLifModelBitAcc) or Xylo (xylosim) (lif)")


def _add_strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true",
                        help="exit with code 3 when the compile or the run gives any warning "
                             "(a parameter more than 5 %% off, a clipped weight, an overflow)")


def _add_demo(commands) -> None:
    demo = commands.add_parser(
        "demo", help="run the built-in network on a core and on the float reference")
    demo.add_argument("--ticks", type=positive_int, default=1000, help="ticks to run (1000)")
    demo.add_argument("--dt", type=duration_ms, default=1e-3,
                      help="tick length: 1ms, 0.25ms, 1e-4s; a bare number is milliseconds "
                           "(1ms)")
    demo.add_argument("--v-bits", type=int, default=16, help="membrane width in bits (16)")
    demo.add_argument("--i-bits", type=int, default=16, help="current width in bits (16)")
    demo.add_argument("--rounding", choices=ROUNDING_MODES, default="floor",
                      help="rounding of the leak shifts (floor)")
    demo.add_argument("--out", default="neurochip-demo.png",
                      help="plot file to write (neurochip-demo.png)")
    demo.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    demo.add_argument("--quiet", action="store_true", help="print nothing")


def _add_throughput(commands) -> None:
    tp = commands.add_parser(
        "throughput", help="estimate a chip's synaptic-event throughput and energy for a run")
    tp.add_argument("example", nargs="?", default="random",
                    help="'random' (the default: the built-in benchmark network, --neurons "
                         "LIF neurons each with --fanout synapses onto random neurons and a "
                         "bias that fires it at --rate; docs/throughput.md), a netlist "
                         "file (.json/.toml) or a NIR graph (.nir, with --input) to compile "
                         "onto the mesh and run")
    tp.add_argument("--preset", choices=sorted(PRESETS), default="reference",
                    help="timing table, energies and clock of a published chip (reference)")
    tp.add_argument("--clock", type=frequency, help="clock, e.g. 100MHz (the preset's)")
    tp.add_argument("--mesh", type=mesh, default=(4, 4), help="cores as WxH (4x4)")
    tp.add_argument("--neurons", type=positive_int, default=2000, help="neurons (2000)")
    tp.add_argument("--fanout", type=positive_int, default=100,
                    help="synapses per neuron (100)")
    tp.add_argument("--rate", type=positive_float, default=25.0,
                    help="free-running firing rate in Hz (25)")
    tp.add_argument("--ticks", type=positive_int, default=500, help="ticks to run (500)")
    tp.add_argument("--placement", choices=["sequential", "random", "greedy"],
                    default="sequential",
                    help="neurons to cores: in blocks, at random (built-in network only) or "
                         "by the compiler's greedy partitioner (netlists only) (sequential)")
    tp.add_argument("--timing", type=override, action="append", default=[],
                    metavar="NAME=CYCLES", help="override one timing-table entry")
    tp.add_argument("--energy", type=override, action="append", default=[],
                    metavar="NAME=PJ", help="override one energy-table entry")
    tp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tp.add_argument("--plot", metavar="PREFIX",
                    help="write PREFIX-core-load.png and PREFIX-cycles.png")
    tp.add_argument("--force", action="store_true", help="overwrite existing plot files")
    tp.add_argument("--quiet", action="store_true",
                    help="no progress bar or plot lines: the table (or JSON) alone")
    add_nir_options(tp, float_reference=False)   # its --dt is the built-in network's too


def _add_run(commands) -> None:
    run = commands.add_parser("run", help="run a netlist (.json/.toml) or NIR graph (.nir)")
    run.add_argument("netlist", type=input_file(".json", ".toml", ".nir"),
                     help="netlist file (.json or .toml) or NIR graph (.nir)")
    run.add_argument("--ticks", type=positive_int, help="ticks to run (the netlist's duration)")
    _add_chip_options(run)
    run.add_argument("--backend", choices=["compiled", "numpy"],
                     help="emulator backend (compiled when numba is installed)")
    run.add_argument("--threads", type=positive_int, default=1,
                     help="run the chip as this many partitions on as many threads, same "
                          "results (docs/scale-out.md); under mpiexec one partition per rank")
    run.add_argument("--float", action="store_true",
                     help="run the float reference instead of the emulator")
    run.add_argument("--out", help="save the probes' recordings, spikes per population and "
                                   "NeuroBench metrics to this .npz file")
    run.add_argument("--json", action="store_true",
                     help="print one JSON object (what ran, dt, reset, spikes per "
                          "population, NeuroBench metrics) instead of the text")
    run.add_argument("--plot", help="save a spike raster of the probes to this .png file")
    run.add_argument("--save-state", metavar="FILE.npz",
                     help="after the run, save the chip's complete state to this .npz file "
                          "(docs/checkpoint.md)")
    run.add_argument("--resume", metavar="FILE.npz",
                     help="continue from a state saved by --save-state with the same netlist "
                          "and chip options; --ticks counts the ticks run from there")
    run.add_argument("--force", action="store_true",
                     help="overwrite --out / --plot / --save-state")
    run.add_argument("--quiet", action="store_true", help="no progress bar or report")
    run.add_argument("--calibrate", action="store_true",
                     help="voltage scales from a float reference run on the same input "
                          "(docs/compiler.md)")
    _add_strict(run)
    add_nir_options(run)


def _add_compile(commands) -> None:
    comp = commands.add_parser("compile", help="compile a netlist or NIR graph into binary "
                                               "core images")
    comp.add_argument("netlist", type=input_file(".json", ".toml", ".nir"),
                      help="netlist file (.json or .toml) or NIR graph (.nir)")
    comp.add_argument("-o", "--out", required=True, help="directory for the images and report")
    _add_chip_options(comp)
    comp.add_argument("--force", action="store_true", help="replace an existing output")
    comp.add_argument("--quiet", action="store_true", help="print nothing but warnings")
    comp.add_argument("--calibrate", action="store_true",
                      help="voltage scales from a float reference run of the netlist's "
                           "inputs (docs/compiler.md)")
    _add_strict(comp)
    add_nir_options(comp, float_reference=False)


def _add_inspect(commands) -> None:
    ins = commands.add_parser("inspect", help="print a core image and its bits per field")
    ins.add_argument("image", nargs="+", type=input_file(), help="core image file(s) (.ncim)")


def _add_compare(commands) -> None:
    parser = commands.add_parser(
        "compare", help="a netlist on the float reference and on the emulator under "
                        "several widths and rounding modes (docs/compare.md)")
    add_compare_arguments(parser)
    _add_strict(parser)


def _add_experiment(commands) -> None:
    exp = commands.add_parser(
        "experiment", help="run an experiment of LIF theory: core vs float reference vs "
                           "analytic, numbers and a plot (docs/experiments.md)")
    exp.add_argument("name", help="fi-curve, dimensionless, impedance, adaptation, jitter, "
                                  "nonlinear-leak, or all")
    exp.add_argument("--out", default=".",
                     help="folder for the plot NAME.png (the current folder)")
    exp.add_argument("--force", action="store_true", help="overwrite an existing plot")
    exp.add_argument("--quiet", action="store_true", help="print nothing, no progress bar")


# the subcommands in the order of --help, each with its parser builder and its handler
COMMANDS = {"demo": (_add_demo, demo_command),
            "throughput": (_add_throughput, throughput_command),
            "run": (_add_run, run_command),
            "compile": (_add_compile, compile_command),
            "inspect": (_add_inspect, inspect_command),
            "compare": (_add_compare, compare_command),
            "experiment": (_add_experiment, experiment_command)}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neurochip", description="Bit-exact neuromorphic core emulator.")
    parser.add_argument("--version", action="version", version="neurochip 0.1.0")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    for add, _ in COMMANDS.values():
        add(commands)
    return parser


RUNS_THE_EMULATOR = ("demo", "run", "compare", "experiment", "throughput")

# refusals of what the user gave (a file, a field, a value): exit code 2, as bad arguments.
# What the hardware cannot hold (SpecError) or a strict overflow is exit code 1.
REFUSED_INPUT = (NetlistError, NirError, ImageError, FrameworkError)


def _note_first_compilation() -> None:
    """Say so on stderr each time numba starts compiling a kernel (the emulator's, for
    each new combination of argument types, or any other): a first run is otherwise
    seconds of silence (``lab.progress.announce_compilations``)."""
    from ..lab.progress import announce_compilations

    announce_compilations()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = None
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            raise UsageError(f"name a command: {', '.join(COMMANDS)}")
        if args.command in RUNS_THE_EMULATOR and not getattr(args, "quiet", False) \
                and getattr(args, "backend", None) != "numpy":
            _note_first_compilation()
        code = COMMANDS[args.command][1](args)
        if code == 0 and getattr(args, "strict", False) and getattr(args, "warned", 0):
            print(f"neurochip: {args.warned} warning(s) and --strict: exit code 3",
                  file=sys.stderr)
            return 3
        return code
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        sys.stderr.close()
        return 0
    except (UsageError, *REFUSED_INPUT) as error:
        print(f"neurochip: error: {_one_line(error, args)}", file=sys.stderr)
        return 2
    except (SpecError, RegisterOverflowError, ValueError, OSError) as error:
        print(f"neurochip: {_one_line(error, args)}", file=sys.stderr)
        return 1
    except MemoryError:   # a budget estimate fell short: say so in one line
        print("neurochip: out of memory; lower NEUROCHIP_MEMORY_BUDGET to be refused "
              "before the run", file=sys.stderr)
        return 1


def _one_line(error: BaseException, args=None) -> str:
    """The error on one line; for a NIR graph, its populations named with their node."""
    text = str(error) if not isinstance(error, OSError) or not error.filename else \
        f"{error.filename}: {error.strerror or error}"
    text = " ".join(text.split())
    prepared = getattr(args, "prepared", None)
    if prepared is not None:
        from ..lab.nir_runs import with_node_names
        text = with_node_names([text], prepared.network)[0]
    return text


if __name__ == "__main__":
    sys.exit(main())
