"""``neurochip compare``: a netlist on the float reference and on the emulator under
several widths and rounding modes (``neurochip.lab.compare``, docs/compare.md)."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack, contextmanager

from ..hardware.fixed import ROUNDING_MODES
from ..hardware.spec import CoreSpec, SpecError
from ..lab.compare import (DEFAULT_METRIC, DEFAULT_TAU, DEFAULT_WINDOW, REFERENCES,
                           SEARCH_METRICS, compare, expanded_network, format_table,
                           format_value, plot_comparison, smallest_passing, sweep)
from ..lab.compare.dask_sweep import DEFAULT_CONNECT_TIMEOUT
from ..lab.compare.report import format_metrics
from .args import (UsageError, bounded, check_output, dialect_list, input_file, int_list, mesh, nonnegative_float,
                   nonnegative_int, positive_float, positive_int, rounding_list)


def add_compare_arguments(parser) -> None:
    """The options of ``neurochip compare`` (the parser ``cli`` made for the command)."""
    parser.add_argument("netlist", type=input_file(".json", ".toml", ".nir"),
                        help="netlist file (.json or .toml) or NIR graph (.nir, with --input)")
    parser.add_argument("--v-bits", type=int_list, default=[16], metavar="LIST",
                        help="membrane widths, e.g. 8,10,12,16 (16); theta follows")
    parser.add_argument("--i-bits", type=int_list, default=[16], metavar="LIST",
                        help="current widths (16)")
    parser.add_argument("--w-bits", type=int_list, default=[8], metavar="LIST",
                        help="weight mantissa widths (8)")
    parser.add_argument("--rounding", type=rounding_list, default=["floor"], metavar="LIST",
                        help=f"rounding modes from {','.join(ROUNDING_MODES)} (floor)")
    parser.add_argument("--dialects", type=dialect_list, default=["lif"], metavar="LIST",
                        help="neuron arithmetics side by side, from lif,loihi,xylo (lif); "
                             "the width and rounding lists sweep the reference LIF, Loihi "
                             "and Xylo run at their chips' widths")
    parser.add_argument("--ticks", type=positive_int,
                        help="ticks to run (the netlist's duration)")
    parser.add_argument("--mesh", type=mesh, default=(2, 2), help="cores as WxH (2x2)")
    parser.add_argument("--partitioner", choices=["greedy", "sequential"], default="greedy")
    parser.add_argument("--window", type=nonnegative_int, default=DEFAULT_WINDOW,
                        help=f"spike matching window in ticks ({DEFAULT_WINDOW})")
    parser.add_argument("--tau", type=positive_float, default=DEFAULT_TAU * 1e3,
                        help=f"van Rossum time constant in ms ({DEFAULT_TAU * 1e3:g})")
    parser.add_argument("--tolerance", type=nonnegative_float,
                        help="report the smallest --v-bits whose --metric is at most this, "
                             "per combination of the other options")
    parser.add_argument("--metric", choices=SEARCH_METRICS, default=DEFAULT_METRIC,
                        help=f"what --tolerance bounds ({DEFAULT_METRIC})")
    parser.add_argument("--reference", choices=REFERENCES, default="asked",
                        help="float reference: the netlist's parameters as asked, or what "
                             "each configuration's registers realise (asked)")
    parser.add_argument("--backend", choices=["compiled", "numpy"],
                        help="emulator backend (compiled when numba is installed)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", metavar="PREFIX", help="write PREFIX-error.png, "
                        "PREFIX-raster.png and PREFIX-traces.png")
    parser.add_argument("--show", type=int, default=0, metavar="N",
                        help="configuration (0-based, in table order) the raster and traces "
                             "show (0)")
    parser.add_argument("--force", action="store_true", help="overwrite existing plot files")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar, no header or plot lines: the table (or JSON) "
                             "alone")
    _add_cluster_options(parser)
    from .nir import add_nir_options
    add_nir_options(parser)


MAX_WORKERS = 256   # a local cluster larger than this is a typo, not a machine
workers_count = bounded(int, "a number of workers >= 1", above=0, at_most=MAX_WORKERS)


def _add_cluster_options(parser) -> None:
    """Where the configurations run: here, one after the other (the default), or as
    tasks on a Dask cluster (``lab.compare.dask_sweep``): the same output either way."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=workers_count, metavar="N",
                       help="run the configurations on a local Dask cluster of N worker "
                            "processes (pip install 'neurochip[dask]')")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the configurations on the Dask cluster whose scheduler "
                            "listens at ADDRESS (tcp://host:8786)")
    parser.add_argument("--connect-timeout", type=positive_float,
                        default=DEFAULT_CONNECT_TIMEOUT, metavar="SECONDS",
                        help=f"how long --scheduler may take to answer and show a worker "
                             f"({DEFAULT_CONNECT_TIMEOUT:g})")


