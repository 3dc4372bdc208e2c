#!/usr/bin/env python3
"""The module graph of the Rust core, from its sources: which module uses which, and cycles.

A module is a file of `rust/malwi-core/src/` or a folder of it (`emit/`, `protectors/`: every
file inside belongs to the folder's module). An edge A → B is any `crate::B` path in A's code
(`use crate::B::...`, `crate::B::f()`); comments are ignored. Tests are part of their module.

    python tools/rust_modules.py            # the graph, then cycles; exit 1 when there is one
    python tools/rust_modules.py --dot      # Graphviz
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "rust" / "malwi-core" / "src"
# `crate::name` where name is a module (lower case); `crate::{a, b::c}` lists several.
PATH = re.compile(r"\bcrate::(\{[^}]*\}|[a-z_][a-z0-9_]*)")
COMMENT = re.compile(r"//[^\n]*")


def module_of(path: Path, root: Path = SOURCE) -> str:
    relative = path.relative_to(root)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def graph(root: Path = SOURCE) -> dict[str, set[str]]:
    """`{module: modules it uses}` for every module of the crate (lib.rs excluded: it wires them)."""
    edges: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.rs")):
        module = module_of(path, root)
        if module == "lib":
            continue
        uses = edges.setdefault(module, set())
        code = COMMENT.sub("", path.read_text(encoding="utf-8"))
        for match in PATH.finditer(code):
            group = match.group(1)
            names = (
                [part.strip().split("::")[0] for part in group.strip("{}").split(",")]
                if group.startswith("{")
                else [group]
            )
            uses.update(name for name in names if name and name != module and name != "self")
    known = set(edges)
    return {module: {used for used in uses if used in known} for module, uses in edges.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print the graph in Graphviz format")
    args = parser.parse_args()
    edges = graph()
    if args.dot:
        print("digraph malwi_core {")
        for module, uses in sorted(edges.items()):
            for used in sorted(uses):
                print(f"  {module} -> {used};")
        print("}")
        return 0
    for module, uses in sorted(edges.items()):
        print(f"{module:<12} → {', '.join(sorted(uses)) or '(leaf)'}")
    found = cycles(edges)
    for component in found:
        print(f"cycle: {' ↔ '.join(component)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
