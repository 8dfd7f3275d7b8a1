"""NIR import and export: a NIR graph <-> a float ``Netlist`` in physical units.

NIR (the Neuromorphic Intermediate Representation, read and written by the ``nir``
package as HDF5 files) describes a network as a graph of *stateful* neuron nodes and
*stateless* maps between them. ``load_nir`` turns one into a ``NirNetwork``: every
neuron node (LIF, CubaLIF, IF, LI, CubaLI, I, Threshold) becomes one population of the
firmware model ``"lif"`` (``firmware_models.lif.reference.LifPhysical``), the stateless
nodes between two neuron nodes become the synapse list of one projection, top-level
Input nodes become input channels and Output nodes probes. ``run_float`` runs its float
reference; ``save_nir`` writes a netlist back as a NIR graph. The exporters' conventions
(snnTorch, Norse, Sinabs, Rockpool), what is approximated and every refusal are in
docs/nir.md.

Modules, in the order a graph goes through them: ``reading`` (the file or graph object,
flattened), ``params`` (checked node parameters), ``conventions`` (which exporter, and
the population of each neuron node), ``lowering`` (stateless maps to synapse lists),
``loader`` (shapes, signals and ``load_nir``), ``building`` (the netlist's populations,
projections, inputs and probes), ``exact_values`` (the float values ``save_nir`` keeps
for ``load_nir``), ``network`` (``NirNetwork`` and its maps), ``float_run``
(``run_float``), ``writing`` (``save_nir``); ``constants`` and ``errors`` below them all.
``frameworks`` (each exporter's own equations) and ``framework_run``
(``run_framework``: a graph run as its framework runs it) stand beside the netlist path.
"""

# the constants are all attributes of the package; __all__ names the main ones
from .constants import (  # noqa: F401
    CONVENTIONS,
    EXPORTER,
    GAIN_SNAP,
    MEMORYLESS_TAU,
    NEURON_TYPES,
    NEVER_FIRES_V_TH,
    NO_LEAK_TICKS,
    NON_SPIKING,
    RESET_DEFAULTS,
    ROCKPOOL_DT,
    SNNTORCH_DT,
    STATELESS_TYPES,
    SUPPORTED_TYPES,
)
from .errors import NirError
from .float_run import FloatRun, run_float
from .framework_run import FrameworkRun, read_framework_graph, run_framework
from .loader import load_nir
from .network import InputMap, NirNetwork, NodeMap, OutputMap
from .writing import save_nir

__all__ = [
    "FrameworkRun",
    "read_framework_graph",
    "run_framework",
    "CONVENTIONS",
    "MEMORYLESS_TAU",
    "NEVER_FIRES_V_TH",
    "NO_LEAK_TICKS",
    "RESET_DEFAULTS",
    "FloatRun",
    "InputMap",
    "NirError",
    "NirNetwork",
    "NodeMap",
    "OutputMap",
    "load_nir",
    "run_float",
    "save_nir",
]
