"""The shape of the tree, read from the source: who may import whom, and no import cycles.

The import graph is built with ``ast`` from every module of ``bot``, ``db``, ``sandbox`` and
``lessons``: every ``import`` counts, at module level or inside a function, except those
under ``if TYPE_CHECKING:`` (they never run). ``from package import module`` is an edge to
that module; ``from module import name`` an edge to the module. The rules are the README's
architecture map.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "db", "sandbox", "lessons")
# code that runs inside the sandbox, not in the bot's process
INSIDE_SANDBOX = {"sandbox.launcher"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, ...]]:
    """What this code imports when it runs: ``(module,)`` or ``(module, name, ...)``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                yield from _imports(child, module, is_package)
            continue
        if isinstance(node, ast.Import):
            yield from ((alias.name,) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            yield (prefix, *(alias.name for alias in node.names))
        yield from _imports(node, module, is_package)


def _targets(found: tuple[str, ...], modules: set[str] | None = None) -> Iterator[str]:
    """The modules an import statement depends on (all dotted names when ``modules`` is
    None: for rules on third-party packages)."""
    prefix, *names = found
    if modules is None:
        yield prefix
        yield from (f"{prefix}.{name}" for name in names)
        return
    if not names:
        yield prefix
    for name in names:
        yield f"{prefix}.{name}" if f"{prefix}.{name}" in modules else prefix


@cache
def graph() -> dict[str, set[str]]:
    """Module → the modules of the project it imports (only names that are modules)."""
    files = {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    edges: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            name
            for found in _imports(tree, module, path.name == "__init__.py")
            for name in _targets(found, set(files))
        }
        edges[module] = {name for name in names if name in files and name != module}
    return edges


@cache
def all_imports() -> dict[str, set[str]]:
    """Module → every top-level name it imports (third-party included)."""
    result: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {
                name
                for found in _imports(tree, module, path.name == "__init__.py")
                for name in _targets(found)
            }
            result[module] = {name for name in names if name}
    return result


def _offenders(source_prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in all_imports().items()
        if module == source_prefix or module.startswith(source_prefix + ".")
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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
    return found


def test_the_graph_sees_the_tree() -> None:
    """A sanity check on the reader itself, so the rules below can fail."""
    edges = graph()
    assert "bot.core" in edges and "bot.commands" in edges["bot.core"]
    assert "sandbox.core" in edges
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _offenders("bot.services", ("discord",)) == []
    assert _offenders("bot.adapters.discord", ("discord",)) != []


def test_function_level_imports_count_and_type_checking_ones_do_not() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.core import Core\n"
        "def later():\n    from bot.services import rotation\n"
        "from . import sibling\n"
    )
    found = [
        name
        for item in _imports(ast.parse(source), "bot.services.members", False)
        for name in _targets(item, {"bot.services.rotation", "bot.services.sibling"})
    ]
    assert found == ["typing", "bot.services.rotation", "bot.services.sibling"]


def test_no_import_cycles_between_modules() -> None:
    assert _cycles(graph()) == []


def test_services_import_no_front_end_and_no_runtime_above_them() -> None:
    forbidden = (
        "discord",
        "bot.adapters",
        "bot.core",
        "bot.commands",
        "bot.app",
        "bot.cli",
        "bot.schedule",
    )
    assert _offenders("bot.services", forbidden) == []


def test_sandbox_imports_nothing_of_the_bot_or_the_lessons() -> None:
    assert _offenders("sandbox", ("bot", "lessons", "discord", "db")) == []


def test_lessons_import_nothing_of_the_bot_or_the_sandbox() -> None:
    assert _offenders("lessons", ("bot", "sandbox", "discord", "db")) == []


def test_db_imports_only_the_settings_of_the_bot() -> None:
    """Alembic, run by hand without a URL, reads it from the app's settings; nothing else
    in ``db`` knows the bot."""
    offenders = _offenders("db", ("bot", "sandbox", "lessons", "discord"))
    assert offenders == [
        "db.migrations.env imports bot.config",
        "db.migrations.env imports bot.config.Settings",
    ]


def test_only_the_discord_adapter_imports_discord() -> None:
    everywhere = _offenders("bot", ("discord",))
    assert [line for line in everywhere if not line.startswith("bot.adapters.discord")] == []


def test_the_bot_process_never_imports_torch() -> None:
    offenders = [
        line
        for package in ("bot", "db", "sandbox")
        for line in _offenders(package, ("torch", "numpy"))
        if line.split(" ")[0] not in INSIDE_SANDBOX
    ]
    assert offenders == []
