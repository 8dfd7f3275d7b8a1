"""The handlers of the ``neurochip`` commands, one per command: each takes the parsed
arguments and returns the exit code; bad values raise ``UsageError`` (exit code 2).
``neurochip compare`` is ``cli.compare``."""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from ..compiler.dialects import CURRENT_REGISTER
from ..compiler.dialects import PRESETS as DIALECT_PRESETS
from ..hardware.energy import PRESETS
from ..hardware.spec import CoreSpec, SpecError
from .args import UsageError, check_output
from .run_report import RunSide, RunSummary, format_summary, metrics_by_population, \
    stored_keys, to_arrays, to_json


def demo_command(args) -> int:
    from ..lab.demo import DEMO_STAGES, N_INPUTS, N_NEURONS, plot_demo, run_demo, summary
    from ..lab.progress import bar

    if os.path.exists(args.out) and not args.force:
        raise UsageError(f"{args.out} exists; pass --force to overwrite it or --out to "
                         f"choose another file")
    check_output(args.out, force=True)
    try:
        spec = CoreSpec(n_slots=N_NEURONS, n_axons=N_INPUTS, synapse_words=1024,
                        v_bits=args.v_bits, i_bits=args.i_bits, rounding=args.rounding)
    except SpecError as error:
        raise UsageError(str(error).replace("CoreSpec.v_bits", "--v-bits")
                         .replace("CoreSpec.i_bits", "--i-bits")) from None
    with bar(DEMO_STAGES, quiet=args.quiet, desc="demo", unit="stage") as shown:
        result = run_demo(ticks=args.ticks, dt=args.dt, spec=spec,
                          progress=shown.update)
    plot_demo(result, args.out)
    if not args.quiet:
        print(summary(result))
        print(f"plot: {os.path.abspath(args.out)}")
    return 0


def throughput_command(args) -> int:
    from ..lab.throughput import estimate_example, plot_report

    if args.plot:
        for suffix in ("-core-load.png", "-cycles.png"):
            if os.path.exists(args.plot + suffix) and not args.force:
                raise UsageError(f"{args.plot + suffix} exists; pass --force to overwrite it "
                                 f"or choose another --plot prefix")
            check_output(args.plot + suffix, force=True)
    preset = PRESETS[args.preset]
    try:
        timing = dataclasses.replace(preset.timing, **{k: int(v) for k, v in args.timing})
        energy = dataclasses.replace(preset.energy, **dict(args.energy))
    except TypeError as error:
        name = str(error).split("'")[1] if "'" in str(error) else str(error)
        raise UsageError(f"unknown timing or energy entry {name!r}") from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    period = 1.0 / (args.rate * args.dt)
    if period < 2:
        raise UsageError(f"--rate {args.rate:g} Hz is too fast for --dt "
                         f"{args.dt * 1e3:g} ms")
    clock = args.clock or preset.clock_hz
    if args.example == "random":
        from ..hardware.limits import over_budget
        # the built-in network's peak while it is placed: about 64 bytes per synapse and
        # 256 per neuron (docs/performance.md measures 42 and 208 at a million neurons)
        why = over_budget(64 * args.neurons * args.fanout + 256 * args.neurons,
                          f"the built-in network ({args.neurons} neurons x {args.fanout} "
                          f"synapses)")
        if why:
            raise UsageError(why)
        if args.placement == "greedy":
            raise UsageError("--placement greedy is for netlists; the built-in network is "
                             "placed sequential or random")
        from ..lab.progress import bar, to
        with bar(args.ticks, quiet=args.quiet, desc="throughput", unit="tick") as shown:
            report, mesh = estimate_example(
                neurons=args.neurons, fanout=args.fanout, period=int(round(period)),
                mesh=args.mesh, ticks=args.ticks, dt_s=args.dt, timing=timing,
                energy=energy, clock_hz=clock, placement=args.placement,
                progress=to(shown), sync=preset.sync)
    elif args.example.endswith((".json", ".toml", ".nir")):
        if not os.path.isfile(args.example):
            raise UsageError(f"no such file: {args.example!r}")
        report, mesh = _netlist_throughput(args, timing, energy, clock)
    else:
        raise UsageError(f"expected 'random', a netlist file (.json/.toml) or a NIR graph "
                         f"(.nir), got {args.example!r}")
    print(report.to_json() if args.json else report.format_table())
    if args.plot:
        for path in plot_report(report, mesh, args.plot):
            if not args.json and not args.quiet:
                print(f"plot: {os.path.abspath(path)}")
    return 0


