r"""The native netlist: a float network in physical units, read from JSON or TOML.

A netlist says *what* network to run, in SI units (seconds, volts, amperes, farads,
siemens, hertz): populations of neurons of a firmware model with their parameters,
projections between populations (explicit synapse lists, dense matrices or seeded random
rules), inputs (spike times, seeded Poisson trains, DC and step currents) and probes.
The schema is documented field by field in ``docs/netlist.md``; ``examples/balanced.json``
and ``examples/balanced.toml`` are the same complete example.

* ``load_netlist(path)`` reads a ``.json`` or ``.toml`` file; ``netlist_from_dict``
  checks an already parsed mapping; ``save_netlist`` writes JSON (never over an existing
  file unless ``overwrite=True``); ``netlist_to_dict`` is the inverse of
  ``netlist_from_dict``.
* Every problem raises ``NetlistError`` (a ``ValueError``) with one line,
  ``"{file}: {field.path}: {problem} (got {value!r})"``. Nothing is ever fixed silently:
  no clipping, no rounding of sizes, no dropping of out-of-range events.
* ``expand(netlist)`` turns every rule into explicit arrays (``ExpandedNetwork``):
  global neuron indices, one ``LifPhysical`` with per-neuron arrays, synapses
  ``(pre, post, weight A, delay s)``, input spike events ``(tick, neuron, weight A)``,
  piecewise-constant input currents and probe index ranges. It is deterministic: every
  random rule draws from its own ``numpy.random.default_rng``.

Time on the tick grid (``dt``): tick ``k`` covers ``[k dt, (k + 1) dt)``; an event at
time ``t`` belongs to tick ``floor(t / dt + 1e-9)`` (a time within ``1e-9`` of a tick of
a grid point counts as on it, so ``0.003 / 0.001`` is tick 3, not 2).
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import numpy as np

from firmware_models.lif.reference import NUMERIC_FIELDS, RESET_MODES, LifPhysical

FORMAT = "neurochip-netlist"
VERSION = 1
MODELS = ("lif",)
LIF_PARAMS = (*NUMERIC_FIELDS, "reset")
RECORDABLE = ("spikes", "v", "i", "theta")
TICK_TOLERANCE = 1e-9   # in ticks: how close to a grid point a time counts as on it
MAX_COUNT = 2**31 - 1   # largest population size, run length in ticks, Poisson fan-in
MAX_EVENTS_PER_TICK = 1e6  # largest mean Poisson events per tick and neuron
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_INDEX_KEY = re.compile(r"(0|[1-9][0-9]*)\Z")
_ROW_CHUNK = 1 << 22    # random draws per chunk when expanding large rules
SPARSE_FRACTION = 0.125  # random rules at most this dense draw only their synapses

_DEFAULTS = {f: getattr(LifPhysical, f) for f in LIF_PARAMS}
# (test on a float, what the value must be) for the parameters that have a domain
_PARAM_DOMAIN = {
    "C": (lambda x: x > 0, "must be positive (farads)"),
    "g_L": (lambda x: x > 0, "must be positive (siemens)"),
    "T_ref": (lambda x: x >= 0, "must be >= 0 (seconds)"),
    "tau_syn": (lambda x: x > 0, "must be positive (seconds)"),
    "tau_theta": (lambda x: x > 0, "must be positive (seconds)"),
    "alpha": (lambda x: x >= 0, "must be >= 0 (volts)"),
    "sigma": (lambda x: x >= 0, "must be >= 0 (V/sqrt(s))"),
}


# ====================================================================== the error
_NO_VALUE = object()


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class NetlistError(ValueError):
    """A netlist refused: ``"{source}: {path}: {problem} (got {value!r})"``, one line.

    ``source`` is the file (or ``"<dict>"``), ``path`` the field (``"populations.exc.size"``,
    ``"projections[2].post"``; empty for problems of the whole file), ``problem`` what is
    wrong and ``value`` the offending value (absent when the problem names it itself).
    """

    def __init__(self, source: str, path: str, problem: str, value: Any = _NO_VALUE):
        self.source, self.path, self.problem = str(source), path, problem
        self.value = None if value is _NO_VALUE else value
        message = f"{self.source}: {path}: {problem}" if path else f"{self.source}: {problem}"
        if value is not _NO_VALUE:
            message += f" (got {_short(value)})"
        super().__init__(message.replace("\n", " "))


class _Path:
    """Where a value sits in the file, for messages: ``populations.exc.params.C[3]``."""

    __slots__ = ("source", "text")

    def __init__(self, source: str, text: str = ""):
        self.source, self.text = source, text

    def key(self, key: str) -> _Path:
        if _NAME.match(key):
            return _Path(self.source, f"{self.text}.{key}" if self.text else key)
        return _Path(self.source, f"{self.text}[{key!r}]")

    def at(self, index: int) -> _Path:
        return _Path(self.source, f"{self.text}[{index}]")

    def fail(self, problem: str, value: Any = _NO_VALUE) -> NoReturn:
        raise NetlistError(self.source, self.text, problem, value)


# ====================================================================== the model
Values = float | tuple[float, ...]          # a scalar, or one value per neuron/synapse


@dataclass(frozen=True)
class Normal:
    """Weights drawn from a normal distribution (A); draws are not clipped."""

    mean: float
    std: float


@dataclass(frozen=True)
class Uniform:
    """Weights drawn uniformly from ``[low, high)`` (A)."""

    low: float
    high: float


Weight = float | Normal | Uniform


@dataclass(frozen=True)
class Population:
    """``size`` neurons of firmware ``model``; ``params`` has every parameter of the model
    (omitted ones take their default when loaded), each a scalar or a tuple of ``size``."""

    name: str
    size: int
    params: Mapping[str, Any] = field(default_factory=dict)
    model: str = "lif"

    def physical(self) -> LifPhysical:
        """The population's ``LifPhysical`` with every numeric field of length ``size``."""
        values = {}
        for key, value in {**_DEFAULTS, **self.params}.items():
            if isinstance(value, (tuple, list)):
                value = list(value) if key == "reset" else np.asarray(value, dtype=float)
            values[key] = value
        return LifPhysical(**values).broadcast(self.size)


