"""The arrows point one way: each room imports only what `docs/ARCHITECTURE.md` allows.

The imports of every module are read with `ast` (no module is executed), relative imports
resolved, so a rule broken anywhere in a room fails here with the module and the import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gateway"


@dataclass(frozen=True)
class Rule:
    room: str  # a module or package, dotted
    forbidden: tuple[str, ...]  # modules (and their submodules) it must not import
    why: str


UPSTREAM_INTERNALS = (
    "gateway.upstream.client",
    "gateway.upstream.transport",
    "gateway.upstream.pages",
    "gateway.upstream.contract",
    "gateway.upstream.retry",
    "httpx",
)
RULES = (
    Rule("gateway.schema", UPSTREAM_INTERNALS, "resolvers reach the upstream only via loaders"),
    Rule("gateway.loaders", ("gateway.schema", "gateway.http", "gateway.app"), "loaders sit below"),
    Rule(
        "gateway.live",
        (
            "gateway.schema",
            "gateway.http",
            "gateway.app",
            "gateway.context",
            *UPSTREAM_INTERNALS[:3],
            "httpx",
        ),
        "live polls read through the loaders, like requests",
    ),
    Rule(
        "gateway.upstream",
        ("gateway.schema", "gateway.loaders", "gateway.context", "gateway.http", "gateway.app"),
        "the client knows nothing of GraphQL",
    ),
    Rule("gateway.plans", ("gateway.upstream", "gateway.loaders"), "plans run resolvers only"),
    Rule("gateway.ops", ("gateway.schema", "gateway.loaders"), "operations watch, never resolve"),
    Rule(
        "gateway.shared",
        (
            "gateway.schema",
            "gateway.loaders",
            "gateway.context",
            "gateway.http",
            "gateway.app",
            "gateway.upstream",
            "gateway.live",
        ),
        "shared state is a store, below every feature that keeps keys in it",
    ),
    Rule("gateway.emulator", ("gateway",), "the far side of the wire shares no code"),
    Rule("gateway.config", ("gateway",), "the edge config imports nothing of ours"),
    Rule("gateway.errors", ("gateway",), "the error tree imports nothing of ours"),
    Rule("gateway.upstream.contract", ("gateway",), "the contract imports nothing of ours"),
)


def modules_of(room: str) -> list[Path]:
    path = PACKAGE.parent.joinpath(*room.split("."))
    if path.is_dir():
        return sorted(path.rglob("*.py"))
    return [path.with_suffix(".py")]


def dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every module `source` imports, absolute, relative imports resolved against `module`."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def breaks(rule: Rule, imported: str) -> bool:
    for forbidden in rule.forbidden:
        if imported == forbidden or imported.startswith(forbidden + "."):
            # A room may import itself: the emulator its own modules, and so on.
            own = imported == rule.room or imported.startswith(rule.room + ".")
            return not own
    return False


def violations(rule: Rule) -> list[str]:
    found = []
    for path in modules_of(rule.room):
        module = dotted(path)
        source = path.read_text(encoding="utf-8")
        for imported in sorted(imports_of(source, module, is_package=path.name == "__init__.py")):
            if breaks(rule, imported):
                found.append(f"{module} imports {imported}")
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.room)
def test_the_room_imports_only_what_it_may(rule: Rule) -> None:
    assert violations(rule) == [], rule.why


def test_the_rules_see_relative_and_absolute_imports() -> None:
    source = "from gateway.upstream.client import UpstreamClient\nfrom ..upstream import pages\n"
    imported = imports_of(source, "gateway.schema.location", is_package=False)
    schema_rule = RULES[0]
    assert {"gateway.upstream.client", "gateway.upstream.pages"} <= imported
    assert [i for i in sorted(imported) if breaks(schema_rule, i)] == [
        "gateway.upstream.client",
        "gateway.upstream.client.UpstreamClient",
        "gateway.upstream.pages",
    ]
    emulator_rule = next(rule for rule in RULES if rule.room == "gateway.emulator")
    relative = imports_of("from .state import X\n", "gateway.emulator.app", is_package=False)
    assert not any(breaks(emulator_rule, i) for i in relative)
    assert breaks(emulator_rule, "gateway.upstream.models")