def report_warnings(args, warnings) -> None:
    """Print warnings on stderr (not with ``--quiet``) and count them on ``args``
    (``--strict`` reads the count, quiet or not); for a NIR graph, populations are named
    with their NIR node."""
    import sys

    prepared = getattr(args, "prepared", None)
    if prepared is not None:
        from ..lab.nir_runs import with_node_names
        warnings = with_node_names(warnings, prepared.network)
    for line in warnings if not getattr(args, "quiet", False) else ():
        print(line, file=sys.stderr)
    args.warned = getattr(args, "warned", 0) + len(warnings)


def _refuse_existing(*paths, force: bool, make_folder: bool = False) -> None:
    """Every output can be written (``args.check_output``), before any work starts."""
    for path in paths:
        if path:
            check_output(path, force=force, make_folder=make_folder)


def run_command(args) -> int:
    """``neurochip run``; with ``--json`` everything it would print on stdout is one JSON
    object instead (warnings and progress stay on stderr)."""
    from ..hardware.mpi_run import is_root
    if not is_root():  # under mpiexec rank 0 alone prints and writes (docs/scale-out.md)
        import contextlib
        _refuse_existing(args.out, args.plot, args.save_state, force=args.force)  # as rank 0
        args.out = args.plot = args.save_state = None
        args.quiet = True
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            _run(args)
        return 0
    if not getattr(args, "json", False):
        _run(args)
        return 0
    import contextlib
    import io
    import json

    with contextlib.redirect_stdout(io.StringIO()):
        found = _run(args)
    print(json.dumps(found, indent=1, allow_nan=False))
    return 0


def _run(args) -> dict:
    """The run, its console lines, its ``--out`` and ``--plot`` files; returns the
    ``--json`` object."""
    from ..formats.netlist import expand, load_netlist

    _refuse_existing(args.out, args.plot, args.save_state, force=args.force)
    if args.out and not args.out.endswith(".npz"):
        raise UsageError(f"--out must name a .npz file, got {args.out!r}")
    _check_state_options(args)
    nir, netlist = args.netlist.endswith(".nir"), None
    if nir:
        from .nir import prepare_from_args
        args.prepared = prepare_from_args(args)
        expanded = args.prepared.expanded
    else:
        _refuse_nir_options(args)
        netlist = load_netlist(args.netlist)
        expanded = expand(netlist)
    ticks = args.prepared.ticks if nir else (
        args.ticks or expanded.ticks - (args.resumed.tick if args.resumed else 0))
    if args.resumed and ticks < 1:
        raise UsageError(f"--resume {args.resume}: the netlist's {expanded.ticks} ticks are "
                         f"done at tick {args.resumed.tick}; pass --ticks to run on")
    results: dict[str, np.ndarray] = {"dt": np.array(expanded.dt), "ticks": np.array(ticks)}
    if args.float:
        from ..lab.progress import waiting
        with waiting("float reference", quiet=args.quiet):
            traces, units, line, summary = _float_reference(args, expanded, netlist, ticks)
    else:
        traces, units, line, summary = _emulate(args, expanded, netlist, ticks, results)
    _store_probes(args, expanded, traces, results)
    print(line)
    print(format_summary(summary))
    found = {**to_json(summary), "summary": line}
    if nir and not args.float:
        found["agreement"] = _nir_agreement(args, summary, results)
    results.update(to_arrays(summary))
    found.update(recordings=None, plot=None, units=units)
    if args.out:
        np.savez_compressed(args.out, **results)
        found["recordings"] = os.path.abspath(args.out)
        print(f"recordings: {os.path.abspath(args.out)} ({stored_keys(results)}; "
              f"units {units})")
    if args.plot:
        from ..lab.compare.plots import plot_run_raster
        plot_run_raster(expanded, traces["spikes"], args.plot, summary=line,
                        core=None if args.float else _chip_spec_for(args).core)
        found["plot"] = os.path.abspath(args.plot)
        print(f"plot: {os.path.abspath(args.plot)}")
    return found