class Connectivity:
    """Base of the four connectivity forms of a projection."""

    type: ClassVar[str]


@dataclass(frozen=True)
class ListConnectivity(Connectivity):
    """Explicit synapses ``pre[s] -> post[s]`` (indices within the populations)."""

    type: ClassVar[str] = "list"
    pre: tuple[int, ...]
    post: tuple[int, ...]
    weight: Values


@dataclass(frozen=True)
class DenseConnectivity(Connectivity):
    """``weights[i][j]``: pre neuron ``i`` onto post neuron ``j`` (pre × post, the
    transpose of NIR's (out, in)); a zero entry is no synapse."""

    type: ClassVar[str] = "dense"
    weights: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class FixedProbability(Connectivity):
    """Every (pre, post) pair independently with probability ``p``."""

    type: ClassVar[str] = "fixed_probability"
    p: float
    weight: Weight
    seed: int | None = None
    self_connections: bool = True


@dataclass(frozen=True)
class FixedFanIn(Connectivity):
    """Every post neuron gets exactly ``n`` distinct pre neurons, chosen uniformly."""

    type: ClassVar[str] = "fixed_fan_in"
    n: int
    weight: Weight
    seed: int | None = None
    self_connections: bool = True


@dataclass(frozen=True)
class Projection:
    """Synapses from population ``pre`` to ``post``; ``delay`` (s) is a scalar, a tuple per
    synapse (list connectivity) or a pre × post matrix (dense connectivity); ``None``
    (only when built in Python) is one tick, ``dt``, which loading writes explicitly."""

    pre: str
    post: str
    connectivity: Connectivity
    delay: float | tuple | None = None


class Input:
    """Base of the four input kinds; ``target`` is a population name."""

    kind: ClassVar[str]
    target: str


@dataclass(frozen=True)
class SpikeInput(Input):
    """Explicit spike times (s) per neuron index of ``target``, each a jump of ``weight`` A."""

    kind: ClassVar[str] = "spikes"
    target: str
    weight: float
    times: Mapping[int, tuple[float, ...]]


@dataclass(frozen=True)
class PoissonInput(Input):
    """``fan_in`` independent Poisson trains of ``rate`` Hz onto each targeted neuron,
    each spike a jump of ``weight`` A, within ``[start, stop)`` (``stop`` None: the end)."""

    kind: ClassVar[str] = "poisson"
    target: str
    rate: Values
    weight: Values
    seed: int | None = None
    fan_in: int = 1
    neurons: tuple[int, ...] | None = None
    start: float = 0.0
    stop: float | None = None


@dataclass(frozen=True)
class DcInput(Input):
    """A constant current (A) into the targeted neurons for the whole run."""

    kind: ClassVar[str] = "dc"
    target: str
    amplitude: Values
    neurons: tuple[int, ...] | None = None


@dataclass(frozen=True)
class StepInput(Input):
    """A piecewise-constant current: ``amplitudes[s]`` (A) from ``times[s]`` (s) on; 0
    before ``times[0]``."""

    kind: ClassVar[str] = "step"
    target: str
    times: tuple[float, ...]
    amplitudes: tuple[float, ...]
    neurons: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Probe:
    """Record ``record`` (a subset of ``RECORDABLE``) of every neuron of ``population``."""

    population: str
    record: tuple[str, ...]