@contextmanager
def _sweep_client(args, usage_error: type[Exception]):
    """The Dask client ``--workers`` or ``--scheduler`` ask for, closed on exit (None:
    neither, the serial sweep). A cluster that cannot be used is a usage error."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is None and scheduler is None:
        yield None
        return
    from ..lab.compare import ClusterError, dask_client

    stack = ExitStack()
    try:
        client = stack.enter_context(dask_client(
            workers=workers, scheduler=scheduler,
            connect_timeout=getattr(args, "connect_timeout", DEFAULT_CONNECT_TIMEOUT)))
    except ClusterError as error:
        raise usage_error(f"{'--scheduler' if scheduler else '--workers'}: {error}") from None
    with stack:
        yield client


def compare_command(args, usage_error: type[Exception] | None = None) -> int:
    """``neurochip compare``: exit 0, or 1 when no configuration could run. Bad values
    raise ``usage_error`` (the caller's one-line, exit-2 error; by default ``UsageError``,
    the one ``neurochip.cli.main`` catches)."""
    usage_error = usage_error or UsageError
    if args.plot:
        for suffix in ("-error.png", "-raster.png", "-traces.png"):
            if os.path.exists(args.plot + suffix) and not args.force:
                raise usage_error(f"{args.plot + suffix} exists; pass --force to overwrite it "
                                  f"or choose another --plot prefix")
            check_output(args.plot + suffix, force=True)
    configs = _configs(args, usage_error)
    reference = None
    if args.netlist.endswith(".nir"):
        from .nir import prepare_from_args, reference_from_args
        quiet, args.quiet = args.quiet, args.quiet or args.json
        prepared = args.prepared = prepare_from_args(args)
        args.quiet = quiet
        reference = reference_from_args(args, prepared, "tick-per-hop")
        args.described = reference.describe()
        ex = prepared.expanded
    else:
        from .commands import _refuse_nir_options
        _refuse_nir_options(args)
        ex = expanded_network(args.netlist)
    if args.ticks is not None and args.ticks > ex.ticks:
        raise usage_error(f"--ticks must be at most the netlist's duration, {ex.ticks} ticks")
    from ..lab.progress import bar
    with _sweep_client(args, usage_error) as client, \
            bar(len(configs), quiet=args.quiet, desc="compare", unit="config") as shown:
        # a netlist file as itself: its inputs' synapses are in the dense count
        source = ex if reference is not None else args.netlist
        results = compare(source, configs, mesh=args.mesh, ticks=args.ticks, window=args.window,
                          tau=args.tau * 1e-3, partitioner=args.partitioner,
                          backend=args.backend, keep_traces=bool(args.plot),
                          reference=args.reference, progress=lambda r: shown.update(),
                          float_reference=reference, client=client)
    search = None
    if args.tolerance is not None:
        search = smallest_passing(results, args.tolerance, args.metric)
    paths = []
    if args.plot and results[args.show].ok:
        paths = plot_comparison(results, args.plot, show=args.show)
    if args.json:
        _print_json(args, ex, results, search, paths)
    else:
        _print_table(args, ex, results, search, paths)
    from .commands import report_warnings
    report_warnings(args, _warnings(results))
    return 0 if any(r.ok for r in results) else 1


def _warnings(results) -> list[str]:
    """Each configuration's compile warnings (population by population, as its run's
    compile reported them) and its run's overflow counts, prefixed by its label."""
    lines = []
    for r in results:
        if not r.ok:
            continue
        found = list(r.compile_warnings)
        found += [f"warning: register {k} overflowed {c} times in the run"
                  for k, c in (r.overflow or {}).items() if c]
        lines += [w.replace("warning: ", f"warning: {r.label}: ", 1) for w in found]
    return lines