def _float_reference(args, expanded, netlist, ticks: int):
    """``run --float``: the traces, their units, the summary line and the ``RunSummary``
    of the float reference (a NIR graph's framework equations, same-step by default, or
    the netlist's float model)."""
    from ..compiler.pipeline import float_run
    from ..lab.metrics import metrics_of, netlist_metrics

    if args.netlist.endswith(".nir"):
        from .nir import reference_from_args
        prepared = args.prepared
        reference = reference_from_args(args, prepared, "same-step")
        traces = {"spikes": reference.spikes, "v": reference.v, "i": reference.i}
        units = {"v": "the file's units", "i": "the file's units"}
        side = RunSide("float", reference.spikes, metrics_by_population(
            metrics_of(reference, prepared), _population_of(prepared)))
        line = (f"{reference.describe()}: {int(reference.spikes.sum())} spikes in "
                f"{ticks} ticks")
        ran = f"the float reference, not the emulator ({reference.describe()[17:]})"
        return traces, units, line, _summary(args, expanded, None, ran, (side,))
    trace = float_run(expanded, ticks)
    traces = {"spikes": trace.spikes, "v": trace.v, "i": trace.i, "theta": trace.theta}
    side = RunSide("float", trace.spikes, netlist_metrics(
        expanded, trace.spikes, trace.v, "float", netlist).nodes)
    line = f"float reference: {int(trace.spikes.sum())} spikes in {ticks} ticks"
    ran = "the float reference, not the emulator (the netlist's LIF in physical units, float64)"
    return traces, {"v": "V", "i": "A", "theta": "V"}, line, \
        _summary(args, expanded, netlist, ran, (side,))


def _population_of(prepared) -> dict[str, str]:
    return {name: m.population for name, m in prepared.network.nodes.items()}


def _summary(args, expanded, netlist, ran: str, sides) -> RunSummary:
    """The ``RunSummary`` of a run of ``expanded``: populations, their reset, and for a
    NIR graph its nodes and Output nodes."""
    from ..formats.netlist.schema import DEFAULTS

    populations = {p: expanded.slice(p) for p in expanded.names}
    ticks = sides[0].spikes.shape[0]
    if netlist is not None:
        reset = {}
        for pop in netlist.populations:
            mode = {**DEFAULTS, **pop.params}.get("reset", "value")
            reset[pop.name] = mode if isinstance(mode, str) else \
                "per neuron (" + ", ".join(sorted(set(mode))) + ")"
        return RunSummary(args.netlist, ran, expanded.dt, ticks, reset, populations,
                          sides=tuple(sides))
    net = args.prepared.network
    node_of = {m.population: name for name, m in net.nodes.items()}
    reset = {m.population: net.reset.get(name, "-") for name, m in net.nodes.items()}
    outputs = {o: np.concatenate([np.arange(net.nodes[f].start, net.nodes[f].stop)
                                  for f in out.nodes] or [np.zeros(0, np.int64)])
               for o, out in net.outputs.items()}
    return RunSummary(args.netlist, ran, expanded.dt, ticks, reset, populations,
                      nir_node=node_of, outputs=outputs, sides=tuple(sides))


def _check_state_options(args) -> None:
    """``--save-state`` and ``--resume`` (docs/checkpoint.md), before anything runs (that
    the --save-state file can be written is ``_refuse_existing``'s check): the --resume
    checkpoint is read into ``args.resumed`` (``None`` without --resume)."""
    from ..hardware.checkpoint import Checkpoint, CheckpointError

    args.resumed = None
    given = [flag for flag, value in (("--save-state", args.save_state),
                                      ("--resume", args.resume)) if value]
    if given and args.float:
        raise UsageError(f"{' and '.join(given)}: the float reference has no chip state")
    if args.resume and args.netlist.endswith(".nir"):
        raise UsageError("--resume is for netlists (.json/.toml); a NIR graph runs over "
                         "its whole input")
    if args.save_state and not args.save_state.endswith(".npz"):
        raise UsageError(f"--save-state must name a .npz file, got {args.save_state!r}")
    if args.resume:
        try:
            args.resumed = Checkpoint.load(args.resume)
        except CheckpointError as error:
            raise UsageError(f"--resume {error}") from None


