"""What every recording of a run offers, chip or float: one naming of the state
variables and the spike and trace views Brian2 and Rockpool users reach for.

Names: ``spikes``, ``v`` (membrane), ``i`` (synaptic current), ``theta`` (adaptive
threshold offset), as the chip's registers are named. The float reference's older names
``V``, ``I_syn`` and ``Theta`` are accepted wherever a name is (``record=``, ``trace``,
``rec[name]``), mapped to these (``canonical``).

Spikes, as Brian2's ``SpikeMonitor`` ``t`` and ``i``, flat and in one order (by tick,
ties by neuron index; a slot that fired ``c`` spikes in one tick, as Xylo can, appears
``c`` times):

* ``spike_ticks()``: the tick each spike was decided in (int64, absolute: the first
  recorded row is tick ``start_tick``), so ``spikes[t - start_tick, i]`` is nonzero;
* ``spike_times(dt=None)``: the same in seconds, ``(tick + 1) * dt``, the end of the
  tick, the first grid point at which the crossing is seen (as ``FloatTrace.times``;
  Brian2 stamps a spike with its step's start, ``tick * dt``);
* ``spike_indices()``: the neuron (or slot) of each;
* ``spike_trains(dt=None)``: per neuron, its spike times in seconds (Brian2's
  ``spike_trains()``, as a list).

Traces are time-major, ``(ticks, n)`` (Brian2's ``StateMonitor`` is neuron-major,
``(n, ticks)``; Rockpool's records are time-major): ``trace(name, neuron_major=True)``
is the ``(n, ticks)`` view, no copy.
"""

from __future__ import annotations

import numpy as np

# the float reference's former names -> the one naming
ALIASES = {"V": "v", "I_syn": "i", "Theta": "theta"}


def canonical(name: str) -> str:
    """``name`` in the one naming: ``V`` -> ``v``, ``I_syn`` -> ``i``, ``Theta`` ->
    ``theta``; any other name as it is."""
    return ALIASES.get(name, name)


class RecordedRun:
    """The shared views of a recording. A subclass has ``spikes`` ``(ticks, n)`` and
    ``_lookup(name)`` (the ``(ticks, n)`` array of a canonical name, or ``None``);
    ``_first_tick`` and ``_tick_length`` say where its rows start and how long a tick is
    (``None``: not known, pass ``dt``)."""

    _first_tick: int = 0
    _tick_length: float | None = None

    def _lookup(self, name: str):  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def _recorded(self) -> tuple[str, ...]:  # pragma: no cover
        raise NotImplementedError

    def __getitem__(self, name: str) -> np.ndarray:
        return self.trace(name)

    def trace(self, name: str, neuron_major: bool = False) -> np.ndarray:
        """The recorded ``(ticks, n)`` array of ``name`` (``v``, ``i``, ``theta``,
        ``spikes``, or another register of the model; the old float names accepted);
        ``neuron_major``: its ``(n, ticks)`` view."""
        array = self._lookup(canonical(name))
        if array is None:
            raise KeyError(f"{name!r} was not recorded; recorded: "
                           f"{', '.join(self._recorded()) or 'nothing'}")
        return array.T if neuron_major else array

    def _spike_rows(self) -> tuple[np.ndarray, np.ndarray]:
        spikes = np.asarray(self.trace("spikes"))
        rows, neurons = np.nonzero(spikes)         # row-major: by tick, then neuron
        counts = spikes[rows, neurons].astype(np.int64)
        if counts.size and counts.max() > 1:       # several spikes in a tick (Xylo)
            rows, neurons = np.repeat(rows, counts), np.repeat(neurons, counts)
        return rows.astype(np.int64), neurons.astype(np.int64)

    def spike_ticks(self) -> np.ndarray:
        """Tick of every spike (absolute), by tick, ties by neuron index."""
        return self._spike_rows()[0] + int(self._first_tick)

    def spike_indices(self) -> np.ndarray:
        """Neuron index of every spike, in ``spike_ticks``'s order."""
        return self._spike_rows()[1]

    def _dt(self, dt) -> float:
        dt = self._tick_length if dt is None else dt
        if dt is None:
            raise ValueError("this recording does not know its tick length: pass dt= "
                             "(seconds), or use spike_ticks()")
        if not (isinstance(dt, (int, float, np.floating)) and dt > 0 and np.isfinite(dt)):
            raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
        return float(dt)

    def spike_times(self, dt: float | None = None) -> np.ndarray:
        """Time of every spike in seconds, ``(tick + 1) * dt`` (the end of its tick), in
        ``spike_ticks``'s order; ``dt`` defaults to the recording's own."""
        return (self.spike_ticks() + 1) * self._dt(dt)

    def spike_trains(self, dt: float | None = None) -> list[np.ndarray]:
        """Per neuron, its spike times in seconds (``spike_times``'s convention)."""
        times, neurons = self.spike_times(dt), self.spike_indices()
        n = np.asarray(self.trace("spikes")).shape[1]
        order = np.argsort(neurons, kind="stable")
        trains = np.split(times[order], np.searchsorted(neurons[order], np.arange(1, n)))
        return trains if n else []

    def spike_counts(self) -> np.ndarray:
        """Spikes per neuron over the run."""
        return np.asarray(self.trace("spikes")).sum(axis=0)
