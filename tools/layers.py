"""Check the package's layer rule and the absence of import cycles, from the source.

    python -m tools.layers            # prints violations and cycles; exit 1 if any
    python -m tools.layers --sizes    # also the longest modules and functions

Layers, lowest first; a module may import its own layer and the ones below, never one
above (the rule written at the top of each subpackage's ``__init__.py``)::

    firmware_models  <  neurochip.hardware  <  neurochip.formats  <  neurochip.compiler
                     <  neurochip.lab  <  neurochip.cli

The package face ``neurochip/__init__.py`` re-exports from every layer but the CLI.
Every import counts, also one inside a function: a lazy import is still a dependency.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("neurochip", "firmware_models")
LAYERS = ("firmware_models", "neurochip.hardware", "neurochip.formats", "neurochip.compiler",
          "neurochip.lab", "neurochip.cli")
FACE = "neurochip"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for package in PACKAGES
            for p in sorted((root / package).rglob("*.py"))}


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: set[str]) -> list[Import]:
    """The project modules ``name`` imports (``from pkg import module`` names the module)."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, name, path.name == "__init__.py")
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in PACKAGES and target != name:
                found.append(Import(name, target, node.lineno))
    return found


def layer_of(module: str) -> int | None:
    """Index in ``LAYERS`` (None for the face, which may import any layer but the CLI)."""
    best = None
    for index, layer in enumerate(LAYERS):
        if module == layer or module.startswith(layer + "."):
            best = index
    return best


def violations(edges: list[Import]) -> list[str]:
    problems = []
    cli = LAYERS.index("neurochip.cli")
    for e in edges:
        low, high = layer_of(e.importer), layer_of(e.imported)
        if e.importer == FACE:
            if high == cli:
                problems.append(f"{e.importer}:{e.line}: the package face imports the CLI "
                                f"({e.imported})")
            continue
        if e.imported == FACE:
            problems.append(f"{e.importer}:{e.line}: imports the package face {FACE!r}; "
                            f"import the module that defines the name")
        elif low is not None and high is not None and high > low:
            problems.append(f"{e.importer}:{e.line}: layer {LAYERS[low]} imports "
                            f"{e.imported} of the higher layer {LAYERS[high]}")
    return problems


def cycles(edges: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if e.imported != e.importer:
            graph.setdefault(e.importer, set()).add(e.imported)
            graph.setdefault(e.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def function_lengths(path: Path) -> list[tuple[int, str, int]]:
    """(lines, qualified name, first line) of every function and method."""
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([d.lineno for d in child.decorator_list] + [child.lineno])
                out.append((child.end_lineno - first + 1, prefix + child.name, child.lineno))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
    visit(tree, "")
    return out


def project_edges(root: Path = ROOT) -> list[Import]:
    files = source_files(root)
    names = set(files)
    return [e for name, path in files.items() for e in imports_of(name, path, names)]


def oversized(root: Path = ROOT) -> list[str]:
    problems = []
    for name, path in source_files(root).items():
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            problems.append(f"{path.relative_to(root)}: {lines} lines (at most "
                            f"{MAX_MODULE_LINES})")
        for length, function, line in function_lengths(path):
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{path.relative_to(root)}:{line}: {function} is {length} "
                                f"lines (at most {MAX_FUNCTION_LINES})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.layers", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--sizes", action="store_true",
                        help="also check module and function lengths")
    args = parser.parse_args(argv)
    edges = project_edges()
    problems = violations(edges)
    problems += ["import cycle: " + " <-> ".join(c) for c in cycles(edges)]
    if args.sizes:
        problems += oversized()
    for problem in problems:
        print(problem)
    print(f"{len(source_files())} modules, {len(edges)} imports: "
          f"{len(problems)} problem{'s' * (len(problems) != 1)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
