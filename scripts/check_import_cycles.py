"""Fail on any import cycle between the project's modules, imports inside functions included.

import-linter's `acyclic_siblings` contract only sees cycles between the children of one package
(not a cycle through another package, nor one through a package's own __init__), so this check
builds the whole graph with grimp, import-linter's own graph library, and looks at every module.

Usage: python scripts/check_import_cycles.py   (exit status 1 when there is a cycle)
"""

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
# Every package of the project (bench/ and scripts/ are folders of scripts, not packages).
PACKAGES = ("accounts", "builder", "config", "training", "tests")


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """The groups of two or more modules that each reach all the others through imports."""
    groups, seen = [], set()
    for module in sorted(graph.modules):
        if module in seen:
            continue
        # upstream: what the module imports, directly or not; downstream: what imports it.
        group = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if group:
            group.add(module)
            groups.append(group)
            seen |= group
    return groups


def shortest_cycle(graph: grimp.ImportGraph, module: str, group: set[str]) -> tuple[str, ...]:
    chains = (graph.find_shortest_chain(importer=imported, imported=module)
              for imported in graph.find_modules_directly_imported_by(module) & group)
    return (module, *min((c for c in chains if c), key=len))


def describe(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    where = "; ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
    return f"    {importer} -> {imported}   ({where})"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    groups = strongly_connected(graph)
    for group in groups:
        print(f"Import cycle among {len(group)} modules: {', '.join(sorted(group))}")
        cycles = {}
        for module in sorted(group):
            cycle = shortest_cycle(graph, module, group)
            start = cycle.index(min(cycle[:-1]))  # one spelling per cycle, whichever module it starts from
            cycles.setdefault(cycle[start:-1] + cycle[:start + 1], None)
        for cycle in cycles:
            print("  " + " -> ".join(cycle))
            for importer, imported in zip(cycle, cycle[1:]):
                print(describe(graph, importer, imported))
    if groups:
        return 1
    print(f"No import cycles in {', '.join(PACKAGES)} ({len(graph.modules)} modules).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
