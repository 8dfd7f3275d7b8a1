"""How NIR import refuses a graph: every refusal is a ``NirError`` (a ``ValueError``)
with one line ``"{file}: {node or edge}: {what is wrong}"``; ``_node_at`` and ``_edge_at``
write the middle part."""

from __future__ import annotations


class NirError(ValueError):
    """A NIR graph refused: ``"{source}: {where}: {problem}"`` on one line.

    ``source`` is the file (or ``"<graph>"``), ``where`` the node or edge
    (``"node 'lif1.lif'"``, ``"edge 'fc1' -> 'lif1'"``; empty for the whole file).
    """

    def __init__(self, source: str, where: str, problem: str):
        self.source, self.where, self.problem = str(source), where, problem
        text = f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}"
        super().__init__(" ".join(text.split("\n")))


def _node_at(name: str) -> str:
    return f"node {name!r}"


def _edge_at(a: str, b: str) -> str:
    return f"edge {a!r} -> {b!r}"
