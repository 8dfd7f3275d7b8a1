"""The node types NIR import knows, and the constants of how a node is represented.

Representations of what the ``"lif"`` model (``firmware_models.lif.reference``) has no
switch for:

* No synaptic state (LIF, IF, LI, I, Threshold): ``tau_syn = dt * MEMORYLESS_TAU``
  (``dt/1000``), so ``a_s = exp(-1000) == 0.0`` exactly: the jump of tick ``k`` is the
  whole current of tick ``k``.
* No leak (IF, I): ``tau_m = NO_LEAK_TICKS * dt`` (``2**24`` ticks) and ``R`` chosen so
  that ``R (1 - a_m)`` is the gain ``h r``; the remaining leak is ``6e-8`` of ``v - E_L``
  per tick and the float gain is exact to about ``2e-9``.
* No spikes (LI, CubaLI, I): ``V_th = NEVER_FIRES_V_TH`` (``1e30`` V), reset ``"none"``.
* Threshold: ``tau_m = tau_syn = dt/1000`` (both decays exactly 0), ``R = 1``, ``E_L = 0``,
  ``V_th = threshold``, reset ``"none"``: ``V`` is this tick's input, and the neuron
  fires in the tick its input reaches the threshold.
* ``T_ref = 0``, ``alpha = 0``, ``sigma = 0``; ``dt`` and the reset mode are the user's
  (``reset="auto"``: ``"value"`` for Norse and physical, ``"subtract"`` for snnTorch,
  Sinabs and Rockpool, ``RESET_DEFAULTS``).
* The state starts at rest: ``V = E_L = v_leak``, ``I_syn = 0`` (Norse starts at
  ``v_leak`` too; the others write ``v_leak = 0`` and start at 0).
"""

from __future__ import annotations

CONVENTIONS = ("auto", "physical", "norse", "sinabs", "snntorch", "rockpool")
NEURON_TYPES = ("LIF", "CubaLIF", "IF", "LI", "CubaLI", "I", "Threshold")
STATELESS_TYPES = ("Affine", "Linear", "Scale", "Delay", "Flatten", "Conv1d", "Conv2d",
                   "SumPool2d", "AvgPool2d", "Identity")
SUPPORTED_TYPES = ("Input", "Output", "NIRGraph", *NEURON_TYPES, *STATELESS_TYPES)
NON_SPIKING = ("LI", "CubaLI", "I")

NEVER_FIRES_V_TH = 1e30        # V: threshold of neurons that never spike (LI, CubaLI, I)
NO_LEAK_TICKS = 2 ** 24        # tau_m of neurons without leak (IF, I), in ticks
MEMORYLESS_TAU = 1e-3          # tau (in ticks) of a state with no memory: exp(-1000) == 0
SNNTORCH_DT = 1e-4             # s: the step snnTorch's exporter hard-codes
ROCKPOOL_DT = 1e-3             # s: Rockpool's default step (used only when nothing says)
NORSE_EXPORT_DT = 1e-3         # s: to_nir's default dt, which Norse 1.1.0 multiplies taus by
GAIN_SNAP = 1e-12              # an input gain this close to 1 is taken as exactly 1
EXPORTER = "neurochip"
# reset="auto": what each exporter's simulator does by default
RESET_DEFAULTS = {"physical": "value", "norse": "value", "snntorch": "subtract",
                  "sinabs": "subtract", "rockpool": "subtract"}