def _restore_state(args, compiled) -> None:
    """With --resume: the compiled network continues from the checkpoint (refused, one
    line, when it is of another netlist or chip)."""
    from ..hardware.checkpoint import CheckpointError

    if args.resumed is None:
        return
    try:
        compiled.restore(args.resumed)
    except CheckpointError as error:
        saved = args.resumed.meta.get("netlist")
        origin = f" (saved by a run of {saved})" if saved else ""
        why = str(error).removeprefix("checkpoint: ")
        raise UsageError(f"--resume {args.resume}{origin}: {why}") from None


def _save_state(args, compiled) -> None:
    if args.save_state:
        compiled.checkpoint(netlist=os.path.basename(args.netlist)).save(args.save_state)
        print(f"state: {os.path.abspath(args.save_state)} (tick {compiled.chip.t})")


def _refuse_nir_options(args) -> None:
    """A netlist holds its own inputs, tick and reset: NIR-only options are refused."""
    given = [flag for flag, name, default in (
        ("--input", "input", None), ("--dt", "dt", 1e-3), ("--reset", "reset", "auto"),
        ("--dt-export", "dt_export", None), ("--framework", "framework", "auto"),
        ("--option", "option", []), ("--stepping", "stepping", None))
        if getattr(args, name, default) != default]
    if given:
        raise UsageError(f"{', '.join(given)}: for NIR graphs only; the netlist "
                         f"{args.netlist} sets its own inputs, tick and reset")


def _store_probes(args, expanded, traces, results) -> None:
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


def _nir_agreement(args, summary: RunSummary, results) -> dict:
    """After a chip run of a NIR graph: spikes per Output on chip and float reference
    (``args.reference``, tick-per-hop), and the warnings for what the chip cannot
    compute as the reference does."""
    from types import SimpleNamespace

    from ..lab.nir_runs import agreement, semantic_gaps

    found = agreement(args.prepared, SimpleNamespace(recording=SimpleNamespace(
        spikes=summary.sides[0].spikes)), args.reference)
    print(found.format())
    for o in found.outputs:
        results[f"agreement.{o.output}"] = np.array([o.chip_spikes, o.float_spikes])
    report_warnings(args, semantic_gaps(args.prepared, args.reference))
    return found.to_dict()


def _emulate(args, expanded, netlist, ticks: int, results: dict):
    """``neurochip run`` on the emulator: the traces in volts and amps, their units, the
    summary line and the ``RunSummary``; the raw registers go into ``results``
    (``registers.NAME``)."""
    from ..compiler.pipeline import compile_netlist
    from ..lab.progress import bar, to

    from ..compiler.warnings import run_warnings

    calibration = None
    if getattr(args, "calibrate", False) or args.netlist.endswith(".nir"):
        from ..compiler.calibration import Calibration
        calibration = Calibration.from_run(_calibration_run(args, expanded, ticks))
    compiled = compile_netlist(expanded, _chip_spec_for(args),
                               partitioner=args.partitioner, dialect=args.dialect,
                               calibration=calibration)
    if not args.quiet:
        print(compiled.report.format())
    report_warnings(args, compiled.report.warnings)
    _restore_state(args, compiled)
    from ..hardware.partitioned import Parallel  # --threads, or the ranks of mpiexec
    compiled.chip.parallel = Parallel.for_process(getattr(args, "threads", 1))
    current = CURRENT_REGISTER[args.dialect]
    record = ("spikes", "v", current) + (("theta",) if args.dialect == "lif" else ())
    with bar(ticks, quiet=args.quiet, desc="run", unit="tick") as shown:
        recording = compiled.run(ticks, record=record, backend=args.backend,
                                 progress=to(shown))
    _save_state(args, compiled)
    if args.resumed is not None:
        results["start_tick"] = np.array(recording.start_tick)
    report_warnings(args, run_warnings(compiled.report, recording, compiled.chip.spec.core,
                                       ("v", current)))
    scales = compiled.quantised.scales
    traces = {"spikes": recording.spikes, "v": scales.volts(recording["v"]),
              "i": scales.amps(recording[current])}
    if "theta" in record:
        traces["theta"] = recording["theta"] * scales.v_lsb
    for name in record[1:]:
        results_key = f"registers.{name}"
        results[results_key] = recording[name]
    units = {"v": "V", "i": "A", "theta": "V"}
    line = (f"emulator: {int(recording.spikes.sum())} spikes in {ticks} ticks on "
            f"{args.mesh[0]}×{args.mesh[1]} cores; overflows "
            f"{sum(recording.overflow.values())}")
    return traces, units, line, _chip_summary(args, expanded, netlist, compiled, recording)


