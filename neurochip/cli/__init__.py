"""The ``neurochip`` command line: argument types, one handler per command.

Layer rule: the top; it may import every layer, and nothing imports it.
"""

from .app import main

__all__ = ["main"]
