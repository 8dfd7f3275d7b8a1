"""Checkpoints: the complete state of a running ``Core`` or ``Chip`` as one immutable
record, saved to one ``.npz`` file and restored bit for bit (docs/checkpoint.md).

What a tick depends on besides the configuration (parameters, synapse memory, routing
table, spec, LFSR seeds): the tick counter, every state register, the events pending in
the axon buffer with their arrival ticks, the LFSR lanes and the overflow counters. The
timing model keeps nothing between ticks (every tick starts at cycle 0 and its packets
arrive within it), and the compiled backend's event rows are the axon buffer in another
layout, stored back into it after every run, so a ``Checkpoint`` holds exactly these
five things. A run continued from it equals the uninterrupted run on either backend.

A checkpoint carries the fingerprint of the configuration it was taken from, one digest
per part (``FINGERPRINT_PARTS``; the spec as its JSON text, so that a difference is named
field by field); restoring it onto another configuration is refused with one line
naming what differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .spec import SpecError

FORMAT = "neurochip-checkpoint"
VERSION = 1
FINGERPRINT_PARTS = ("kind", "model", "spec", "layout", "params", "synapses", "routes",
                     "lfsr_seeds")


class CheckpointError(SpecError):
    """A checkpoint that cannot be read, or that belongs to another configuration."""


def _frozen(array, dtype) -> np.ndarray:
    array = np.array(array, dtype=dtype, copy=True)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """The complete state of a core or chip at the start of tick ``tick`` (module
    docstring). ``state``: register name -> value per global slot; ``pending_*``: the axon
    buffer as (absolute arrival tick, global axon, event count), sorted by tick then
    axon; ``lfsr``: every slot's LFSR lane (empty when no core has noise); ``overflow``:
    the running overflow count per register; ``fingerprint``: part -> digest of the
    configuration (``FINGERPRINT_PARTS``); ``meta``: free text (what saved it).

    Immutable: arrays are read-only copies, mappings read-only. Two checkpoints are
    ``==`` when every field is equal.
    """

    tick: int
    state: Mapping[str, np.ndarray]
    pending_tick: np.ndarray
    pending_axon: np.ndarray
    pending_count: np.ndarray
    lfsr: np.ndarray
    overflow: Mapping[str, int]
    fingerprint: Mapping[str, str]
    meta: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        put = object.__setattr__
        put(self, "tick", int(self.tick))
        put(self, "state", MappingProxyType({k: _frozen(v, np.int64)
                                             for k, v in self.state.items()}))
        for name in ("pending_tick", "pending_axon", "pending_count"):
            put(self, name, _frozen(getattr(self, name), np.int64))
        put(self, "lfsr", _frozen(self.lfsr, np.uint64))
        put(self, "overflow", MappingProxyType({k: int(v) for k, v in self.overflow.items()}))
        put(self, "fingerprint", MappingProxyType({k: str(v) for k, v in
                                                   self.fingerprint.items()}))
        put(self, "meta", MappingProxyType({k: str(v) for k, v in self.meta.items()}))

    def __reduce__(self):  # mapping proxies do not pickle: rebuild from plain dicts
        values = [getattr(self, f.name) for f in fields(self)]
        return type(self), tuple(dict(v) if isinstance(v, MappingProxyType) else v
                                 for v in values)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Checkpoint):
            return NotImplemented
        return not self.differences(other)

    __hash__ = None  # holds arrays: not hashable

    def differences(self, other: "Checkpoint") -> list[str]:
        """The fields in which two checkpoints differ (empty when they are equal)."""
        return [f.name for f in fields(self)
                if not _same(getattr(self, f.name), getattr(other, f.name))]

    # ------------------------------------------------------------------ file
    def save(self, path, *, overwrite: bool = True) -> None:
        """Write the checkpoint to ``path`` (one ``.npz`` file, written whole or not at
        all: a temporary file in the same folder, then renamed)."""
        path = os.fspath(path)
        if not overwrite and os.path.exists(path):
            raise CheckpointError(f"{path} exists; not overwriting it")
        arrays = {"format": np.array(FORMAT), "version": np.array(VERSION),
                  "tick": np.array(self.tick, np.int64), "pending.tick": self.pending_tick,
                  "pending.axon": self.pending_axon, "pending.count": self.pending_count,
                  "lfsr": self.lfsr,
                  "overflow.names": np.array(list(self.overflow), dtype=str),
                  "overflow.counts": np.array(list(self.overflow.values()), np.int64)}
        arrays.update({f"state.{k}": v for k, v in self.state.items()})
        arrays.update({f"fingerprint.{k}": np.array(v) for k, v in self.fingerprint.items()})
        arrays.update({f"meta.{k}": np.array(v) for k, v in self.meta.items()})
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint-", suffix=".npz")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez_compressed(stream, **arrays)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path) -> "Checkpoint":
        """Read a checkpoint written by ``save``; refuses another file, or a newer format
        version, with one line naming the file."""
        path = os.fspath(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no such checkpoint file") from None
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise CheckpointError(f"{path}: not a neurochip checkpoint ({error})") from None
        if str(arrays.get("format", "")) != FORMAT:
            raise CheckpointError(f"{path}: not a neurochip checkpoint (no format "
                                  f"{FORMAT!r} in it)")
        version = int(arrays.get("version", -1))
        if version != VERSION:
            raise CheckpointError(f"{path}: checkpoint format version {version}; this "
                                  f"neurochip reads version {VERSION}")

        def prefixed(prefix: str) -> dict:
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        try:
            return cls(int(arrays["tick"]), prefixed("state."), arrays["pending.tick"],
                       arrays["pending.axon"], arrays["pending.count"], arrays["lfsr"],
                       dict(zip(arrays["overflow.names"].tolist(),
                                arrays["overflow.counts"].tolist())),
                       {k: str(v) for k, v in prefixed("fingerprint.").items()},
                       {k: str(v) for k, v in prefixed("meta.").items()})
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: damaged checkpoint ({error})") from None


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, Mapping) and any(isinstance(v, np.ndarray) for v in a.values()):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------------- fingerprint
def _digest(*arrays) -> str:
    """sha256 of arrays by value (integers as int64, so the storage type does not count)."""
    hasher = hashlib.sha256()
    for array in arrays:
        if array is None:
            hasher.update(b"none;")
            continue
        array = np.asarray(array)
        if array.dtype.kind in "iub":
            array = array.astype(np.int64)
        hasher.update(f"{array.dtype.str}{array.shape};".encode())
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()


def fingerprint(engine, spec, kind: str) -> dict[str, str]:
    """Digest of every part of the configuration a checkpoint belongs to."""
    params, syn, layout = engine.params, engine.synapses, engine.layout
    return {
        "kind": kind,
        "model": engine.model.name,
        "spec": json.dumps(dataclasses.asdict(spec), sort_keys=True, default=str),
        "layout": _digest(layout.slot_start, layout.axon_start, layout.core_ids),
        "params": _digest(*(getattr(params, f.name) for f in fields(params))),
        "synapses": _digest(syn.row_start, syn.slot, syn.w, syn.w_exp, syn.target),
        "routes": _digest(engine.entry_start, engine.entry_axon, engine.entry_delay,
                          engine.entry_core),
        "lfsr_seeds": _digest(np.asarray(engine.lfsr_seeds, np.int64)),
    }


def _flat(tree, prefix: str = "") -> dict:
    if not isinstance(tree, dict):
        return {prefix.rstrip("."): tree}
    flat = {}
    for key, value in tree.items():
        flat.update(_flat(value, f"{prefix}{key}."))
    return flat


def mismatch(saved: Mapping[str, str], here: Mapping[str, str]) -> str | None:
    """What differs between two fingerprints, in words (``None``: nothing)."""
    parts = []
    for part in FINGERPRINT_PARTS:
        a, b = saved.get(part), here.get(part)
        if a == b:
            continue
        if part in ("kind", "model"):
            parts.append(f"{part} {a} there, {b} here")
        elif part == "spec" and a is not None:
            old, new = _flat(json.loads(a)), _flat(json.loads(b))
            named = [f"spec.{k} {old.get(k)} there, {new.get(k)} here"
                     for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]
            parts.extend(named[:3] + ([f"{len(named) - 3} more spec fields"]
                                      if len(named) > 3 else []))
        else:
            parts.append(f"{part} differ" if part.endswith("s") else f"{part} differs")
    return "; ".join(parts) or None


# ---------------------------------------------------------------------- capture, restore
def capture(engine, spec, kind: str, meta: Mapping[str, str] | None = None) -> Checkpoint:
    """The checkpoint of ``engine`` now (between ticks)."""
    state = {f.name: getattr(engine.state, f.name) for f in fields(engine.model.state_type)}
    ticks, axons, counts = engine.buffer.pending(engine.t)
    lanes = engine.noise.lanes if engine.noise is not None else np.zeros(0, np.uint64)
    return Checkpoint(engine.t, state, ticks, axons, counts, lanes, dict(engine.arith.counts),
                      fingerprint(engine, spec, kind), dict(meta or {}))


def restore(engine, checkpoint: Checkpoint, spec, kind: str, where: str = "checkpoint"):
    """Put ``engine`` in the state of ``checkpoint``: everything is checked first, so a
    refused checkpoint changes nothing."""
    if not isinstance(checkpoint, Checkpoint):
        where = os.fspath(checkpoint)
        checkpoint = Checkpoint.load(checkpoint)
    differs = mismatch(checkpoint.fingerprint, fingerprint(engine, spec, kind))
    if differs:
        raise CheckpointError(f"{where}: saved from another {kind.lower()} "
                              f"configuration: {differs}")
    registers = [f.name for f in fields(engine.model.state_type)]
    if sorted(checkpoint.state) != sorted(registers):
        raise CheckpointError(f"{where}: registers {sorted(checkpoint.state)}, the model "
                              f"has {sorted(registers)}")
    unknown = set(checkpoint.overflow) - set(engine.arith.counts)
    if unknown:
        raise CheckpointError(f"{where}: overflow counts of unknown registers {sorted(unknown)}")
    lanes = engine.noise.lanes.size if engine.noise is not None else 0
    if checkpoint.lfsr.size != lanes:
        raise CheckpointError(f"{where}: {checkpoint.lfsr.size} LFSR lanes, the "
                              f"{kind.lower()} has {lanes}")
    probe = type(engine.buffer)(engine.buffer.n_axons, engine.spec.delay_bits)
    pending = (checkpoint.tick, checkpoint.pending_tick, checkpoint.pending_axon,
               checkpoint.pending_count)
    try:
        probe.replace_pending(*pending)  # refuses bad events before anything changes
        engine.state = engine.model.state_type(**checkpoint.state)  # checks every range
    except SpecError as error:
        raise CheckpointError(f"{where}: {error}") from None
    engine.buffer.replace_pending(*pending)
    if engine.noise is not None:
        engine.noise.lanes[:] = checkpoint.lfsr
    engine.arith.counts = {name: int(checkpoint.overflow.get(name, 0))
                           for name in engine.arith.counts}
    engine.t = checkpoint.tick