def _chip_summary(args, expanded, netlist, compiled, recording) -> RunSummary:
    """What ran on the chip, its metrics, and for a NIR graph the float reference it is
    compared with (``args.reference``: tick-per-hop unless ``--stepping``)."""
    from ..hardware.engine import resolve_backend
    from ..lab.metrics import metrics_of, netlist_metrics

    backend = resolve_backend(args.backend, compiled.chip.model)
    ran = (f"the emulator (bit-exact integer cores: {args.dialect} dialect, "
           f"{args.mesh[0]}×{args.mesh[1]} mesh, {backend} backend)")
    if netlist is not None:
        chip = netlist_metrics(expanded, recording.spikes, recording["v"], "chip", netlist)
        side = RunSide("chip", recording.spikes, chip.nodes)
        return _summary(args, expanded, netlist, ran, (side,))
    from ..lab.nir_runs import ChipRun
    from .nir import reference_from_args

    prepared, population_of = args.prepared, _population_of(args.prepared)
    args.reference = reference_from_args(args, prepared, "tick-per-hop")
    chip = metrics_of(ChipRun(compiled, recording, ()), prepared)
    floated = metrics_of(args.reference, prepared)
    sides = (RunSide("chip", recording.spikes, metrics_by_population(chip, population_of)),
             RunSide("float", args.reference.spikes,
                     metrics_by_population(floated, population_of)))
    return dataclasses.replace(_summary(args, expanded, None, ran, sides),
                               compared=args.reference.describe())


def _calibration_run(args, expanded, ticks: int):
    """The float run a calibration takes its ranges from: the netlist's float model on
    its inputs, a NIR graph's input events included (``float_run`` carries the
    refractory periods that a framework's reset may need; ``run_float`` does not)."""
    from ..compiler.pipeline import float_run

    return float_run(expanded, ticks)


def _chip_spec_for(args):
    from ..hardware.chip import ChipSpec
    from ..compiler.pipeline import roomy_core_spec

    widths = {"v_bits": 16, "i_bits": 16, **DIALECT_PRESETS[args.dialect]}
    widths.update({name: value for name, value in (("v_bits", args.v_bits),
                                                   ("i_bits", args.i_bits))
                   if value is not None})
    try:
        core = roomy_core_spec(args.slots, args.mesh[0] * args.mesh[1],
                               **{**widths, "theta_bits": widths["v_bits"]})
    except SpecError as error:
        raise UsageError(str(error).replace("CoreSpec.v_bits", "--v-bits")
                         .replace("CoreSpec.i_bits", "--i-bits")) from None
    return ChipSpec(*args.mesh, core=core)


