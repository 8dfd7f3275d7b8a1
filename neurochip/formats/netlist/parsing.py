"""Reading a netlist: ``load_netlist`` (a ``.json`` or ``.toml`` file) and
``netlist_from_dict`` (an already parsed mapping), every field checked on the way.

Every problem raises ``NetlistError`` (a ``ValueError``) with one line,
``"{file}: {field.path}: {problem} (got {value!r})"``, at the first problem. Nothing is
ever fixed silently: no clipping, no rounding of sizes, no dropping of out-of-range events.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from firmware_models.lif.reference import RESET_MODES

from .checks import (_amperes, _bool, _Context, _index, _integer, _length, _list,
                     _magnitude, _nonnegative, _number, _object, _positive, _seed, _string,
                     _tagged, _time_in_run, _values)
from ...hardware.limits import format_bytes, over_budget
from .budget import check_budget
from .errors import NAME_PATTERN, FieldPath, NetlistError
from .schema import (DEFAULTS, FORMAT, LIF_PARAMS, MAX_AMPERES, MAX_COUNT, MAX_DEPTH,
                     MAX_EVENTS_PER_TICK, MAX_VOLTS, MODELS, NEVER_FIRES, RECORDABLE,
                     SCALE_RANGE, TICK_TOLERANCE, VERSION, Connectivity, DcInput,
                     DenseConnectivity, FixedFanIn, FixedProbability, Input, ListConnectivity,
                     Netlist, Normal, PoissonInput, Population, Probe, Projection, SpikeInput,
                     StepInput, Uniform, Weight, tick_of)

_INDEX_KEY = re.compile(r"(0|[1-9][0-9]*)\Z")
_LO, _HI = SCALE_RANGE


def _scale(unit: str):
    return (lambda x: _LO <= x <= _HI,
            lambda x: f"must be positive ({unit})" if x <= 0 else
            f"must be in [{_LO:g}, {_HI:g}] ({unit})")


# (test on a float, what the value must be) for every numeric parameter: its domain, and
# magnitudes far beyond any neuron refused (they would overflow the quantisation)
_PARAM_DOMAIN = {
    "C": _scale("farads"),
    "g_L": _scale("siemens"),
    "E_L": (lambda x: abs(x) <= MAX_VOLTS, f"must be at most {MAX_VOLTS:g} V in magnitude"),
    "V_th": (lambda x: abs(x) <= MAX_VOLTS or x >= NEVER_FIRES,
             f"must be at most {MAX_VOLTS:g} V in magnitude, or >= {NEVER_FIRES:g} V "
             f"(never fires)"),
    "V_reset": (lambda x: abs(x) <= MAX_VOLTS,
                f"must be at most {MAX_VOLTS:g} V in magnitude"),
    "tau_syn": _scale("seconds"),
    "tau_theta": _scale("seconds"),
    "alpha": (lambda x: 0 <= x <= MAX_VOLTS, lambda x: "must be >= 0 (volts)" if x < 0
              else f"must be at most {MAX_VOLTS:g} (volts)"),
    "I_bias": (lambda x: abs(x) <= MAX_AMPERES,
               f"must be at most {MAX_AMPERES:g} A in magnitude"),
    "sigma": (lambda x: 0 <= x <= MAX_VOLTS, lambda x: "must be >= 0 (V/sqrt(s))" if x < 0
              else f"must be at most {MAX_VOLTS:g} (V/sqrt(s))"),
}


def _t_ref_domain(dt: float):
    top = MAX_COUNT * dt
    return (lambda x: 0 <= x <= top, lambda x: "must be >= 0 (seconds)" if x < 0 else
            f"must be at most {MAX_COUNT} ticks of dt ({top:g} s)")


def _population(name: str, value, path: FieldPath, dt: float) -> Population:
    obj = _object(value, path, ("model", "size"), ("params",))
    model = _string(obj["model"], path.key("model"))
    if model not in MODELS:
        path.key("model").fail(f"unknown model (known: {', '.join(MODELS)})", model)
    size = _integer(obj["size"], path.key("size"), 1, "a positive integer", MAX_COUNT)
    ppath = path.key("params")
    raw = obj.get("params", {})
    _object(raw, ppath, (), LIF_PARAMS, unknown="unknown parameter")
    why = f"size of {name}"
    params: dict[str, Any] = {}
    for key in LIF_PARAMS:
        if key not in raw:
            params[key] = DEFAULTS[key]
            continue
        value, kpath = raw[key], ppath.key(key)
        if key == "reset":
            what = f"must be one of {', '.join(map(repr, RESET_MODES))}"
            if isinstance(value, list):
                _length(value, kpath, size, why)
                for j, m in enumerate(value):
                    if m not in RESET_MODES or not isinstance(m, str):
                        kpath.at(j).fail(what, m)
                params[key] = tuple(value)
            elif isinstance(value, str) and value in RESET_MODES:
                params[key] = value
            else:
                kpath.fail(f"{what} or a list of {size} of them", value)
        else:
            domain = _t_ref_domain(dt) if key == "T_ref" else _PARAM_DOMAIN[key]
            params[key] = _values(value, kpath, size, why, domain)
    # V_reset below V_th where the reset is to a value (LifPhysical's rule)
    vreset, vth, reset = params["V_reset"], params["V_th"], params["reset"]
    per_neuron = any(isinstance(x, tuple) for x in (vreset, vth, reset))
    for j in range(size if per_neuron else 1):
        r = reset[j] if isinstance(reset, tuple) else reset
        vr = vreset[j] if isinstance(vreset, tuple) else vreset
        vt = vth[j] if isinstance(vth, tuple) else vth
        if r == "value" and not vr < vt:
            where = ppath.key("V_reset").at(j) if isinstance(vreset, tuple) else ppath.key(
                "V_reset")
            neuron = f" of neuron {j}" if isinstance(vth, tuple) else ""
            where.fail(f"must be below V_th{neuron} ({vt!r}) for reset 'value'", vr)
    return Population(name, size, params, model)


def _weight(value, path: FieldPath) -> Weight:
    what = "must be a number (A), {mean, std} or {low, high}"
    if isinstance(value, dict):
        if "mean" in value or "std" in value:
            obj = _object(value, path, ("mean", "std"))
            std = _nonnegative(obj["std"], path.key("std"), "amperes")
            if std > MAX_AMPERES:
                path.key("std").fail(f"must be at most {MAX_AMPERES:g} A", obj["std"])
            return Normal(_amperes(obj["mean"], path.key("mean"), "must be a number"), std)
        if "low" in value or "high" in value:
            obj = _object(value, path, ("low", "high"))
            low = _amperes(obj["low"], path.key("low"), "must be a number")
            high = _amperes(obj["high"], path.key("high"), "must be a number")
            if not low <= high:
                path.key("high").fail(f"must be >= low ({low!r})", obj["high"])
            return Uniform(low, high)
        path.fail(what, value)
    return _amperes(value, path, what)


def _connectivity(value, path: FieldPath, n_pre: int, n_post: int, pre: str, post: str
                  ) -> Connectivity:
    kind = _tagged(value, path, "type", ("list", "dense", "fixed_probability", "fixed_fan_in"),
                   "connectivity")
    if kind == "list":
        obj = _object(value, path, ("type", "pre", "post", "weight"))
        pre_list = _list(obj["pre"], path.key("pre"))
        idx_pre = tuple(_index(v, path.key("pre").at(j), n_pre, pre)
                        for j, v in enumerate(pre_list))
        post_list = _list(obj["post"], path.key("post"))
        _length(post_list, path.key("post"), len(pre_list), "length of pre")
        idx_post = tuple(_index(v, path.key("post").at(j), n_post, post)
                         for j, v in enumerate(post_list))
        weight = _values(obj["weight"], path.key("weight"), len(pre_list), "length of pre",
                         _magnitude(MAX_AMPERES, "A"))
        return ListConnectivity(idx_pre, idx_post, weight)
    if kind == "dense":
        obj = _object(value, path, ("type", "weights"))
        return DenseConnectivity(_matrix(obj["weights"], path.key("weights"), n_pre, n_post,
                                         pre, post, _magnitude(MAX_AMPERES, "A")))
    optional = ("seed", "self_connections")
    if kind == "fixed_probability":
        obj = _object(value, path, ("type", "p", "weight"), optional)
        p = _number(obj["p"], path.key("p"), "must be a probability in [0, 1]")
        if not 0 <= p <= 1:
            path.key("p").fail("must be a probability in [0, 1]", obj["p"])
        rule: dict = {"p": p}
    else:
        obj = _object(value, path, ("type", "n", "weight"), optional)
        n = _integer(obj["n"], path.key("n"), 0, "a non-negative integer")
        self_ok = _bool(obj.get("self_connections", True), path.key("self_connections"))
        limit = n_pre - (1 if pre == post and not self_ok else 0)
        if n > limit:
            why = (f"{pre} has {n_pre} neurons" if limit == n_pre else
                   f"{pre} has {n_pre} neurons and self_connections is false")
            path.key("n").fail(f"must be at most {limit} ({why})", n)
        rule = {"n": n}
    weight = _weight(obj["weight"], path.key("weight"))
    seed = _seed(obj["seed"], path.key("seed")) if "seed" in obj else None
    self_ok = _bool(obj.get("self_connections", True), path.key("self_connections"))
    cls = FixedProbability if kind == "fixed_probability" else FixedFanIn
    return cls(**rule, weight=weight, seed=seed, self_connections=self_ok)


def _matrix(value, path: FieldPath, n_pre: int, n_post: int, pre: str, post: str, check
            ) -> tuple[tuple[float, ...], ...]:
    rows = _list(value, path, f"must be a list of {n_pre} rows (one per {pre} neuron)")
    _length(rows, path, n_pre, f"size of {pre}, the pre population")
    out = []
    for i, row in enumerate(rows):
        rpath = path.at(i)
        _list(row, rpath, f"must be a list of {n_post} numbers (one per {post} neuron)")
        _length(row, rpath, n_post, f"size of {post}, the post population")
        out.append(tuple(_number(x, rpath.at(j)) for j, x in enumerate(row)))
        if check:
            test, problem = check
            for j, x in enumerate(out[-1]):
                if not test(x):
                    rpath.at(j).fail(problem(x) if callable(problem) else problem, row[j])
    return tuple(out)


def _projection(value, path: FieldPath, ctx: _Context) -> Projection:
    obj = _object(value, path, ("pre", "post", "connectivity"), ("delay",))
    pre = ctx.population(obj["pre"], path.key("pre"))
    post = ctx.population(obj["post"], path.key("post"))
    n_pre, n_post = ctx.sizes[pre], ctx.sizes[post]
    conn = _connectivity(obj["connectivity"], path.key("connectivity"), n_pre, n_post,
                         pre, post)
    dpath = path.key("delay")
    check = ctx.delay_check()
    raw = obj.get("delay", ctx.dt)
    if isinstance(raw, list):
        if isinstance(conn, ListConnectivity):
            delay = _values(raw, dpath, len(conn.pre), "number of synapses in connectivity.pre",
                            check)
        elif isinstance(conn, DenseConnectivity):
            delay = _matrix(raw, dpath, n_pre, n_post, pre, post, check)
        else:
            dpath.fail(f"per-synapse delays need connectivity 'list' or 'dense'; "
                       f"'{conn.type}' takes one number of seconds")
    else:
        test, problem = check
        low = problem(0.0)
        what = (f"{low} or a list of them" if isinstance(
            conn, (ListConnectivity, DenseConnectivity)) else low)
        delay = _number(raw, dpath, what)
        if not test(delay):
            dpath.fail(problem(delay), raw)
    return Projection(pre, post, conn, delay)


def _neurons(obj: dict, path: FieldPath, size: int, pop: str) -> tuple[int, ...] | None:
    if "neurons" not in obj:
        return None
    npath = path.key("neurons")
    items = _list(obj["neurons"], npath, "must be a list of neuron indices")
    if not items:
        npath.fail("must name at least one neuron (leave it out for all of them)")
    seen: dict[int, int] = {}
    for j, v in enumerate(items):
        _index(v, npath.at(j), size, pop)
        if v in seen:
            npath.at(j).fail(f"neuron listed twice (also at [{seen[v]}])", v)
        seen[v] = j
    return tuple(items)


def _input(value, path: FieldPath, ctx: _Context) -> Input:
    kind = _tagged(value, path, "kind", ("spikes", "poisson", "dc", "step"), "input kind")
    if kind == "spikes":
        obj = _object(value, path, ("kind", "target", "weight", "times"))
    elif kind == "poisson":
        obj = _object(value, path, ("kind", "target", "rate", "weight"),
                      ("seed", "fan_in", "neurons", "start", "stop"))
    elif kind == "dc":
        obj = _object(value, path, ("kind", "target", "amplitude"), ("neurons",))
    else:
        obj = _object(value, path, ("kind", "target", "times", "amplitudes"), ("neurons",))
    target = ctx.population(obj["target"], path.key("target"))
    size = ctx.sizes[target]
    if kind == "spikes":
        return _spike_input(obj, path, ctx, target)
    neurons = _neurons(obj, path, size, target)
    count = size if neurons is None else len(neurons)
    why = f"size of {target}" if neurons is None else "length of neurons"
    if kind == "poisson":
        return _poisson_input(obj, path, ctx, target, neurons, why)
    if kind == "dc":
        amplitude = _values(obj["amplitude"], path.key("amplitude"), count, why,
                            _magnitude(MAX_AMPERES, "A"))
        return DcInput(target, amplitude, neurons)
    return _step_input(obj, path, ctx, target, neurons)


def _spike_input(obj: dict, path: FieldPath, ctx: _Context, target: str) -> SpikeInput:
    size = ctx.sizes[target]
    weight = _amperes(obj["weight"], path.key("weight"))
    tpath = path.key("times")
    table = obj["times"]
    if not isinstance(table, dict):
        tpath.fail("must be an object mapping neuron indices to lists of times", table)
    times: dict[int, tuple[float, ...]] = {}
    for key, ts in table.items():
        if not isinstance(key, str) or not _INDEX_KEY.match(key) or int(key) >= size:
            tpath.fail(f"keys must be neuron indices in 0..{size - 1} ({target} has "
                       f"{size} neurons)", key)
        kpath = tpath.key(key)
        _list(ts, kpath, "must be a list of times (s)")
        times[int(key)] = tuple(_time_in_run(t, kpath.at(j), ctx.dt, ctx.duration)
                                for j, t in enumerate(ts))
    return SpikeInput(target, weight, times)


def _poisson_input(obj: dict, path: FieldPath, ctx: _Context, target: str,
                   neurons: tuple[int, ...] | None, why: str) -> PoissonInput:
    count = ctx.sizes[target] if neurons is None else len(neurons)
    rate = _values(obj["rate"], path.key("rate"), count, why,
                   (lambda x: x >= 0, "must be >= 0 (Hz)"))
    weight = _values(obj["weight"], path.key("weight"), count, why,
                     _magnitude(MAX_AMPERES, "A"))
    seed = _seed(obj["seed"], path.key("seed")) if "seed" in obj else None
    fan_in = _integer(obj.get("fan_in", 1), path.key("fan_in"), 1, "a positive integer",
                      MAX_COUNT)
    top = max(rate) if isinstance(rate, tuple) else rate
    if top * fan_in * ctx.dt > MAX_EVENTS_PER_TICK:
        path.key("rate").fail(f"rate × fan_in × dt must be at most {MAX_EVENTS_PER_TICK:g} "
                              f"events per tick per neuron (fan_in = {fan_in})", top)
    start = _time_in_run(obj.get("start", 0.0), path.key("start"), ctx.dt, ctx.duration)
    stop = None
    if "stop" in obj:
        what = f"must be a time in [start = {start!r}, duration = {ctx.duration!r}] s"
        stop = _number(obj["stop"], path.key("stop"), what)
        if not start <= stop <= ctx.duration:
            path.key("stop").fail(what, obj["stop"])
    return PoissonInput(target, rate, weight, seed, fan_in, neurons, start, stop)


def _step_input(obj: dict, path: FieldPath, ctx: _Context, target: str,
                neurons: tuple[int, ...] | None) -> StepInput:
    tpath, apath = path.key("times"), path.key("amplitudes")
    times_list = _list(obj["times"], tpath, "must be a list of times (s)")
    if not times_list:
        tpath.fail("must list at least one step")
    step_times = tuple(_time_in_run(t, tpath.at(j), ctx.dt, ctx.duration)
                       for j, t in enumerate(times_list))
    for j in range(1, len(step_times)):
        a, b = tick_of(step_times[j - 1], ctx.dt), tick_of(step_times[j], ctx.dt)
        if b <= a:
            tpath.at(j).fail(f"must fall in a later tick than times[{j - 1}] (tick {a}); "
                             f"steps are increasing and at least one tick apart",
                             times_list[j])
    amps = _list(obj["amplitudes"], apath, "must be a list of currents (A)")
    _length(amps, apath, len(step_times), "length of times")
    amplitudes = tuple(_amperes(a, apath.at(j)) for j, a in enumerate(amps))
    return StepInput(target, step_times, amplitudes, neurons)


def _probe(value, path: FieldPath, ctx: _Context) -> Probe:
    obj = _object(value, path, ("population", "record"))
    population = ctx.population(obj["population"], path.key("population"))
    rpath = path.key("record")
    what = f"must be a list of {', '.join(map(repr, RECORDABLE))}"
    items = _list(obj["record"], rpath, what)
    if not items:
        rpath.fail(f"{what} (at least one)")
    for j, item in enumerate(items):
        if not isinstance(item, str) or item not in RECORDABLE:
            rpath.at(j).fail(f"unknown variable (known: {', '.join(RECORDABLE)})", item)
        if item in items[:j]:
            rpath.at(j).fail("listed twice", item)
    return Probe(population, tuple(items))


def netlist_from_dict(data, source: str = "<dict>") -> Netlist:
    """Check a parsed netlist (JSON object / TOML table) and build the ``Netlist``.

    Raises ``NetlistError`` naming ``source``, the field path and the offending value at
    the first problem.
    """
    source = str(source)
    root = FieldPath(source)
    _check_depth(data, source)
    if not isinstance(data, dict):
        root.fail("must be an object at the top level", data)
    obj = _object(data, root, ("format", "version", "dt", "duration", "populations"),
                  ("seed", "projections", "inputs", "probes"))
    if obj["format"] != FORMAT:
        root.key("format").fail(f"must be {FORMAT!r}", obj["format"])
    version = obj["version"]
    if type(version) is not int or version != VERSION:
        root.key("version").fail(f"unsupported version (supported: {VERSION})", version)
    dt = _positive(obj["dt"], root.key("dt"), "seconds")
    duration = _positive(obj["duration"], root.key("duration"), "seconds")
    ticks = duration / dt
    if not ticks <= MAX_COUNT:
        root.key("duration").fail(f"must be at most {MAX_COUNT} ticks of dt = {dt!r} s",
                                  obj["duration"])
    if abs(ticks - round(ticks)) > TICK_TOLERANCE * max(1.0, ticks) or round(ticks) < 1:
        root.key("duration").fail(f"must be a whole number of ticks of dt = {dt!r} s",
                                  obj["duration"])
    seed = _seed(obj.get("seed", 0), root.key("seed"))

    ppath = root.key("populations")
    pops = obj["populations"]
    if not isinstance(pops, dict):
        ppath.fail("must be an object mapping names to populations", pops)
    if not pops:
        ppath.fail("must define at least one population")
    populations = []
    for name, value in pops.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            ppath.fail("population names must be letters, digits, '_' and '-', starting "
                       "with a letter or '_'", name)
        populations.append(_population(name, value, ppath.key(name), dt))
    ctx = _Context(source, dt, duration, {p.name: p.size for p in populations})

    def section(key, parse):
        spath = root.key(key)
        items = _list(obj.get(key, []), spath)
        return tuple(parse(item, spath.at(j), ctx) for j, item in enumerate(items))

    projections = section("projections", _projection)
    inputs = section("inputs", _input)
    probes = section("probes", _probe)
    seen: dict[str, int] = {}
    for j, probe in enumerate(probes):
        if probe.population in seen:
            root.key("probes").at(j).key("population").fail(
                f"already probed by probes[{seen[probe.population]}]; list every variable "
                f"in one probe", probe.population)
        seen[probe.population] = j
    netlist = Netlist(dt, duration, tuple(populations), projections, inputs, probes, seed)
    check_budget(netlist, source)
    return netlist


def _check_depth(data, source: str) -> None:
    """Refuse objects and lists nested deeper than ``MAX_DEPTH`` (no netlist field is
    nested more than a few levels), walking without recursion."""
    stack = [(data, FieldPath(source), 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            path.fail(f"nested deeper than {MAX_DEPTH} levels of objects and lists")
        if isinstance(value, dict):
            stack.extend((v, path.key(k) if isinstance(k, str) else path, depth + 1)
                         for k, v in value.items() if isinstance(v, (dict, list)))
        elif isinstance(value, list):
            stack.extend((v, path.at(j), depth + 1) for j, v in enumerate(value)
                         if isinstance(v, (dict, list)))


def _parse_text(text: str, suffix: str, source: str):
    if suffix == ".json":
        def pairs(items):
            out = {}
            for key, value in items:
                if key in out:
                    raise NetlistError(source, "", f"invalid JSON: duplicate key {key!r}")
                out[key] = value
            return out
        try:
            return json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as e:
            raise NetlistError(source, f"line {e.lineno}, column {e.colno}",
                               f"invalid JSON: {e.msg}") from None
        except RecursionError:
            raise NetlistError(source, "", f"invalid JSON: nested deeper than {MAX_DEPTH} "
                                           f"levels of objects and lists") from None
        except NetlistError:
            raise
        except ValueError as e:               # an integer beyond int's digit limit
            raise NetlistError(source, "", f"invalid JSON: {_digits(e)}") from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise NetlistError(source, "", f"invalid TOML: nested deeper than {MAX_DEPTH} "
                                       f"levels of tables and arrays") from None
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        where = re.search(r" \(at line (\d+), column (\d+)\)$", message)
        if where:
            message = message[:where.start()]
            raise NetlistError(source, f"line {where.group(1)}, column {where.group(2)}",
                               f"invalid TOML: {message}") from None
        where = re.search(r" \(at end of document\)$", message)
        if where:
            raise NetlistError(source, "end of document",
                               f"invalid TOML: {message[:where.start()]}") from None
        raise NetlistError(source, "", f"invalid TOML: {message}") from None
    except ValueError as e:                   # an integer beyond int's digit limit
        raise NetlistError(source, "", f"invalid TOML: {_digits(e)}") from None


def _digits(error: ValueError) -> str:
    found = re.search(r"value has (\d+) digits", str(error))
    return (f"an integer of {found.group(1)} digits (at most {sys.get_int_max_str_digits()})"
            if found else str(error).splitlines()[0][:80])


# a parsed file takes this many bytes of memory per byte of text, at most (lists of floats)
PARSED_BYTES_PER_BYTE = 48


def load_netlist(path: str | os.PathLike) -> Netlist:
    """Read a netlist from a ``.json`` or ``.toml`` file (checked; ``NetlistError``)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".toml"):
        raise NetlistError(source, "", f"unsupported file type {suffix or '(none)'!r} "
                                       f"(expected .json or .toml)")
    try:
        size = Path(path).stat().st_size
        problem = over_budget(size * PARSED_BYTES_PER_BYTE, f"the file ({format_bytes(size)})")
        if problem:
            raise NetlistError(source, "", problem)
        raw = Path(path).read_bytes()
    except OSError as e:
        raise NetlistError(source, "", f"cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NetlistError(source, "", f"not UTF-8 text (byte {e.start})") from None
    data = _parse_text(text, suffix, source)
    _check_depth(data, source)
    return netlist_from_dict(data, source)