@dataclass(frozen=True)
class Netlist:
    """A whole float network: tick ``dt`` (s), run ``duration`` (s), ``seed``, and the
    populations (in file order: that order fixes the global neuron indices), projections,
    inputs and probes."""

    dt: float
    duration: float
    populations: tuple[Population, ...]
    projections: tuple[Projection, ...] = ()
    inputs: tuple[Input, ...] = ()
    probes: tuple[Probe, ...] = ()
    seed: int = 0

    @property
    def ticks(self) -> int:
        return round(self.duration / self.dt)

    @property
    def n(self) -> int:
        return sum(p.size for p in self.populations)

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)


# ====================================================================== parsing helpers
def _object(value, path: _Path, required: tuple[str, ...], optional: tuple[str, ...] = (),
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


def _is_number(value) -> bool:
    return type(value) in (int, float)


def _number(value, path: _Path, what: str = "must be a number") -> float:
    if not _is_number(value):
        path.fail(what, value)
    if not math.isfinite(value):
        path.fail("must be finite", value)
    return float(value)


def _positive(value, path: _Path, unit: str) -> float:
    x = _number(value, path, f"must be a positive number of {unit}")
    if not x > 0:
        path.fail(f"must be a positive number of {unit}", value)
    return x


def _nonnegative(value, path: _Path, unit: str) -> float:
    x = _number(value, path, f"must be a number of {unit} >= 0")
    if not x >= 0:
        path.fail(f"must be a number of {unit} >= 0", value)
    return x


def _integer(value, path: _Path, minimum: int, what: str, maximum: int | None = None) -> int:
    if type(value) is not int or value < minimum:
        path.fail(f"must be {what}", value)
    if maximum is not None and value > maximum:
        path.fail(f"must be at most {maximum}", value)
    return value


def _seed(value, path: _Path) -> int:
    return _integer(value, path, 0, "a non-negative integer")


def _bool(value, path: _Path) -> bool:
    if type(value) is not bool:
        path.fail("must be true or false", value)
    return value


def _string(value, path: _Path, what: str = "must be a string") -> str:
    if not isinstance(value, str):
        path.fail(what, value)
    return value


def _list(value, path: _Path, what: str = "must be a list") -> list:
    if not isinstance(value, list):
        path.fail(what, value)
    return value


def _length(items: list, path: _Path, expected: int, why: str) -> None:
    if len(items) != expected:
        path.fail(f"list of length {len(items)}, expected {expected} ({why})")


def _index(value, path: _Path, size: int, pop: str) -> int:
    if type(value) is not int or not 0 <= value < size:
        path.fail(f"must be a neuron index in 0..{size - 1} ({pop} has {size} neurons)", value)
    return value


def _time_in_run(value, path: _Path, dt: float, duration: float) -> float:
    """A time in ``[0, duration)`` whose tick is inside the run."""
    what = f"must be a time in [0, duration = {duration!r}) s"
    t = _number(value, path, what)
    if not (0 <= t < duration and _tick(t, dt) < round(duration / dt)):
        path.fail(what, value)
    return t


def _values(value, path: _Path, length: int, why: str, check=None) -> Values:
    """A number or a list of ``length`` numbers; ``check = (test, problem)`` per value."""
    test, problem = check if check else (lambda x: True, "")
    if isinstance(value, list):
        _length(value, path, length, why)
        out = tuple(_number(v, path.at(j)) for j, v in enumerate(value))
        for j, x in enumerate(out):
            if not test(x):
                path.at(j).fail(problem, value[j])
        return out
    x = _number(value, path, f"must be a number or a list of {length} numbers")
    if not test(x):
        path.fail(problem, value)
    return x


# ====================================================================== sections
@dataclass
class _Context:
    source: str
    dt: float
    duration: float
    sizes: dict[str, int]

    def population(self, value, path: _Path) -> str:
        name = _string(value, path, "must be a population name")
        if name not in self.sizes:
            path.fail(f"unknown population {name!r} (known: {', '.join(self.sizes)})")
        return name

    def delay_check(self):
        dt = self.dt
        return (lambda x: x >= dt * (1 - TICK_TOLERANCE),
                f"must be a number of seconds >= dt = {dt!r} (one tick)")


def _population(name: str, value, path: _Path) -> Population:
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
            params[key] = _DEFAULTS[key]
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
            params[key] = _values(value, kpath, size, why, _PARAM_DOMAIN.get(key))
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


def _weight(value, path: _Path) -> Weight:
    what = "must be a number (A), {mean, std} or {low, high}"
    if isinstance(value, dict):
        if "mean" in value or "std" in value:
            obj = _object(value, path, ("mean", "std"))
            std = _nonnegative(obj["std"], path.key("std"), "amperes")
            return Normal(_number(obj["mean"], path.key("mean")), std)
        if "low" in value or "high" in value:
            obj = _object(value, path, ("low", "high"))
            low = _number(obj["low"], path.key("low"))
            high = _number(obj["high"], path.key("high"))
            if not low <= high:
                path.key("high").fail(f"must be >= low ({low!r})", obj["high"])
            return Uniform(low, high)
        path.fail(what, value)
    return _number(value, path, what)


def _connectivity(value, path: _Path, n_pre: int, n_post: int, pre: str, post: str
                  ) -> Connectivity:
    if not isinstance(value, dict):
        path.fail("must be an object", value)
    kinds = ("list", "dense", "fixed_probability", "fixed_fan_in")
    if "type" not in value:
        path.key("type").fail("missing required key")
    kind = value["type"]
    if kind not in kinds or not isinstance(kind, str):
        path.key("type").fail(f"unknown connectivity (known: {', '.join(kinds)})", kind)
    if kind == "list":
        obj = _object(value, path, ("type", "pre", "post", "weight"))
        pre_list = _list(obj["pre"], path.key("pre"))
        idx_pre = tuple(_index(v, path.key("pre").at(j), n_pre, pre)
                        for j, v in enumerate(pre_list))
        post_list = _list(obj["post"], path.key("post"))
        _length(post_list, path.key("post"), len(pre_list), "length of pre")
        idx_post = tuple(_index(v, path.key("post").at(j), n_post, post)
                         for j, v in enumerate(post_list))
        weight = _values(obj["weight"], path.key("weight"), len(pre_list), "length of pre")
        return ListConnectivity(idx_pre, idx_post, weight)
    if kind == "dense":
        obj = _object(value, path, ("type", "weights"))
        return DenseConnectivity(_matrix(obj["weights"], path.key("weights"), n_pre, n_post,
                                         pre, post, None))
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


def _matrix(value, path: _Path, n_pre: int, n_post: int, pre: str, post: str, check
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
                    rpath.at(j).fail(problem, row[j])
    return tuple(out)


def _projection(value, path: _Path, ctx: _Context) -> Projection:
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
        what = (f"{problem} or a list of them" if isinstance(
            conn, (ListConnectivity, DenseConnectivity)) else problem)
        delay = _number(raw, dpath, what)
        if not test(delay):
            dpath.fail(problem, raw)
    return Projection(pre, post, conn, delay)


def _neurons(obj: dict, path: _Path, size: int, pop: str) -> tuple[int, ...] | None:
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


def _input(value, path: _Path, ctx: _Context) -> Input:
    kinds = ("spikes", "poisson", "dc", "step")
    if not isinstance(value, dict):
        path.fail("must be an object", value)
    if "kind" not in value:
        path.key("kind").fail("missing required key")
    kind = value["kind"]
    if kind not in kinds or not isinstance(kind, str):
        path.key("kind").fail(f"unknown input kind (known: {', '.join(kinds)})", kind)
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
        weight = _number(obj["weight"], path.key("weight"), "must be a number (A)")
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
    neurons = _neurons(obj, path, size, target)
    count = size if neurons is None else len(neurons)
    why = f"size of {target}" if neurons is None else "length of neurons"
    if kind == "poisson":
        rate = _values(obj["rate"], path.key("rate"), count, why,
                       (lambda x: x >= 0, "must be >= 0 (Hz)"))
        weight = _values(obj["weight"], path.key("weight"), count, why)
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
    if kind == "dc":
        amplitude = _values(obj["amplitude"], path.key("amplitude"), count, why)
        return DcInput(target, amplitude, neurons)
    tpath, apath = path.key("times"), path.key("amplitudes")
    times_list = _list(obj["times"], tpath, "must be a list of times (s)")
    if not times_list:
        tpath.fail("must list at least one step")
    step_times = tuple(_time_in_run(t, tpath.at(j), ctx.dt, ctx.duration)
                       for j, t in enumerate(times_list))
    for j in range(1, len(step_times)):
        a, b = _tick(step_times[j - 1], ctx.dt), _tick(step_times[j], ctx.dt)
        if b <= a:
            tpath.at(j).fail(f"must fall in a later tick than times[{j - 1}] (tick {a}); "
                             f"steps are increasing and at least one tick apart",
                             times_list[j])
    amps = _list(obj["amplitudes"], apath, "must be a list of currents (A)")
    _length(amps, apath, len(step_times), "length of times")
    amplitudes = tuple(_number(a, apath.at(j), "must be a number (A)")
                       for j, a in enumerate(amps))
    return StepInput(target, step_times, amplitudes, neurons)


def _probe(value, path: _Path, ctx: _Context) -> Probe:
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


def _tick(t: float, dt: float) -> int:
    return math.floor(t / dt + TICK_TOLERANCE)


def netlist_from_dict(data, source: str = "<dict>") -> Netlist:
    """Check a parsed netlist (JSON object / TOML table) and build the ``Netlist``.

    Raises ``NetlistError`` naming ``source``, the field path and the offending value at
    the first problem.
    """
    source = str(source)
    root = _Path(source)
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
        if not isinstance(name, str) or not _NAME.match(name):
            ppath.fail("population names must be letters, digits, '_' and '-', starting "
                       "with a letter or '_'", name)
        populations.append(_population(name, value, ppath.key(name)))
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
    return Netlist(dt, duration, tuple(populations), projections, inputs, probes, seed)


# ====================================================================== files
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
            raise NetlistError(source, "", "invalid JSON: nested too deeply") from None
    try:
        return tomllib.loads(text)
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


def load_netlist(path: str | os.PathLike) -> Netlist:
    """Read a netlist from a ``.json`` or ``.toml`` file (checked; ``NetlistError``)."""
    source = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".toml"):
        raise NetlistError(source, "", f"unsupported file type {suffix or '(none)'!r} "
                                       f"(expected .json or .toml)")
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise NetlistError(source, "", f"cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NetlistError(source, "", f"not UTF-8 text (byte {e.start})") from None
    return netlist_from_dict(_parse_text(text, suffix, source), source)


def _plain(value):
    """A JSON value from tuples, numpy scalars / arrays and mappings."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _weight_dict(weight):
    if isinstance(weight, Normal):
        return {"mean": weight.mean, "std": weight.std}
    if isinstance(weight, Uniform):
        return {"low": weight.low, "high": weight.high}
    return weight


def _connectivity_dict(c: Connectivity) -> dict:
    if isinstance(c, ListConnectivity):
        return {"type": "list", "pre": c.pre, "post": c.post, "weight": c.weight}
    if isinstance(c, DenseConnectivity):
        return {"type": "dense", "weights": c.weights}
    rule = {"p": c.p} if isinstance(c, FixedProbability) else {"n": c.n}
    out = {"type": c.type, **rule, "weight": _weight_dict(c.weight)}
    if c.seed is not None:
        out["seed"] = c.seed
    out["self_connections"] = c.self_connections
    return out


def _input_dict(i: Input) -> dict:
    out: dict[str, Any] = {"kind": i.kind, "target": i.target}
    if isinstance(i, SpikeInput):
        out.update(weight=i.weight, times={str(k): v for k, v in i.times.items()})
    elif isinstance(i, PoissonInput):
        out.update(rate=i.rate, weight=i.weight)
        if i.seed is not None:
            out["seed"] = i.seed
        out.update(fan_in=i.fan_in, start=i.start)
        if i.stop is not None:
            out["stop"] = i.stop
    elif isinstance(i, DcInput):
        out["amplitude"] = i.amplitude
    elif isinstance(i, StepInput):
        out.update(times=i.times, amplitudes=i.amplitudes)
    else:
        raise TypeError(f"not a netlist input: {i!r}")
    if getattr(i, "neurons", None) is not None:
        out["neurons"] = i.neurons
    return out


def netlist_to_dict(netlist: Netlist) -> dict:
    """The JSON/TOML mapping of ``netlist`` (``netlist_from_dict`` reads it back equal)."""
    data = {
        "format": FORMAT, "version": VERSION, "dt": netlist.dt,
        "duration": netlist.duration, "seed": netlist.seed,
        "populations": {p.name: {"model": p.model, "size": p.size, "params": dict(p.params)}
                        for p in netlist.populations},
        "projections": [{"pre": pr.pre, "post": pr.post,
                         **({} if pr.delay is None else {"delay": pr.delay}),
                         "connectivity": _connectivity_dict(pr.connectivity)}
                        for pr in netlist.projections],
        "inputs": [_input_dict(i) for i in netlist.inputs],
        "probes": [{"population": p.population, "record": p.record} for p in netlist.probes],
    }
    return _plain(data)


def save_netlist(netlist: Netlist, path: str | os.PathLike, *, overwrite: bool = False
                 ) -> Path:
    """Write ``netlist`` as JSON to ``path`` (a ``.json`` file) and return the path.

    The netlist is checked first (``NetlistError``); an existing file is refused with
    ``FileExistsError`` unless ``overwrite=True``.
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        raise ValueError(f"{path}: save_netlist writes JSON; use a .json file name")
    data = netlist_to_dict(netlist)
    netlist_from_dict(data, str(path))          # refuse to write what could not be read
    text = json.dumps(data, indent=2, allow_nan=False) + "\n"
    try:
        with open(path, "w" if overwrite else "x", encoding="utf-8") as f:
            f.write(text)
    except FileExistsError:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it"
                              ) from None
    return path


# ====================================================================== expansion
@dataclass(frozen=True, eq=False)
class CurrentSource:
    """A piecewise-constant current: ``amplitudes[s]`` (A, one per neuron of ``neurons``)
    from tick ``start_ticks[s]`` until the next step (or the end of the run)."""

    input: int                 # index of the input in ``Netlist.inputs``
    neurons: np.ndarray        # global indices
    start_ticks: np.ndarray    # (steps,) increasing
    amplitudes: np.ndarray     # (steps, len(neurons)) amperes


@dataclass(frozen=True)
class ProbeRange:
    """A probe as a global index range ``start:stop``."""

    population: str
    start: int
    stop: int
    record: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ExpandedNetwork:
    """A netlist with every rule drawn: explicit arrays, global neuron indices.

    Population ``p`` holds neurons ``offsets[p] : offsets[p] + size`` (file order).
    Synapses are in projection order (``projection`` says which), within a projection in
    the order documented for its connectivity. Input spike events are sorted by
    ``(tick, neuron)``, stably in input order. Weights are current jumps (A), delays
    seconds.
    """

    dt: float
    ticks: int
    seed: int
    names: tuple[str, ...]
    offsets: dict[str, int]
    sizes: dict[str, int]
    params: LifPhysical
    pre: np.ndarray              # int64 global index
    post: np.ndarray             # int64 global index
    weight: np.ndarray           # float64 A
    delay: np.ndarray            # float64 s
    projection: np.ndarray       # int64: index into Netlist.projections
    event_tick: np.ndarray       # int64
    event_neuron: np.ndarray     # int64 global index
    event_weight: np.ndarray     # float64 A
    event_input: np.ndarray      # int64: index into Netlist.inputs
    currents: tuple[CurrentSource, ...]
    probes: tuple[ProbeRange, ...]

    @property
    def n(self) -> int:
        return sum(self.sizes.values())

    def slice(self, population: str) -> slice:
        start = self.offsets[population]
        return slice(start, start + self.sizes[population])

    def delay_ticks(self) -> np.ndarray:
        """Synaptic delays in ticks, ``round(delay / dt)`` (>= 1 by validation): a spike
        decided in tick ``k`` reaches the post neuron's current in tick ``k + d``."""
        return np.rint(self.delay / self.dt).astype(np.int64)

    def input_jumps(self) -> np.ndarray:
        """``(ticks, n)`` sum of input event weights per tick and neuron (A): the
        ``syn_input`` of ``firmware_models.lif.reference.simulate``."""
        out = np.zeros((self.ticks, self.n))
        np.add.at(out, (self.event_tick, self.event_neuron), self.event_weight)
        return out

    def current(self) -> np.ndarray:
        """``(ticks, n)`` external current of dc and step inputs (A), held over each tick:
        the ``I_ext`` of ``simulate``. Currents of several inputs onto a neuron add."""
        out = np.zeros((self.ticks, self.n))
        for src in self.currents:
            bounds = [*src.start_ticks.tolist(), self.ticks]
            for s in range(len(src.start_ticks)):
                out[bounds[s]:bounds[s + 1], src.neurons] += src.amplitudes[s]
        return out


def _rng(seed: int | None, netlist_seed: int, section: int, index: int):
    """A rule's generator: its own seed, else one derived from the netlist's seed."""
    if seed is not None:
        return np.random.default_rng(seed)
    return np.random.default_rng([netlist_seed, section, index])


def _draw_weights(weight: Weight, count: int, rng) -> np.ndarray:
    if isinstance(weight, Normal):
        return rng.normal(weight.mean, weight.std, count)
    if isinstance(weight, Uniform):
        return rng.uniform(weight.low, weight.high, count)
    return np.full(count, float(weight))


def _distinct_per_row(rng, row: np.ndarray, m: int, exclude_self: bool) -> np.ndarray:
    """For each entry of ``row`` (sorted) a value in ``0..m-1``, distinct within a row and,
    with ``exclude_self``, never equal to the row itself; returned sorted within each row.

    Every entry is drawn uniformly (``integers``), then the entries that repeat an earlier
    entry of their row are drawn again until none does. The rule treats all values alike,
    so each row's set is a uniform random subset of its size.
    """
    def draw(rows):
        values = rng.integers(0, m - exclude_self, size=rows.size)
        return values + (values >= rows) if exclude_self else values

    values = draw(row)
    check = None                                   # None: every entry
    while True:
        keys = row * m + values if check is None else row[check] * m + values[check]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        repeats = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1]) + 1
        if not repeats.size:
            break
        again = order[repeats] if check is None else check[order[repeats]]
        values[again] = draw(row[again])
        bad = np.unique(row[again])                # re-check only the rows redrawn
        lo, hi = np.searchsorted(row, bad, "left"), np.searchsorted(row, bad, "right")
        lengths = hi - lo
        check = np.arange(lengths.sum()) + np.repeat(lo - np.cumsum(lengths) + lengths,
                                                     lengths)
    return np.sort(row * m + values) - row * m     # rows are sorted: sort within each row


