"""Reading a NIR graph: a ``.nir`` file, a ``nir.NIRGraph`` in memory or its dict, as
the flattened ``_Graph`` of ``_Node`` s.

Files are read with ``h5py`` and ``nir.serialization.hdf2dict`` directly (no ``nir``
type check, which refuses some graphs that load fine here); a graph object becomes the
dict ``hdf2dict`` gives for it, so both load alike. Nested ``NIRGraph`` nodes are
flattened with dotted names (``"lif1.lif"``): an edge to a subgraph goes to its only
Input node, an edge from it leaves its only Output node, and the Input/Output nodes of
nested subgraphs become pass-through ``Identity`` nodes. Nodes are kept in sorted name
order.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .constants import NEURON_TYPES, SUPPORTED_TYPES
from .errors import NirError, _edge_at, _node_at
from .hdf5_read import read_nir_file


def _read_source(path_or_graph) -> tuple[str, dict]:
    if isinstance(path_or_graph, (str, os.PathLike)):
        source = str(path_or_graph)
        if not Path(path_or_graph).is_file():
            raise NirError(source, "", "no such file")
        raw = read_nir_file(path_or_graph)
        return source, raw
    if isinstance(path_or_graph, Mapping):
        return "<dict>", dict(path_or_graph)
    try:
        import nir
    except ImportError:                               # pragma: no cover
        nir = None
    if nir is not None and isinstance(path_or_graph, nir.NIRNode):
        return "<graph>", _raw_from_node(path_or_graph)
    raise TypeError(f"load_nir takes a .nir path, a nir.NIRGraph or a dict, got "
                    f"{type(path_or_graph).__name__}")


def _raw_from_node(node) -> dict:
    """A NIR node object as the dict ``nir.serialization.hdf2dict`` gives for it."""
    import nir
    meta = dict(getattr(node, "metadata", None) or {})
    if isinstance(node, nir.NIRGraph):
        return {"type": "NIRGraph", "nodes": {k: _raw_from_node(v) for k, v in node.nodes.items()},
                "edges": [tuple(e) for e in node.edges], "metadata": meta}
    if isinstance(node, nir.Input):
        return {"type": "Input", "shape": (node.input_type or {}).get("input"),
                "metadata": meta}
    if isinstance(node, nir.Output):
        return {"type": "Output", "shape": (node.output_type or {}).get("output"),
                "metadata": meta}
    out: dict[str, Any] = {"type": type(node).__name__, "metadata": meta}
    if isinstance(node, nir.Flatten):
        out.update(start_dim=node.start_dim, end_dim=node.end_dim,
                   input_type=(node.input_type or {}).get("input"))
        return out
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            if f.name in ("input_type", "output_type", "metadata"):
                continue
            value = getattr(node, f.name)
            if value is not None:
                out[f.name] = value
    return out


def _text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    if isinstance(value, str):
        return value
    return None


def _edges(value, source: str, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, np.ndarray):
        if value.size == 0:
            return []
        value = value.reshape(-1, value.shape[-1]).tolist() if value.ndim >= 2 else [value.tolist()]
    if not isinstance(value, (list, tuple)):
        raise NirError(source, where, f"edges must be a list of node-name pairs, got "
                                      f"{type(value).__name__}")
    out = []
    for e in value:
        pair = [_text(x) for x in (e if isinstance(e, (list, tuple)) else [e])]
        if len(pair) != 2 or None in pair:
            raise NirError(source, where, f"edge {e!r} is not a pair of node names")
        out.append((pair[0], pair[1]))
    return out


def _name_problem(name) -> str | None:
    """Why ``name`` cannot be the name of a node in a ``.nir`` file (an HDF5 group name
    that reads back as itself), or None."""
    if not isinstance(name, str):
        return f"a {type(name).__name__}, not text"
    if name == "":
        return "it is empty"
    if name in (".", ".."):
        return "HDF5 reads it as a path"
    if "/" in name:
        return "it contains '/', which HDF5 reads as nested groups"
    if "\x00" in name:
        return "it contains a NUL character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid UTF-8 text"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"it is longer than {MAX_NAME_BYTES} bytes"
    return None


MAX_NAME_BYTES = 1024


@dataclass
class _Node:
    name: str            # flattened, dotted
    type: str            # NIR type, or "Identity" for a nested Input/Output
    role: str            # "input" | "output" | "neuron" | "stateless"
    raw: dict
    shape: tuple[int, ...] | None = None      # output shape, once resolved
    in_shape: tuple[int, ...] | None = None   # input shape, once resolved


class _Graph:
    """The flattened graph: nodes by dotted name, edges, predecessor lists."""

    def __init__(self, raw: dict, source: str):
        self.source = source
        self.nodes: dict[str, _Node] = {}
        self.edges: list[tuple[str, str]] = []
        if _text(raw.get("type")) not in (None, "NIRGraph"):
            raise NirError(source, "", f"the top node is a {_text(raw.get('type'))!r}, not a "
                                       f"NIRGraph")
        self.metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        self._walk(raw, "", top=True)
        seen = set()
        for a, b in self.edges:
            if (a, b) in seen:
                raise NirError(source, _edge_at(a, b), "duplicate edge")
            seen.add((a, b))
        self.nodes = {k: self.nodes[k] for k in sorted(self.nodes)}
        self.preds: dict[str, list[str]] = {k: [] for k in self.nodes}
        self.succs: dict[str, list[str]] = {k: [] for k in self.nodes}
        for a, b in sorted(self.edges):
            self.preds[b].append(a)
            self.succs[a].append(b)

    def _walk(self, graph: dict, prefix: str, top: bool) -> None:
        where = f"subgraph {prefix[:-1]!r}" if prefix else ""
        nodes = graph.get("nodes")
        if not isinstance(nodes, dict):
            raise NirError(self.source, where, "has no 'nodes'")
        for name, node in nodes.items():
            full = prefix + str(name)
            problem = _name_problem(name)
            if problem:
                raise NirError(self.source, _node_at(full), f"cannot be a NIR node name: "
                                                            f"{problem}")
            if not isinstance(node, dict) or _text(node.get("type")) is None:
                raise NirError(self.source, _node_at(full), "has no type")
            kind = _text(node["type"])
            if kind == "NIRGraph":
                if full in self.nodes:
                    raise NirError(self.source, _node_at(full), "two nodes flatten to this name")
                self._walk(node, full + ".", top=False)
                continue
            if kind not in SUPPORTED_TYPES:
                raise NirError(self.source, _node_at(full),
                               f"unsupported node type {kind!r} (supported: "
                               f"{', '.join(SUPPORTED_TYPES)})")
            if kind in ("Input", "Output"):
                role = kind.lower() if top else "stateless"
                kind = kind if top else "Identity"
            elif kind in NEURON_TYPES:
                role = "neuron"
            else:
                role = "stateless"
            if full in self.nodes:
                raise NirError(self.source, _node_at(full), "two nodes flatten to this name "
                                                            "(a dotted name and a subgraph)")
            self.nodes[full] = _Node(full, kind, role, node)
        for a, b in _edges(graph.get("edges"), self.source, where):
            src = self._resolve(nodes, prefix, a, "Output", (a, b))
            dst = self._resolve(nodes, prefix, b, "Input", (a, b))
            self.edges.append((src, dst))

    def _resolve(self, nodes: dict, prefix: str, name: str, port: str, edge) -> str:
        at = _edge_at(prefix + edge[0], prefix + edge[1])
        if name in nodes:
            node = nodes[name]
            if isinstance(node, dict) and _text(node.get("type")) == "NIRGraph":
                inner = node.get("nodes") or {}
                ports = sorted(k for k, v in inner.items()
                               if isinstance(v, dict) and _text(v.get("type")) == port)
                if len(ports) != 1:
                    raise NirError(self.source, at,
                                   f"subgraph {prefix + name!r} has {len(ports)} {port} nodes; "
                                   f"name one as '{name}.<node>'")
                return f"{prefix}{name}.{ports[0]}"
            return prefix + name
        head, dot, rest = name.partition(".")
        if dot and head in nodes and isinstance(nodes[head], dict) \
                and _text(nodes[head].get("type")) == "NIRGraph":
            return self._resolve(nodes[head].get("nodes") or {}, f"{prefix}{head}.", rest, port,
                                 (edge[0], edge[1]))
        inside = f" in subgraph {prefix[:-1]!r}" if prefix else ""
        raise NirError(self.source, at,
                       f"no node {name!r}{inside} (its nodes: "
                       f"{', '.join(sorted(map(str, nodes)))})")
