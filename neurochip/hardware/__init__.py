"""The emulated hardware: integer arithmetic, core spec, synapse memory, routing and
delays, LFSR noise, the tick engine (numpy and compiled), core, chip, timing and energy.

Layer rule: imports only ``firmware_models`` and itself — never formats, compiler, lab
or cli.
"""
