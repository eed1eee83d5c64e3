"""The package's shape: layers that import downwards only, private imports of
dependencies kept in their compat modules, modules and classes of a
readable size (CONTRIBUTING.md)."""

import ast
from pathlib import Path

import pytest

import sklstm

PACKAGE = Path(sklstm.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
# The compiled engine's sources, held to the modules' length.
COMPILED_SOURCES = sorted(
    path
    for pattern in ("*.pyx", "*.pxi", "*.pxd", "*.h")
    for path in PACKAGE.rglob(pattern)
)
COMPAT = {
    "sklearn": "_sklearn_compat.py",
    "skl2onnx": "_skl2onnx_compat.py",
    "threadpoolctl": "_threadpoolctl_compat.py",
}


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path):
    """The sklstm modules that ``path`` imports at its top level (not inside
    functions, where an import is deferred on purpose)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                known = any(_module_name(p) == candidate for p in MODULES)
                imported.add(candidate if known else target)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("sklstm")}
    return imported - {name}


def _find_cycle(graph):
    """A list of modules that import each other in a circle, or None."""

    def cycle_from(start):
        stack, on_path = [(start, iter(sorted(graph[start])))], [start]
        while stack:
            _node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
            elif child in on_path:
                return [*on_path[on_path.index(child) :], child]
            else:
                stack.append((child, iter(sorted(graph[child]))))
                on_path.append(child)
        return None

    for module in sorted(graph):
        cycle = cycle_from(module)
        if cycle:
            return cycle
    return None


def test_no_import_cycle_inside_the_package():
    graph = {_module_name(path): _imported_modules(path) for path in MODULES}
    graph = {
        module: {target for target in targets if target in graph}
        for module, targets in graph.items()
    }
    assert "sklstm._lstm._engines" in graph["sklstm._base"]  # the graph is read
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    "path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_private_imports_of_dependencies_live_in_their_compat_module(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        dependency = node.module.split(".")[0]
        private = any(part.startswith("_") for part in node.module.split(".")) or any(
            alias.name.startswith("_") for alias in node.names
        )
        if dependency in COMPAT and private:
            assert path.name == COMPAT[dependency], (
                f"{path.relative_to(PACKAGE)} imports {node.module} privately; "
                f"import it through sklstm/{COMPAT[dependency]}"
            )


@pytest.mark.parametrize(
    "path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_modules_and_classes_stay_readable(path):
    source = path.read_text()
    assert source.count("\n") <= 400, f"{path.name}: split this module"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 300, f"{path.name}: class {node.name} has {length} lines"


@pytest.mark.parametrize(
    "path", COMPILED_SOURCES, ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_compiled_sources_stay_readable(path):
    assert path.read_text().count("\n") <= 400, f"{path.name}: split this file"
