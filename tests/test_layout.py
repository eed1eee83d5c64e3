"""The package's shape: layers that import downwards only, private imports of
dependencies kept in their compat modules, no reach into another object's
private names or another subpackage's private modules, modules and classes
of a readable size (CONTRIBUTING.md)."""

import ast
from pathlib import Path

import pytest

import sklstm

PACKAGE = Path(sklstm.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
#: The gallery: public code, as a user writes it.
EXAMPLES = sorted((PACKAGE.parent / "examples").glob("*.py"))
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


def _resolved_imports(path, tree=None):
    """``(line, module)`` of every import in ``path``, at any depth, relative
    ones resolved; ``from a import b`` names ``a.b`` where that is a module."""
    name = _module_name(path) if path.is_relative_to(PACKAGE) else path.stem
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = {_module_name(p) for p in MODULES}
    for node in ast.walk(tree or ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                yield node.lineno, candidate if candidate in known else target
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)


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


# --- the fitted state is the contract: no reach-ins ------------------------

#: Underscored names that are public by convention: scikit-learn's
#: parameter declaration (read from the base class by every estimator) and
#: the namedtuple API.
CONVENTION_NAMES = {"_parameter_constraints", "_fields", "_replace", "_asdict"}


def _is_private(name):
    return name.startswith("_") and not name.endswith("__")


def _own_names(tree):
    """The private names a module defines: functions, classes, attributes
    assigned at class level or on ``self``. Reading them on another object
    is a module reading its own state (as ``fitted_network`` reads what
    ``FittedNetworkMixin`` assigned)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _as_attribute(node):
    """``getattr(x, "_name")`` (or ``hasattr``, ``setattr``, ``delattr``) as
    the attribute ``x._name`` it reads; any other node as it is."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        attribute = ast.Attribute(node.args[0], node.args[1].value, ast.Load())
        return ast.copy_location(attribute, node)
    return node


def private_reach_ins(source, *, compat=False):
    """``(line, text)`` of each access to another object's private name.

    ``x._name`` (or ``getattr(x, "_name")``) is one unless ``x`` is
    ``self``, ``cls`` or ``super()``,
    or the module defines ``_name`` itself; ``self._sklearn_...`` (state
    that scikit-learn keeps on our estimators) is one too. A compat module
    (``compat=True``) may do both: it holds the privates still needed.
    """
    if compat:
        return []
    tree = ast.parse(source)
    own = _own_names(tree) - {name for name in _own_names(tree) if "sklearn" in name}
    found = []
    for node in ast.walk(tree):
        node = _as_attribute(node)
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        owner = node.value
        on_self = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
        on_super = (
            isinstance(owner, ast.Call)
            and isinstance(owner.func, ast.Name)
            and owner.func.id == "super"
        )
        foreign_state = node.attr.startswith("_sklearn")
        if foreign_state or not (
            on_self or on_super or node.attr in own | CONVENTION_NAMES
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def private_module_reach_ins(importer, imports):
    """The imported sklstm modules that ``importer`` may not see.

    A private module (or package) ``a._b`` belongs to ``a``: modules inside
    ``a`` may import it. A private subpackage's modules (``sklstm._lstm._x``)
    are also open to the modules directly beside that subpackage (the
    estimators in ``sklstm``), not to the public subpackages (``onnx``,
    ``beijing``) nor to the gallery.
    """
    importer_package = importer.rpartition(".")[0]
    refused = []
    for line, target in imports:
        parts = target.split(".")
        if parts[0] != "sklstm":
            continue
        for index, part in enumerate(parts):
            if not _is_private(part):
                continue
            owner = ".".join(parts[:index])
            inside = importer == owner or importer.startswith(owner + ".")
            beside = (
                index >= 2
                and _is_private(parts[index - 1])
                and importer_package == ".".join(parts[: index - 1])
            )
            if not (inside or beside):
                if (line, target) not in refused:
                    refused.append((line, target))
                break
    return refused


def _relative(path):
    return path.relative_to(PACKAGE.parent).as_posix()


@pytest.mark.parametrize("path", MODULES + EXAMPLES, ids=_relative)
def test_no_reach_into_another_objects_private_names(path):
    found = private_reach_ins(path.read_text(), compat=path.name in COMPAT.values())
    assert not found, (
        f"{_relative(path)} reads private names of other objects: {found}. Read "
        "a public or fitted-network field, or move the access to a compat module."
    )


@pytest.mark.parametrize("path", MODULES + EXAMPLES, ids=_relative)
def test_private_modules_are_imported_inside_their_package(path):
    tree = ast.parse(path.read_text())
    importer = _module_name(path) if path.is_relative_to(PACKAGE) else path.stem
    if path.name == "__init__.py":
        importer += ".__init__"  # a package's __init__ is inside it
    refused = private_module_reach_ins(importer, _resolved_imports(path, tree))
    assert not refused, (
        f"{_relative(path)} imports private modules of another package: "
        f"{refused}. Import what that package makes public."
    )


def test_the_reach_in_rules_find_reach_ins():
    source = (
        "class A:\n"
        "    def f(self, model):\n"
        "        self._mine = model._label_binarizer\n"
        "        self._sklearn_output_config = {}\n"
        "        return self._mine, super()._g(), A._parameter_constraints\n"
        "    def g(self, windower):\n"
        "        return getattr(windower, '_fitted', None), getattr(self, '_mine')\n"
    )
    assert private_reach_ins(source) == [
        (3, "model._label_binarizer"),
        (4, "self._sklearn_output_config"),
        (7, "windower._fitted"),
    ]
    assert private_reach_ins(source, compat=True) == []
    imports = [
        (1, "sklstm._lstm._gates"),
        (2, "sklstm._fitted_network"),
        (3, "sklstm.beijing._models"),
    ]
    assert private_module_reach_ins("sklstm.onnx._lstm", imports) == [
        (1, "sklstm._lstm._gates"),
        (3, "sklstm.beijing._models"),
    ]
    assert private_module_reach_ins("sklstm._base", imports) == [
        (3, "sklstm.beijing._models")
    ]
    assert private_module_reach_ins("plot_example", imports) == imports


@pytest.mark.parametrize(
    "path", COMPILED_SOURCES, ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_compiled_sources_stay_readable(path):
    assert path.read_text().count("\n") <= 400, f"{path.name}: split this file"
