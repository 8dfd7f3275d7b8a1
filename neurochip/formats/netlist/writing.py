"""Writing a netlist: ``netlist_to_dict`` (the inverse of ``netlist_from_dict``) and
``save_netlist`` (JSON, never over an existing file unless ``overwrite=True``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .parsing import netlist_from_dict
from .schema import (FORMAT, VERSION, Connectivity, DcInput, DenseConnectivity,
                     FixedProbability, Input, ListConnectivity, Netlist, Normal, PoissonInput,
                     SpikeInput, StepInput, Uniform)


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
