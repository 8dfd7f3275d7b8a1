"""Fuzz campaigns (``python -m tools.fuzz``): mutated inputs through the project's
loaders and runs in a child process under a memory cap and a per-case timeout.

* ``runner``: the child process, the classification of outcomes and the report;
* ``mutate``: structure-aware and byte-level mutations;
* ``netlists``: netlist cases (load -> expand -> compile -> run a few ticks);
* ``manifests``: boot-manifest cases (``load_chip``).

A campaign of another format adds its module and a subcommand in ``tools/fuzz.py``.
"""
