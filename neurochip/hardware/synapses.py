"""Synapse memory and event delivery.

Each axon owns one row of synapse words ``(slot, w)``; the row has an exponent
``w_exp``, and the synaptic event of a word adds ``w << w_exp`` to the slot's ``acc``.
Rows are stored compressed (CSR): ``row_start[a] .. row_start[a + 1]`` index the words
of axon ``a``.

``DeliveryTable.deliver`` sums, for every event of this tick (an axon may carry several events,
each counted), every word of its axon's row into one ``acc`` per slot. It gathers
the row words with one ``repeat``/``arange`` and sums with ``bincount`` (which adds in
float64: exact while the sum of ``|w << w_exp|`` over one tick stays below 2**53, far
beyond any register width here).

A model with several synaptic input targets per slot (``FirmwareModel.targets``) reads
each word's ``target`` (0 when the memory has none): ``deliver_targets`` gives one
``acc`` row per target, and ``events`` lists the synaptic events of a tick in the order
a sequential datapath applies them (ascending axon; an axon with ``c`` events gives its
row ``c`` times in a row; words in row order).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from firmware_models.base import SynapticEvents

from .spec import CoreSpec, SpecError


def _compact(values: np.ndarray, dtype) -> np.ndarray:
    """``values`` as ``dtype`` when every value fits, else as int64."""
    info = np.iinfo(dtype)
    if values.size == 0 or (values.min() >= info.min and values.max() <= info.max):
        return values.astype(dtype, copy=False)
    return values.astype(np.int64, copy=False)


@dataclass(frozen=True)
class SynapseMemory:
    row_start: np.ndarray  # (n_axons + 1,) int64
    slot: np.ndarray       # (words,) int32 (int64 if a value does not fit)
    w: np.ndarray          # (words,) int16 mantissa (int64 if a value does not fit)
    w_exp: np.ndarray      # (n_axons,) int64
    target: np.ndarray | None = None  # (words,) input target of each word; None: all 0

    @classmethod
    def from_lists(cls, n_axons: int, axon, slot, w, w_exp=0, target=None) -> "SynapseMemory":
        """Rows from parallel arrays of ``(axon, slot, w)`` words; ``w_exp`` per axon or one;
        ``target`` (one per word or one for all) the input target of each word.

        Words keep their order within a row. Slots are stored as int32 and weights as
        int16 when every value fits (a core's weights are at most 16 bits), to keep
        large networks small; values that do not fit keep int64 so that validation can
        name them.
        """
        axon, slot, w = (np.asarray(a).ravel() for a in (axon, slot, w))
        axon, slot, w = (a.astype(np.int64) if a.size == 0 else a for a in (axon, slot, w))
        if not axon.shape == slot.shape == w.shape:
            raise SpecError(f"synapse lists differ in length: axon {axon.size}, "
                            f"slot {slot.size}, w {w.size}")
        for name, values in (("axon", axon), ("slot", slot), ("w", w)):
            if values.size and values.dtype.kind not in "iu":
                raise SpecError(f"synapse {name} values must be integers, got dtype "
                                f"{values.dtype}")
        if axon.size and (axon.min() < 0 or axon.max() >= n_axons):
            bad = axon[(axon < 0) | (axon >= n_axons)][0]
            raise SpecError(f"synapse names axon {bad}, outside 0..{n_axons - 1}")
        counts = np.bincount(axon, minlength=n_axons)
        row_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if target is not None:
            target = np.broadcast_to(np.asarray(target), axon.shape)
            if target.size and target.dtype.kind not in "iu":
                raise SpecError(f"synapse target values must be integers, got dtype "
                                f"{target.dtype}")
            target = target.astype(np.int64)
        if axon.size > 1 and np.any(axon[1:] < axon[:-1]):
            order = np.argsort(axon, kind="stable")
            slot, w = slot[order], w[order]
            target = target[order] if target is not None else None
        w_exp = np.broadcast_to(np.asarray(w_exp, dtype=np.int64), (n_axons,)).copy()
        return cls(row_start, _compact(slot, np.int32), _compact(w, np.int16), w_exp,
                   None if target is None else _compact(target, np.int8))

    @classmethod
    def from_rows(cls, lengths, slot, w, w_exp=0) -> "SynapseMemory":
        """Rows given in order: axon ``a``'s row is the next ``lengths[a]`` words of
        ``(slot, w)``. The memory ``from_lists`` makes of the same words (and dtypes),
        without the per-word axon list and its sort: for large memories built row by row.
        """
        lengths = np.asarray(lengths, dtype=np.int64).ravel()
        slot, w = np.asarray(slot).ravel(), np.asarray(w).ravel()
        total = int(lengths.sum())
        if np.any(lengths < 0) or not slot.size == w.size == total:
            raise SpecError(f"synapse rows of {total} words in all, got {slot.size} slots "
                            f"and {w.size} weights")
        for name, values in (("slot", slot), ("w", w)):
            if values.size and values.dtype.kind not in "iu":
                raise SpecError(f"synapse {name} values must be integers, got dtype "
                                f"{values.dtype}")
        slot, w = (a.astype(np.int64) if a.size == 0 else a for a in (slot, w))
        row_start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        w_exp = np.broadcast_to(np.asarray(w_exp, dtype=np.int64), lengths.shape).copy()
        return cls(row_start, _compact(slot, np.int32), _compact(w, np.int16), w_exp)

    def targets_of_words(self) -> np.ndarray:
        """The input target of every word (zeros when the memory names none)."""
        return (np.zeros(self.words, dtype=np.int8) if self.target is None
                else self.target)

    @classmethod
    def empty(cls, n_axons: int) -> "SynapseMemory":
        return cls.from_lists(n_axons, [], [], [])

    @property
    def n_axons(self) -> int:
        return self.row_start.size - 1

    @property
    def words(self) -> int:
        return self.slot.size

    def validate(self, spec: CoreSpec, n_slots: int, core: int = 0, targets: int = 1) -> None:
        """Refuse anything the core's synapse memory cannot hold, naming it (``targets``:
        the input targets per slot of the core's model)."""
        where = f"core {core} synapse memory"
        if self.n_axons > spec.n_axons:
            raise SpecError(f"{where}: {self.n_axons} axons, capacity n_axons={spec.n_axons}")
        if self.words > spec.synapse_words:
            raise SpecError(f"{where}: {self.words} synapse words, capacity "
                            f"synapse_words={spec.synapse_words} (short by "
                            f"{self.words - spec.synapse_words})")
        lo, hi = -(1 << (spec.w_bits - 1)), (1 << (spec.w_bits - 1)) - 1
        for name, values, vlo, vhi in (("slot", self.slot, 0, n_slots - 1),
                                       ("w", self.w, lo, hi),
                                       ("w_exp", self.w_exp, 0, spec.max_w_exp),
                                       ("target", self.targets_of_words(), 0, targets - 1)):
            bad = np.flatnonzero((values < vlo) | (values > vhi))
            if bad.size:
                index = int(bad[0])
                if name == "w_exp":
                    place = f"axon {index}"
                else:
                    axon = int(np.searchsorted(self.row_start, index, "right") - 1)
                    place = f"axon {axon} word {index - int(self.row_start[axon])}"
                raise SpecError(f"{where}, {place}: {name}={int(values[index])} outside "
                                f"{vlo}..{vhi}")

    def scaled_weights(self) -> np.ndarray:
        """``w << w_exp`` of every word, int64."""
        return self.w.astype(np.int64) << np.repeat(self.w_exp, np.diff(self.row_start))


def row_words(row_start: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of every word of ``rows`` (in row order) of a CSR table, and each row's length."""
    starts = row_start[rows]
    lengths = row_start[rows + 1] - starts
    return ranges(starts, lengths), lengths


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + l) for s, l in zip(starts, lengths)])`` without a loop."""
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if ends.size else 0
    return np.repeat(starts - ends + lengths, lengths) + np.arange(total)


BUILD_CHUNK = 1 << 21   # words per chunk when a delivery table is built

# the columns of ``DeliveryTable.pairs``: slot in the low half of each pair read as one
# little-endian 64-bit word, the weight in the high half (sign-extended by ``>> 32``)
SLOT, WEIGHT = (0, 1) if sys.byteorder == "little" else (1, 0)


@dataclass(frozen=True)
class DeliveryTable:
    """The synapse memory as delivery reads it: rows stored in the order spikes reach them.

    Rows fed by the same routing entries sit next to each other, so one spike's rows are
    read from one stretch of memory; ``offset[a]``/``length[a]`` locate axon ``a``'s row.
    Each word's slot and weight (``w << w_exp``) are one int32 pair, side by side, so that
    the compiled backend reads a word as one 64-bit load (``words64``). Same sums as the
    synapse memory, in any order (integers, exact: ``bincount`` adds them in float64).
    """

    offset: np.ndarray  # (n_axons,) int64
    length: np.ndarray  # (n_axons,) int64
    pairs: np.ndarray   # (words, 2) int32: slot and w << w_exp (columns SLOT, WEIGHT)
    target: np.ndarray  # (words,) int8 input target

    @classmethod
    def build(cls, synapses: SynapseMemory, entry_axon: np.ndarray) -> "DeliveryTable":
        """The table of ``synapses``, whose scaled weights must fit int32 (they do on any
        core a ``CoreSpec`` allows: ``|w << w_exp| <= 2**15 << 15``)."""
        n_axons = synapses.n_axons
        first_feeder = np.full(n_axons, entry_axon.size, dtype=np.int64)
        np.minimum.at(first_feeder, entry_axon, np.arange(entry_axon.size))
        order = np.lexsort((np.arange(n_axons), first_feeder))
        length = np.diff(synapses.row_start)
        offset = np.empty(n_axons, dtype=np.int64)
        ends = np.cumsum(length[order])
        offset[order] = ends - length[order]
        pairs = np.empty((int(ends[-1]) if ends.size else 0, 2), dtype=np.int32)
        target = np.empty(pairs.shape[0], dtype=np.int8)
        targets = synapses.target
        # rows in delivery order, a chunk of rows (about BUILD_CHUNK words) at a time: the
        # table without an index or a scaled weight of every word at once
        cuts = np.searchsorted(ends, np.arange(0, pairs.shape[0], BUILD_CHUNK), "right")
        for k0, k1 in zip(cuts, [*cuts[1:], order.size]):
            rows = order[k0:k1]
            words = ranges(synapses.row_start[rows], length[rows])
            if not words.size:
                continue
            start = int(ends[k0] - length[rows[0]])
            weight = synapses.w[words].astype(np.int64) << np.repeat(synapses.w_exp[rows],
                                                                       length[rows])
            wide = np.flatnonzero((weight < np.iinfo(np.int32).min)
                                  | (weight > np.iinfo(np.int32).max))
            if wide.size:
                raise SpecError(f"synapse memory: w << w_exp = {int(weight[wide[0]])} does "
                                f"not fit 32 bits")
            pairs[start:start + words.size, SLOT] = synapses.slot[words]
            pairs[start:start + words.size, WEIGHT] = weight
            target[start:start + words.size] = 0 if targets is None else targets[words]
        return cls(offset, length, pairs, target)

    @property
    def slot(self) -> np.ndarray:
        return self.pairs[:, SLOT]

    @property
    def weight(self) -> np.ndarray:
        """``w << w_exp`` of every word (int32)."""
        return self.pairs[:, WEIGHT]

    @property
    def words64(self) -> np.ndarray:
        """Each word as one int64: ``slot = word & 0xFFFFFFFF``, ``weight = word >> 32``."""
        return self.pairs.reshape(-1).view(np.int64)

    def deliver(self, axons: np.ndarray, n_slots: int) -> np.ndarray:
        """Sum of ``w << w_exp`` per slot over the rows of ``axons`` (one row per event)."""
        words = ranges(self.offset[axons], self.length[axons])
        if words.size == 0:
            return np.zeros(n_slots, dtype=np.int64)
        return np.bincount(self.slot[words], weights=self.weight[words],
                           minlength=n_slots).astype(np.int64)

    def deliver_targets(self, axons: np.ndarray, n_slots: int, targets: int) -> np.ndarray:
        """``deliver`` with one row per input target: shape ``(targets, n_slots)``."""
        words = ranges(self.offset[axons], self.length[axons])
        if words.size == 0:
            return np.zeros((targets, n_slots), dtype=np.int64)
        key = self.target[words].astype(np.int64) * n_slots + self.slot[words]
        return np.bincount(key, weights=self.weight[words], minlength=targets * n_slots
                           ).astype(np.int64).reshape(targets, n_slots)

    def events(self, axons: np.ndarray) -> SynapticEvents:
        """The events of ``axons`` in application order (module docstring)."""
        axons = np.sort(axons, kind="stable")
        words = ranges(self.offset[axons], self.length[axons])
        return SynapticEvents(self.slot[words].astype(np.int64),
                              self.target[words].astype(np.int64),
                              self.weight[words].astype(np.int64))
