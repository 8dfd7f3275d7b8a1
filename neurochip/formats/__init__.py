"""File formats: the native netlist, NIR graphs and binary core images.

Layer rule: imports ``hardware`` and ``firmware_models`` only — never compiler, lab or
cli.
"""