def _configs(args, usage_error: type[Exception]) -> list[dict]:
    """The configurations the options ask for, every width checked before anything runs
    (out of range: a usage error naming the option)."""
    configs = []
    for dialect in getattr(args, "dialects", ["lif"]):
        configs += sweep(args.v_bits, args.i_bits, args.w_bits, args.rounding) \
            if dialect == "lif" else [{"dialect": dialect}]
    if args.plot and not -len(configs) <= args.show < len(configs):
        raise usage_error(f"--show must be in 0..{len(configs) - 1}, got {args.show}")
    probe = CoreSpec()
    for c in configs:  # widths out of range: a usage error, before anything runs
        try:
            probe.replace(**c, theta_bits=c.get("v_bits", probe.v_bits))
        except SpecError as error:
            raise usage_error(str(error).replace("CoreSpec.v_bits", "--v-bits")
                              .replace("CoreSpec.i_bits", "--i-bits")
                              .replace("CoreSpec.w_bits", "--w-bits")) from None
    return configs


def _print_json(args, ex, results, search, paths) -> None:
    print(json.dumps({
        "netlist": str(args.netlist), "neurons": ex.n, "ticks": results[0].ticks, "dt": ex.dt,
        "reference": args.reference, "float_reference": getattr(args, "described", None),
        "window_ticks": args.window, "van_rossum_tau_s": args.tau * 1e-3,
        "configs": [r.to_dict() for r in results],
        "search": None if search is None else
        {"metric": args.metric, "tolerance": args.tolerance, "groups": search},
        "plots": [os.path.abspath(p) for p in paths]}, indent=1, allow_nan=False))


def _print_table(args, ex, results, search, paths) -> None:
    r0 = results[0]
    total_float = next((r.total_float for r in results if r.ok), None)
    what = "parameters as asked" if args.reference == "asked" else \
        "parameters each configuration realises"
    if args.reference == "asked" and getattr(args, "described", None):
        what = args.described.removeprefix("float reference: ")
    if not args.quiet:
        print(f"{args.netlist}: {ex.n} neurons, {r0.ticks} ticks of {ex.dt * 1e3:g} ms; "
              f"float reference ({what})"
              + (f": {format_value(total_float, 'd')} spikes" if args.reference == "asked"
                 else ""))
        print(f"matching window {args.window} ticks; van Rossum tau {args.tau:g} ms "
              f"(1 = one unmatched spike)")
    print(format_table(results))
    if not args.quiet and format_metrics(results):
        print(format_metrics(results))
    if search is not None:
        print(f"smallest --v-bits with {args.metric} <= {args.tolerance:g}:")
        for g in search:
            rest = ", ".join(f"{k}={g[k]}" for k in ("i_bits", "w_bits", "rounding"))
            print(f"  {rest}: {format_value(g['smallest_v_bits'], 'd', 'none')} "
                  f"(tried {','.join(map(str, g['tried']))})")
    for p in paths if not args.quiet else ():
        print(f"plot: {os.path.abspath(p)}")
    if args.plot and not paths:
        print(f"no plots: configuration {args.show} did not run")
