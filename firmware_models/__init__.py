"""Neuron programs that run on a core, each beside its floating-point reference twin.

One subpackage per model: ``kernel`` (the integer program of one tick), ``reference``
(the float model in physical units), ``quantiser`` (physical parameters to register
values, with the error it made) and, where theory gives one, ``analytic``.
"""

from .base import register
from .lif import LIF
from .loihi import LOIHI
from .xylo import XYLO

MODELS = register(LIF, LOIHI, XYLO)  # registered models pickle by name
