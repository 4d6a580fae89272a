"""The structure's rules, read from the imports, so they stay true as the code grows.

- No import cycles between our modules.
- Only a platform's own package imports its SDK (slack_bolt/slack_sdk, the Teams SDK), and no
  platform package imports another.
- Nothing under bot/ imports handlers/ except the composition root (cli, demo, wiring).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers")
COMPOSITION_ROOT = {"bot.cli", "bot.demo", "bot.wiring"}
PLATFORM_SDKS = {
    "handlers.slack": ("slack_bolt", "slack_sdk"),
    "handlers.teams": ("microsoft_teams", "botbuilder", "botframework", "microsoft_agents"),
    "handlers.console": (),
}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports, anywhere in the file (lazy imports count too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from bot.chat import outbox` imports the module bot.chat.outbox.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _ours(imported: str) -> str | None:
    """The module of ours an import names (the longest known prefix), if any."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


GRAPH = {
    name: {m for i in _imports(name, path) if (m := _ours(i)) and m != name}
    for name, path in MODULES.items()
}
EXTERNAL = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _platform_of(module: str) -> str | None:
    return next((p for p in PLATFORM_SDKS if module == p or module.startswith(p + ".")), None)


def test_the_rules_see_the_whole_tree() -> None:
    assert {"bot.runtime", "bot.wiring", "handlers.commands.dispatcher"} <= set(MODULES)
    assert "bot.runtime" in GRAPH["bot.wiring"]


def test_no_import_cycles() -> None:
    # A module imports its package's __init__ implicitly; those edges are not cycles of ours.
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_only_a_platforms_package_imports_its_sdk() -> None:
    wrong = []
    for module, imported in EXTERNAL.items():
        home = _platform_of(module)
        for platform, sdks in PLATFORM_SDKS.items():
            for name in imported:
                if name.split(".")[0] in sdks and home != platform:
                    wrong.append(f"{module} imports {name}")
    assert wrong == []


def test_platform_packages_do_not_import_each_other() -> None:
    wrong = [
        f"{module} imports {dep}"
        for module, deps in GRAPH.items()
        for dep in deps
        if (home := _platform_of(module)) and (other := _platform_of(dep)) and other != home
    ]
    assert wrong == []


def test_only_the_composition_root_in_bot_imports_handlers() -> None:
    wrong = [
        f"{module} imports {dep}"
        for module, deps in GRAPH.items()
        if module.startswith("bot") and module not in COMPOSITION_ROOT
        for dep in deps
        if dep.startswith("handlers")
    ]
    assert wrong == []


def test_nothing_imports_the_composition_root_but_itself() -> None:
    wrong = [
        f"{module} imports {dep}"
        for module, deps in GRAPH.items()
        if module not in COMPOSITION_ROOT and module != "bot.__main__"
        for dep in deps
        if dep in COMPOSITION_ROOT
    ]
    assert wrong == []