def _synapses(proj: Projection, index: int, n_pre: int, n_post: int, seed: int):
    """Local (pre, post, weight, delay) of one projection."""
    c = proj.connectivity
    same = proj.pre == proj.post
    if isinstance(c, ListConnectivity):
        pre = np.array(c.pre, dtype=np.int64)
        post = np.array(c.post, dtype=np.int64)
        weight = np.broadcast_to(np.asarray(c.weight, dtype=float), pre.shape).copy()
        delay = np.broadcast_to(np.asarray(proj.delay, dtype=float), pre.shape).copy()
        return pre, post, weight, delay
    if isinstance(c, DenseConnectivity):
        w = np.array(c.weights, dtype=float).reshape(n_pre, n_post)
        pre, post = np.nonzero(w)
        d = np.broadcast_to(np.asarray(proj.delay, dtype=float), w.shape)
        return pre.astype(np.int64), post.astype(np.int64), w[pre, post], d[pre, post].copy()
    rng = _rng(c.seed, seed, 0, index)
    exclude = same and not c.self_connections
    pres, posts = [], []
    if isinstance(c, FixedProbability):
        others = n_post - exclude                  # candidates per pre neuron
        if c.p <= SPARSE_FRACTION:
            # a Bernoulli(p) choice of each pair = a Binomial(others, p) count per pre
            # neuron, then that many distinct post neurons uniformly
            counts = rng.binomial(others, c.p, size=n_pre)
            pre = np.repeat(np.arange(n_pre, dtype=np.int64), counts)
            post = _distinct_per_row(rng, pre, n_post, exclude)
            pres.append(pre)
            posts.append(post)
        else:
            rows = max(1, _ROW_CHUNK // max(1, n_post))
            for i0 in range(0, n_pre, rows):
                i1 = min(n_pre, i0 + rows)
                mask = rng.random((i1 - i0, n_post)) < c.p
                if exclude:
                    i = np.arange(i0, i1)
                    mask[i - i0, i] = False
                a, b = np.nonzero(mask)
                pres.append(a + i0)
                posts.append(b)
    else:
        others = n_pre - exclude                   # candidates per post neuron
        if c.n <= SPARSE_FRACTION * others:
            post = np.repeat(np.arange(n_post, dtype=np.int64), c.n)
            pres.append(_distinct_per_row(rng, post, n_pre, exclude))
            posts.append(post)
        else:
            rows = max(1, _ROW_CHUNK // max(1, n_pre))
            for j0 in range(0, n_post, rows):
                j1 = min(n_post, j0 + rows)
                keys = rng.random((j1 - j0, n_pre))
                if exclude:
                    j = np.arange(j0, j1)
                    keys[j - j0, j] = 2.0                 # never among the n smallest
                chosen = np.sort(np.argpartition(keys, c.n - 1, axis=1)[:, :c.n], axis=1)
                pres.append(chosen.ravel())
                posts.append(np.repeat(np.arange(j0, j1), c.n))
    pre = np.concatenate(pres).astype(np.int64) if pres else np.zeros(0, np.int64)
    post = np.concatenate(posts).astype(np.int64) if posts else np.zeros(0, np.int64)
    weight = _draw_weights(c.weight, pre.size, rng)
    delay = np.full(pre.size, float(proj.delay))
    return pre, post, weight, delay


def _poisson_events(inp: PoissonInput, index: int, netlist: Netlist, ticks: int):
    rng = _rng(inp.seed, netlist.seed, 1, index)
    targets = np.arange(netlist.population(inp.target).size) if inp.neurons is None else \
        np.array(inp.neurons, dtype=np.int64)
    t0 = _tick(inp.start, netlist.dt)
    t1 = ticks if inp.stop is None else min(ticks, _tick(inp.stop, netlist.dt))
    lam = np.broadcast_to(np.asarray(inp.rate, dtype=float) * inp.fan_in * netlist.dt,
                          targets.shape)
    weight = np.broadcast_to(np.asarray(inp.weight, dtype=float), targets.shape)
    rows = max(1, _ROW_CHUNK // max(1, targets.size))
    out_t, out_j, out_w = [], [], []
    for k0 in range(t0, t1, rows):
        k1 = min(t1, k0 + rows)
        counts = rng.poisson(lam, size=(k1 - k0, targets.size))
        k, j = np.nonzero(counts)
        reps = counts[k, j]
        out_t.append(np.repeat(k + k0, reps))
        out_j.append(np.repeat(targets[j], reps))
        out_w.append(np.repeat(weight[j], reps))
    if not out_t:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_t), np.concatenate(out_j), np.concatenate(out_w)


def expand(netlist: Netlist) -> ExpandedNetwork:
    """Draw every rule of ``netlist`` (checked first) into explicit arrays.

    Deterministic: a rule with a ``seed`` draws from ``numpy.random.default_rng(seed)``,
    one without from ``default_rng([netlist.seed, section, index])`` (section 0 for
    projections, 1 for inputs; ``index`` its position in its list).
    """
    netlist = netlist_from_dict(netlist_to_dict(netlist), "<netlist>")
    dt, ticks = netlist.dt, netlist.ticks
    names = tuple(p.name for p in netlist.populations)
    sizes = {p.name: p.size for p in netlist.populations}
    offsets, total = {}, 0
    for p in netlist.populations:
        offsets[p.name] = total
        total += p.size

    physical = [p.physical() for p in netlist.populations]
    values = {f: np.concatenate([getattr(q, f) for q in physical]) for f in NUMERIC_FIELDS}
    resets = [q.reset for q in physical]
    if all(isinstance(r, str) for r in resets) and len(set(resets)) == 1:
        reset: Any = resets[0]
    else:
        reset = np.concatenate([np.broadcast_to(np.asarray(r), (p.size,))
                                for r, p in zip(resets, netlist.populations)])
    params = LifPhysical(**values, reset=reset)

    parts = []
    for index, proj in enumerate(netlist.projections):
        pre, post, weight, delay = _synapses(proj, index, sizes[proj.pre], sizes[proj.post],
                                             netlist.seed)
        parts.append((pre + offsets[proj.pre], post + offsets[proj.post], weight, delay,
                      np.full(pre.size, index, dtype=np.int64)))

    def cat(i, dtype):
        if not parts:
            return np.zeros(0, dtype=dtype)
        if len(parts) == 1:
            return np.ascontiguousarray(parts[0][i], dtype=dtype)
        return np.concatenate([p[i] for p in parts]).astype(dtype, copy=False)

    events = []
    currents = []
    for index, inp in enumerate(netlist.inputs):
        base = offsets[inp.target]
        if isinstance(inp, SpikeInput):
            t = [_tick(x, dt) for j in sorted(inp.times) for x in inp.times[j]]
            j = [jj for jj in sorted(inp.times) for _ in inp.times[jj]]
            t_arr = np.array(t, dtype=np.int64)
            events.append((t_arr, np.array(j, dtype=np.int64) + base,
                           np.full(t_arr.size, inp.weight), index))
        elif isinstance(inp, PoissonInput):
            t_arr, j_arr, w_arr = _poisson_events(inp, index, netlist, ticks)
            events.append((t_arr, j_arr + base, w_arr, index))
        else:
            local = (np.arange(sizes[inp.target]) if inp.neurons is None
                     else np.array(inp.neurons, dtype=np.int64))
            if isinstance(inp, DcInput):
                starts = np.zeros(1, dtype=np.int64)
                amps = np.broadcast_to(np.asarray(inp.amplitude, dtype=float),
                                       (1, local.size)).copy()
            else:
                starts = np.array([_tick(x, dt) for x in inp.times], dtype=np.int64)
                amps = np.repeat(np.asarray(inp.amplitudes, dtype=float)[:, None],
                                 local.size, axis=1)
            currents.append(CurrentSource(index, local + base, starts, amps))
    if events:
        ev_t = np.concatenate([e[0] for e in events]).astype(np.int64)
        ev_j = np.concatenate([e[1] for e in events]).astype(np.int64)
        ev_w = np.concatenate([e[2] for e in events]).astype(float)
        ev_i = np.concatenate([np.full(e[0].size, e[3], dtype=np.int64) for e in events])
        order = np.lexsort((ev_j, ev_t))
        ev_t, ev_j, ev_w, ev_i = ev_t[order], ev_j[order], ev_w[order], ev_i[order]
    else:
        ev_t = ev_j = ev_i = np.zeros(0, dtype=np.int64)
        ev_w = np.zeros(0)

    probes = tuple(ProbeRange(p.population, offsets[p.population],
                              offsets[p.population] + sizes[p.population], p.record)
                   for p in netlist.probes)
    return ExpandedNetwork(dt, ticks, netlist.seed, names, offsets, sizes, params,
                           cat(0, np.int64), cat(1, np.int64), cat(2, float), cat(3, float),
                           cat(4, np.int64), ev_t, ev_j, ev_w, ev_i, tuple(currents), probes)


__all__ = ["Connectivity", "CurrentSource", "DcInput", "DenseConnectivity", "ExpandedNetwork",
           "FixedFanIn", "FixedProbability", "Input", "ListConnectivity", "Netlist",
           "NetlistError", "Normal", "PoissonInput", "Population", "Probe", "ProbeRange",
           "Projection", "SpikeInput", "StepInput", "Uniform", "expand", "load_netlist",
           "netlist_from_dict", "netlist_to_dict", "save_netlist"]