def compile_command(args) -> int:
    import json

    from ..compiler.pipeline import compile_netlist
    from ..formats.image import write_chip_images
    from ..formats.netlist import load_netlist

    if os.path.isdir(args.out) and os.listdir(args.out) and not args.force:
        raise UsageError(f"{args.out} exists and is not empty; pass --force to replace its "
                         f"images and report")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"-o {args.out} is a file; name a folder for the images")
    check_output(os.path.join(args.out, "manifest.json"), force=True) \
        if os.path.isdir(args.out) else check_output(args.out, force=True)
    network, calibration = _network_to_compile(args, load_netlist)
    compiled = compile_netlist(network, _chip_spec_for(args),
                               partitioner=args.partitioner, dialect=args.dialect,
                               calibration=calibration)
    chip = compiled.chip
    paths = write_chip_images(chip.spec, dict(enumerate(chip.configs)), args.out,
                              overwrite=args.force)
    report = compiled.report
    with open(os.path.join(args.out, "report.txt"), "w") as f:
        f.write(report.format() + "\n" + "".join(w + "\n" for w in report.warnings))
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report.to_dict(), f, indent=1)
    if not args.quiet:
        print(report.format())
        print(f"wrote {len(paths) - 1} core images, manifest.json, report.txt and report.json "
              f"to {os.path.abspath(args.out)}")
    report_warnings(args, report.warnings)
    return 0


def _network_to_compile(args, load_netlist):
    """The netlist (or a NIR graph with its ``--input`` as input events) and the
    calibration ``--calibrate`` asks for."""
    calibrate = getattr(args, "calibrate", False)
    if not args.netlist.endswith(".nir"):
        _refuse_nir_options(args)
        return load_netlist(args.netlist), "float" if calibrate else None
    from .nir import prepare_from_args

    args.ticks = getattr(args, "ticks", None)
    prepared = args.prepared = prepare_from_args(args)
    # "float": the float model of the expanded network, the graph's input included
    return prepared.expanded, "float" if calibrate else None


def experiment_command(args) -> int:
    from ..lab.experiments import EXPERIMENTS, LEFT_OUT, output_path, run_experiment

    if args.name in LEFT_OUT:
        raise UsageError(f"no experiment {args.name!r}: {LEFT_OUT[args.name]}")
    if args.name != "all" and args.name not in EXPERIMENTS:
        raise UsageError(f"unknown experiment {args.name!r}; choose from "
                         f"{', '.join(EXPERIMENTS)} or all")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} is not a folder")
    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    _refuse_existing(*(output_path(name, args.out) for name in names), force=args.force,
                     make_folder=True)
    from ..lab.progress import bar
    with bar(len(names), quiet=args.quiet, desc="experiment", unit="experiment") as shown:
        for name in names:
            shown.set_postfix_str(name)
            run_experiment(name, args.out, force=True, quiet=args.quiet)
            shown.update()
    return 0


def inspect_command(args) -> int:
    """Each image field by field (``formats.image.describe.main``: a refused image is one
    line on stderr and exit code 2, the other images still shown)."""
    from ..formats.image.describe import main as describe_images

    return describe_images(list(args.image))


def _netlist_throughput(args, timing, energy, clock):
    from ..hardware.chip import ChipSpec
    from ..compiler.pipeline import compile_netlist, roomy_core_spec
    from ..formats.netlist import expand, load_netlist
    from ..lab.throughput import summarise

    if args.example.endswith(".nir"):
        from .nir import prepare_from_args
        args.netlist = args.example
        network = prepare_from_args(args).expanded
    else:
        network = expand(load_netlist(args.example))
    cores = args.mesh[0] * args.mesh[1]
    spec = ChipSpec(*args.mesh, core=roomy_core_spec(-(-network.n // cores), cores),
                    timing=timing, clock_hz=clock)
    if args.placement == "random":
        raise UsageError("--placement random is for the built-in network; a netlist is "
                         "placed sequential or greedy")
    compiled = compile_netlist(network, spec, partitioner=args.placement)
    from ..lab.progress import bar, to
    with bar(args.ticks, quiet=args.quiet, desc="throughput", unit="tick") as shown:
        recording = compiled.run(args.ticks, record=("spikes",), timing=True,
                                 progress=to(shown))
    return summarise(recording.timing, spec.mesh, int(recording.spikes.sum()), network.dt,
                     clock, energy, PRESETS[args.preset].sync), spec.mesh
