"""Precision lab: one network on the float reference and on the emulator under CoreSpecs.

``compare(netlist, configs)`` runs the netlist once on the float reference
(``compiler.float_run``, the parameters as asked) and once per configuration on the
emulator (``compile_netlist`` onto a chip large enough for it), with the same inputs,
and measures how far each emulator run is from the float one (``docs/compare.md``):

* spike counts per neuron and in total, and the rate error (relative, of the total and
  of the per-neuron counts);
* matched-spike timing: each float spike is matched, in time order, to the nearest
  unmatched emulator spike of the same neuron within ``window`` ticks
  (``match_spikes``); the deviation is emulator tick minus float tick;
* the van Rossum distance per neuron (``van_rossum``, exact for binned trains,
  normalised so that one unmatched spike is 1);
* the first tick at which the spike trains differ, the fraction of neurons whose trains
  are identical, the membrane RMSE in volts, and the overflow counts.

``smallest_width`` searches the membrane width ``v_bits`` (the other widths fixed) for
the smallest that meets a tolerance; ``plot_comparison`` draws the errors against the
widths, a raster overlay and a membrane trace overlay. The ``neurochip compare`` command
is ``neurochip.cli.compare``.

Modules: ``metrics`` (spike-train distances), ``results`` (what a comparison gives),
``sweep`` (running it, the width search), ``dask_sweep`` (a sweep's configurations on a
Dask cluster: ``compare(..., client=...)`` with ``dask_client``), ``report`` (the table),
``plots`` (figures).
"""

from .dask_sweep import ClusterError, dask_client
from .metrics import (DEFAULT_TAU, DEFAULT_WINDOW, Matching, first_difference,
                      first_difference_per_neuron, match_spikes, van_rossum)
from .plots import plot_comparison
from .report import format_table, format_value
from .results import (DEFAULT_METRIC, SEARCH_METRICS, ComparisonResult, WidthSearch, label_of,
                      passes)
from .sweep import (REFERENCES, SPEC_FIELDS, base_spec, compare, expanded_network,
                    realised_float_run, resolve_config, smallest_passing, smallest_width, sweep)

__all__ = ["DEFAULT_METRIC", "DEFAULT_TAU", "DEFAULT_WINDOW", "REFERENCES", "SEARCH_METRICS",
           "SPEC_FIELDS", "ClusterError", "ComparisonResult", "Matching", "WidthSearch",
           "base_spec", "compare", "dask_client", "expanded_network", "first_difference",
           "first_difference_per_neuron", "format_table", "format_value", "label_of", "match_spikes", "passes",
           "plot_comparison", "realised_float_run", "resolve_config", "smallest_passing",
           "smallest_width", "sweep", "van_rossum"]
