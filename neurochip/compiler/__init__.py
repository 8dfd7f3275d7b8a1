"""The compiler: a float netlist onto a chip — quantise, partition, place and route,
choose the dialect.

Layer rule: imports ``formats``, ``hardware`` and ``firmware_models`` — never lab or cli.
"""
