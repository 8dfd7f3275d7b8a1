"""What each exporting framework's own simulator computes per step, as pure step
functions over arrays: ``snntorch``, ``norse``, ``sinabs``, ``rockpool`` (the versions
and the source functions are in each module's docstring and in docs/nir.md).

A framework module has ``options(**given)`` (what the NIR file does not carry: reset
mode, spike function, ...), ``neuron(node_fields, options)`` (its parameter record for
one neuron node) and ``step(params, state, x) -> (state, out)``; ``framework_run`` runs
a graph with them.
"""

from . import norse, rockpool, sinabs, snntorch
from .base import FrameworkError, NodeFields, Options, State

FRAMEWORKS = {m.NAME: m for m in (snntorch, norse, sinabs, rockpool)}

__all__ = ["FRAMEWORKS", "FrameworkError", "NodeFields", "Options", "State"]
