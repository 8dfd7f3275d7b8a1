"""What users do with the chip: fixed-vs-float comparison, the LIF experiments,
throughput estimates, the demo and its example networks.

Layer rule: imports ``compiler``, ``formats``, ``hardware`` and ``firmware_models`` —
never cli.
"""
