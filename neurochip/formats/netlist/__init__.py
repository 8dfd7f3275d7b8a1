"""The native netlist: a float network in physical units, read from JSON or TOML.

A netlist says *what* network to run, in SI units (seconds, volts, amperes, farads,
siemens, hertz): populations of neurons of a firmware model with their parameters,
projections between populations (explicit synapse lists, dense matrices or seeded random
rules), inputs (spike times, seeded Poisson trains, DC and step currents) and probes.
The schema is documented field by field in ``docs/netlist.md``; ``examples/balanced.json``
and ``examples/balanced.toml`` are the same complete example.

* ``schema``: the dataclasses (``Netlist``, ``Population``, ``Projection``, inputs, ...);
* ``parsing``: ``load_netlist`` and ``netlist_from_dict``, every problem a one-line
  ``NetlistError`` (``errors``; field validators in ``checks``);
* ``writing``: ``netlist_to_dict`` and ``save_netlist``;
* ``expansion``: ``expand(netlist)``, every rule drawn into explicit arrays.
"""

from .errors import NetlistError
from .expansion import CurrentSource, ExpandedNetwork, ProbeRange, expand
from .parsing import load_netlist, netlist_from_dict
from .schema import (Connectivity, DcInput, DenseConnectivity, FixedFanIn, FixedProbability,
                     Input, ListConnectivity, Netlist, Normal, PoissonInput, Population, Probe,
                     Projection, SpikeInput, StepInput, Uniform)
from .writing import netlist_to_dict, save_netlist

__all__ = ["Connectivity", "CurrentSource", "DcInput", "DenseConnectivity", "ExpandedNetwork",
           "FixedFanIn", "FixedProbability", "Input", "ListConnectivity", "Netlist",
           "NetlistError", "Normal", "PoissonInput", "Population", "Probe", "ProbeRange",
           "Projection", "SpikeInput", "StepInput", "Uniform", "expand", "load_netlist",
           "netlist_from_dict", "netlist_to_dict", "save_netlist"]
