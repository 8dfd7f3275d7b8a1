"""The ``neurochip`` command.

Bad arguments or values end with one line on stderr and exit code 2; a run that hits a
hardware limit (``SpecError``, a strict overflow) ends with one line and exit code 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys

from ..compiler.dialects import CURRENT_REGISTER, DEFAULT_DIALECT, DIALECTS
from ..compiler.dialects import PRESETS as DIALECT_PRESETS
from ..hardware.energy import PRESETS
from ..hardware.fixed import ROUNDING_MODES, RegisterOverflowError
from ..hardware.spec import CoreSpec, SpecError


class UsageError(Exception):
    """A bad argument or value: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line instead of usage + message
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _frequency(text: str) -> float:
    match = re.fullmatch(r"\s*([0-9.]+(?:e[+-]?\d+)?)\s*([kMG]?)(?:Hz)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"expected a frequency such as 100MHz, 1GHz or 2.5e8, got {text!r}")
    value = float(match.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[match.group(2)]
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive frequency, got {text!r}")
    return value


def _mesh(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 4x4, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def input_file(*suffixes: str):
    """An argparse type: the path of an existing file ending in one of ``suffixes``."""
    def check(text: str) -> str:
        if suffixes and not text.lower().endswith(suffixes):
            raise argparse.ArgumentTypeError(
                f"expected a {' or '.join(suffixes)} file, got {text!r}")
        if not os.path.isfile(text):
            raise argparse.ArgumentTypeError(f"no such file: {text!r}")
        return text
    return check


def _override(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, got {text!r}") from None


def _add_chip_options(parser: argparse.ArgumentParser) -> None:
    """The chip a netlist is compiled onto (``_chip_spec_for``)."""
    parser.add_argument("--mesh", type=_mesh, default=(2, 2), help="cores as WxH (2x2)")
    parser.add_argument("--slots", type=_positive_int, default=1024,
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="neurochip", description="Bit-exact neuromorphic core emulator.")
    parser.add_argument("--version", action="version", version="neurochip 0.1.0")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    demo = commands.add_parser(
        "demo", help="run the built-in network on a core and on the float reference")
    demo.add_argument("--ticks", type=_positive_int, default=1000, help="ticks to run (1000)")
    demo.add_argument("--dt", type=_positive_float, default=1.0,
                      help="tick length in milliseconds (1.0)")
    demo.add_argument("--v-bits", type=int, default=16, help="membrane width in bits (16)")
    demo.add_argument("--i-bits", type=int, default=16, help="current width in bits (16)")
    demo.add_argument("--rounding", choices=ROUNDING_MODES, default="floor",
                      help="rounding of the leak shifts (floor)")
    demo.add_argument("--out", default="neurochip-demo.png",
                      help="plot file to write (neurochip-demo.png)")
    demo.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    demo.add_argument("--quiet", action="store_true", help="print nothing")

    tp = commands.add_parser(
        "throughput", help="estimate a chip's synaptic-event throughput and energy for a run")
    tp.add_argument("example", nargs="?", default="random",
                    help="'random' (the DESIGN §6 benchmark network, the default) or a "
                         "netlist file (.json/.toml) to compile onto the mesh and run")
    tp.add_argument("--preset", choices=sorted(PRESETS), default="reference",
                    help="timing table, energies and clock of a published chip (reference)")
    tp.add_argument("--clock", type=_frequency, help="clock, e.g. 100MHz (the preset's)")
    tp.add_argument("--mesh", type=_mesh, default=(4, 4), help="cores as WxH (4x4)")
    tp.add_argument("--neurons", type=_positive_int, default=2000, help="neurons (2000)")
    tp.add_argument("--fanout", type=_positive_int, default=100,
                    help="synapses per neuron (100)")
    tp.add_argument("--rate", type=_positive_float, default=25.0,
                    help="free-running firing rate in Hz (25)")
    tp.add_argument("--ticks", type=_positive_int, default=500, help="ticks to run (500)")
    tp.add_argument("--dt", type=_positive_float, default=1.0,
                    help="tick length in milliseconds (1.0)")
    tp.add_argument("--placement", choices=["sequential", "random", "greedy"],
                    default="sequential",
                    help="neurons to cores: in blocks, at random (built-in network only) or "
                         "by the compiler's greedy partitioner (netlists only) (sequential)")
    tp.add_argument("--timing", type=_override, action="append", default=[],
                    metavar="NAME=CYCLES", help="override one timing-table entry")
    tp.add_argument("--energy", type=_override, action="append", default=[],
                    metavar="NAME=PJ", help="override one energy-table entry")
    tp.add_argument("--json", action="store_true", help="print JSON instead of a table")
    tp.add_argument("--plot", metavar="PREFIX",
                    help="write PREFIX-core-load.png and PREFIX-cycles.png")
    tp.add_argument("--force", action="store_true", help="overwrite existing plot files")
    tp.add_argument("--quiet", action="store_true",
                    help="no progress bar or plot lines: the table (or JSON) alone")

    run = commands.add_parser("run", help="run a netlist (.json/.toml) or NIR graph (.nir)")
    run.add_argument("netlist", type=input_file(".json", ".toml", ".nir"),
                     help="netlist file (.json or .toml) or NIR graph (.nir)")
    run.add_argument("--input", help="NIR only: input array file (.npy, or .npz with one "
                                     "array), ticks × input size; zero input when absent")
    run.add_argument("--dt", type=_positive_float, default=1.0,
                     help="NIR only: tick length in milliseconds (1.0)")
    run.add_argument("--reset", choices=["auto", "value", "subtract", "none"], default="auto",
                     help="NIR only: reset mode (auto: as the exporter's simulator does)")
    run.add_argument("--ticks", type=_positive_int, help="ticks to run (the netlist's duration)")
    _add_chip_options(run)
    run.add_argument("--backend", choices=["compiled", "numpy"],
                     help="emulator backend (compiled when numba is installed)")
    run.add_argument("--float", action="store_true",
                     help="run the float reference instead of the emulator")
    run.add_argument("--out", help="save the probes' recordings to this .npz file")
    run.add_argument("--plot", help="save a spike raster of the probes to this .png file")
    run.add_argument("--force", action="store_true", help="overwrite --out / --plot")
    run.add_argument("--quiet", action="store_true", help="no progress bar or report")

    comp = commands.add_parser("compile", help="compile a netlist into binary core images")
    comp.add_argument("netlist", type=input_file(".json", ".toml"),
                      help="netlist file (.json or .toml)")
    comp.add_argument("-o", "--out", required=True, help="directory for the images and report")
    _add_chip_options(comp)
    comp.add_argument("--force", action="store_true", help="replace an existing output")
    comp.add_argument("--quiet", action="store_true", help="print nothing")

    ins = commands.add_parser("inspect", help="print a core image and its bits per field")
    ins.add_argument("image", nargs="+", type=input_file(), help="core image file(s) (.ncim)")

    from ..lab.compare import add_compare_arguments
    add_compare_arguments(commands.add_parser(
        "compare", help="a netlist on the float reference and on the emulator under "
                        "several widths and rounding modes (docs/compare.md)"))

    exp = commands.add_parser(
        "experiment", help="run an experiment of LIF theory: core vs float reference vs "
                           "analytic, numbers and a plot (docs/experiments.md)")
    exp.add_argument("name", help="fi-curve, dimensionless, impedance, adaptation, jitter, "
                                  "nonlinear-leak, or all")
    exp.add_argument("--out", default=".",
                     help="folder for the plot NAME.png (the current folder)")
    exp.add_argument("--force", action="store_true", help="overwrite an existing plot")
    exp.add_argument("--quiet", action="store_true", help="print nothing, no progress bar")
    return parser


def _demo(args) -> int:
    from ..lab.demo import DEMO_STAGES, N_INPUTS, N_NEURONS, plot_demo, run_demo, summary
    from ..lab.progress import bar

    if os.path.exists(args.out) and not args.force:
        raise UsageError(f"{args.out} exists; pass --force to overwrite it or --out to "
                         f"choose another file")
    try:
        spec = CoreSpec(n_slots=N_NEURONS, n_axons=N_INPUTS, synapse_words=1024,
                        v_bits=args.v_bits, i_bits=args.i_bits, rounding=args.rounding)
    except SpecError as error:
        raise UsageError(str(error).replace("CoreSpec.v_bits", "--v-bits")
                         .replace("CoreSpec.i_bits", "--i-bits")) from None
    with bar(DEMO_STAGES, quiet=args.quiet, desc="demo", unit="stage") as shown:
        result = run_demo(ticks=args.ticks, dt=args.dt * 1e-3, spec=spec,
                          progress=shown.update)
    plot_demo(result, args.out)
    if not args.quiet:
        print(summary(result))
        print(f"plot: {os.path.abspath(args.out)}")
    return 0


def _throughput(args) -> int:
    from ..lab.throughput import estimate_example, plot_report

    if args.plot:
        for suffix in ("-core-load.png", "-cycles.png"):
            if os.path.exists(args.plot + suffix) and not args.force:
                raise UsageError(f"{args.plot + suffix} exists; pass --force to overwrite it "
                                 f"or choose another --plot prefix")
    preset = PRESETS[args.preset]
    try:
        timing = dataclasses.replace(preset.timing, **{k: int(v) for k, v in args.timing})
        energy = dataclasses.replace(preset.energy, **dict(args.energy))
    except TypeError as error:
        name = str(error).split("'")[1] if "'" in str(error) else str(error)
        raise UsageError(f"unknown timing or energy entry {name!r}") from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    period = 1e3 / (args.rate * args.dt)
    if period < 2:
        raise UsageError(f"--rate {args.rate:g} Hz is too fast for --dt {args.dt:g} ms")
    clock = args.clock or preset.clock_hz
    if args.example == "random":
        if args.placement == "greedy":
            raise UsageError("--placement greedy is for netlists; the built-in network is "
                             "placed sequential or random")
        from ..lab.progress import bar, to
        with bar(args.ticks, quiet=args.quiet, desc="throughput", unit="tick") as shown:
            report, mesh = estimate_example(
                neurons=args.neurons, fanout=args.fanout, period=int(round(period)),
                mesh=args.mesh, ticks=args.ticks, dt_s=args.dt * 1e-3, timing=timing,
                energy=energy, clock_hz=clock, placement=args.placement,
                progress=to(shown))
    elif args.example.endswith((".json", ".toml")):
        if not os.path.isfile(args.example):
            raise UsageError(f"no such file: {args.example!r}")
        report, mesh = _netlist_throughput(args, timing, energy, clock)
    else:
        raise UsageError(f"expected 'random' or a netlist file (.json/.toml), got "
                         f"{args.example!r}")
    print(report.to_json() if args.json else report.format_table())
    if args.plot:
        for path in plot_report(report, mesh, args.plot):
            if not args.json and not args.quiet:
                print(f"plot: {os.path.abspath(path)}")
    return 0


def _refuse_existing(*paths, force: bool) -> None:
    for path in paths:
        if path and os.path.exists(path) and not force:
            raise UsageError(f"{path} exists; pass --force to overwrite it")


def _run(args) -> int:
    import numpy as np

    from ..compiler.pipeline import compile_netlist, float_run
    from ..formats.netlist import expand, load_netlist

    _refuse_existing(args.out, args.plot, force=args.force)
    if args.out and not args.out.endswith(".npz"):
        raise UsageError(f"--out must name a .npz file, got {args.out!r}")
    _nir_input = None
    if args.netlist.endswith(".nir"):
        expanded, _nir_input = _load_nir_run(args)
        ticks = args.ticks or expanded.ticks
    else:
        if args.input:
            raise UsageError("--input is for NIR graphs; a netlist holds its own inputs")
        expanded = expand(load_netlist(args.netlist))
        ticks = args.ticks or expanded.ticks
    results: dict[str, np.ndarray] = {"dt": np.array(expanded.dt), "ticks": np.array(ticks)}
    if args.float and args.netlist.endswith(".nir"):
        from ..formats.nir import run_float
        net, x = _nir_input
        run = run_float(net, x)
        trace = run
        traces = {"spikes": run.spikes, "v": run.V, "i": run.I_syn}
        units = {"v": "V", "i": "A"}
        summary = f"float reference: {int(run.spikes.sum())} spikes in {ticks} ticks"
    elif args.float:
        trace = float_run(expanded, ticks)
        traces = {"spikes": trace.spikes, "v": trace.V, "i": trace.I_syn, "theta": trace.Theta}
        units = {"v": "V", "i": "A", "theta": "V"}
        summary = f"float reference: {int(trace.spikes.sum())} spikes in {ticks} ticks"
    else:
        compiled = compile_netlist(expanded, _chip_spec_for(args),
                                   partitioner=args.partitioner, dialect=args.dialect)
        if not args.quiet:
            print(compiled.report.format())
        from ..lab.progress import bar, to
        current = CURRENT_REGISTER[args.dialect]
        record = ("spikes", "v", current) + (("theta",) if args.dialect == "lif" else ())
        with bar(ticks, quiet=args.quiet, desc="run", unit="tick") as shown:
            recording = compiled.run(ticks, record=record, backend=args.backend,
                                     progress=to(shown))
        scales = compiled.quantised.scales
        traces = {"spikes": recording.spikes, "v": scales.volts(recording["v"]),
                  "i": scales.amps(recording[current])}
        if "theta" in record:
            traces["theta"] = recording["theta"] * scales.v_lsb
        for name in record[1:]:
            results_key = f"registers.{name}"
            results[results_key] = recording[name]
        units = {"v": "V", "i": "A", "theta": "V"}
        summary = (f"emulator: {int(recording.spikes.sum())} spikes in {ticks} ticks on "
                   f"{args.mesh[0]}×{args.mesh[1]} cores; overflows "
                   f"{sum(recording.overflow.values())}")
    missing = set()
    for probe in expanded.probes:
        for name in probe.record:
            if name not in traces:  # a dialect without this register (theta)
                missing.add(name)
                continue
            results[f"{probe.population}.{name}"] = traces[name][:, probe.start:probe.stop]
    if missing and not args.quiet:
        print(f"not recorded: {', '.join(sorted(missing))} (no such register in the "
              f"{args.dialect} dialect)")
    print(summary)
    if args.out:
        np.savez_compressed(args.out, **results)
        print(f"recordings: {os.path.abspath(args.out)} ({', '.join(sorted(results))}; "
              f"units {units})")
    if args.plot:
        _raster(expanded, traces["spikes"], args.plot)
        print(f"plot: {os.path.abspath(args.plot)}")
    return 0


def _load_nir_run(args):
    """A NIR graph as an expanded network with its input events, and the input array."""
    import numpy as np

    from ..compiler.pipeline import with_input_events
    from ..formats.netlist import expand
    from ..formats.nir import load_nir

    net = load_nir(args.netlist, dt=args.dt * 1e-3, reset=args.reset)
    if args.input:
        data = np.load(args.input)
        if hasattr(data, "files"):
            if len(data.files) != 1:
                raise UsageError(f"{args.input}: expected one array, found "
                                 f"{', '.join(data.files)}")
            data = data[data.files[0]]
        x = net.input_array(data)
    else:
        x = np.zeros((args.ticks or 100, net.n_inputs))
    ticks = args.ticks or x.shape[0]
    if x.shape[0] < ticks:
        x = np.concatenate([x, np.zeros((ticks - x.shape[0], x.shape[1]))])
    expanded = expand(net.netlist_for(ticks))
    if not args.float:
        expanded = with_input_events(expanded, net.input_channel, net.input_post,
                                     net.input_weight, net.input_delay, x[:ticks])
    return expanded, (net, x[:ticks])


def _chip_spec_for(args):
    from ..hardware.chip import ChipSpec
    from ..compiler.pipeline import roomy_core_spec

    widths = {"v_bits": 16, "i_bits": 16, **DIALECT_PRESETS[args.dialect]}
    widths.update({name: value for name, value in (("v_bits", args.v_bits),
                                                   ("i_bits", args.i_bits)) if value})
    try:
        core = roomy_core_spec(args.slots, args.mesh[0] * args.mesh[1],
                               **{**widths, "theta_bits": widths["v_bits"]})
    except SpecError as error:
        raise UsageError(str(error).replace("CoreSpec.v_bits", "--v-bits")
                         .replace("CoreSpec.i_bits", "--i-bits")) from None
    return ChipSpec(*args.mesh, core=core)


def _compile(args) -> int:
    import json

    from ..compiler.pipeline import compile_netlist
    from ..formats.image import write_chip_images
    from ..formats.netlist import load_netlist

    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        raise UsageError(f"{args.out} exists and is not empty; pass --force to replace its "
                         f"images and report")
    compiled = compile_netlist(load_netlist(args.netlist), _chip_spec_for(args),
                               partitioner=args.partitioner, dialect=args.dialect)
    chip = compiled.chip
    paths = write_chip_images(chip.spec, dict(enumerate(chip.configs)), args.out,
                              overwrite=args.force)
    report = compiled.report
    with open(os.path.join(args.out, "report.txt"), "w") as f:
        f.write(report.format() + "\n")
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report.to_dict(), f, indent=1)
    if not args.quiet:
        print(report.format())
        print(f"wrote {len(paths) - 1} core images, manifest.json, report.txt and report.json "
              f"to {os.path.abspath(args.out)}")
    return 0


def _experiment(args) -> int:
    from ..lab.experiments import EXPERIMENTS, LEFT_OUT, output_path, run_experiment

    if args.name in LEFT_OUT:
        raise UsageError(f"no experiment {args.name!r}: {LEFT_OUT[args.name]}")
    if args.name != "all" and args.name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.name!r}; choose from "
                         f"{', '.join(EXPERIMENTS)} or all")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is not a folder")
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    _refuse_existing(*(output_path(name, args.out) for name in names), force=args.force)
    from ..lab.progress import bar
    with bar(len(names), quiet=args.quiet, desc="experiment", unit="experiment") as shown:
        for name in names:
            shown.set_postfix_str(name)
            run_experiment(name, args.out, force=True, quiet=args.quiet)
            shown.update()
    return 0


def _compare(args) -> int:
    from ..lab.compare import compare_command
    return compare_command(args, UsageError)


def _inspect(args) -> int:
    from ..formats.image import describe_image

    for path in args.image:
        with open(path, "rb") as f:
            print(describe_image(f.read(), path))
    return 0


def _raster(expanded, spikes, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 4))
    for k, name in enumerate(expanded.names):
        part = spikes[:, expanded.slice(name)]
        t, j = np.nonzero(part)
        ax.scatter((t + 1) * expanded.dt * 1e3, j + expanded.offsets[name], s=2,
                   color=f"C{k}", label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.legend(loc="upper right", markerscale=4)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _netlist_throughput(args, timing, energy, clock):
    from ..hardware.chip import ChipSpec
    from ..compiler.pipeline import compile_netlist, roomy_core_spec
    from ..formats.netlist import load_netlist
    from ..lab.throughput import summarise

    netlist = load_netlist(args.example)
    cores = args.mesh[0] * args.mesh[1]
    spec = ChipSpec(*args.mesh, core=roomy_core_spec(-(-netlist.n // cores), cores),
                    timing=timing, clock_hz=clock)
    if args.placement == "random":
        raise UsageError("--placement random is for the built-in network; a netlist is "
                         "placed sequential or greedy")
    compiled = compile_netlist(netlist, spec, partitioner=args.placement)
    from ..lab.progress import bar, to
    with bar(args.ticks, quiet=args.quiet, desc="throughput", unit="tick") as shown:
        recording = compiled.run(args.ticks, record=("spikes",), timing=True,
                                 progress=to(shown))
    return summarise(recording.timing, spec.mesh, int(recording.spikes.sum()), netlist.dt,
                     clock, energy), spec.mesh


RUNS_THE_EMULATOR = ("demo", "run", "compare", "experiment", "throughput")


def _note_first_compilation() -> None:
    """Say so on stderr when the compiled backend's kernel is not in numba's disk cache
    yet: the first run of an install compiles it, and is silent for ~15 s otherwise."""
    try:
        from ..hardware.compiled import kernel_cached
    except ImportError:  # no numba: the numpy backend runs, nothing to compile
        return
    if not kernel_cached():
        print("neurochip: compiling the emulator kernel for this install (once, about "
              "15 s)", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command in RUNS_THE_EMULATOR and not getattr(args, "quiet", False) \
                and getattr(args, "backend", None) != "numpy":
            _note_first_compilation()
        return {"demo": _demo, "throughput": _throughput, "run": _run, "compile": _compile,
                "inspect": _inspect, "compare": _compare,
                "experiment": _experiment}[args.command](args)
    except BrokenPipeError:  # output piped into a reader that stopped early (e.g. head)
        sys.stderr.close()
        return 0
    except UsageError as error:
        print(f"neurochip: error: {error}", file=sys.stderr)
        return 2
    except (SpecError, RegisterOverflowError, ValueError, OSError) as error:
        print(f"neurochip: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
