"""The layer rule of DESIGN.md ("Layers"), checked on the source.

Every module under ``src/defisim`` is parsed with :mod:`ast` (nothing is imported for
the layer rule) and every import of ``defisim`` counts: absolute and relative, at
module level, inside functions, and under ``if TYPE_CHECKING:``. No import is
exempt: a type-only import still ties the importing layer to the imported one, and
none of the current code needs an exemption.

Layers, bottom-up (:data:`LAYERS`); a module may import its own unit and any unit of
a lower layer, never a unit of its own layer or of a higher one:

- foundations, each on its own: ``numeric``, ``metrics``, ``store``, ``chain`` (DESIGN:
  they "import nothing else of defisim"), and the two utilities ``prices`` and
  ``progress``, which import nothing of defisim either, and ``extras`` (the optional
  dependencies, :func:`defisim.extras.require`);
- ``protocols``: each protocol (``protocols.futures``, ``protocols.governance``, ...)
  is a unit: it imports no other protocol; ``evm`` (contracts on an EVM, a chain
  protocol plug-in) sits beside them;
- ``service``; then the package root ``defisim/__init__.py`` (the public re-exports
  ``defisim.Simulation``, ... which import the service);
- ``agents``; ``scenarios``; ``runner`` and ``replay`` (beside it);
- ``server``; ``envs``; ``learning``; ``experiments`` (DESIGN's diagram top-down:
  cli / experiments / envs, learning / server / runner; ``learning`` is above
  ``envs`` since it trains on the environments); ``cli`` on top.

The second rule of DESIGN.md: "Agents, observations and scenarios act through
``Simulation`` ... and read state through its read-only views, never protocol
objects or the chain". :func:`test_agents_envs_and_scenarios_use_the_service_only`
checks ``defisim.agents``, ``defisim.envs`` (observations, actions, rewards) and
``defisim.scenarios`` for attribute reads named ``chain`` (``sim.chain``,
``self.sim.chain``, ``getattr(x, "chain")``), calls of ``.internal_market(``, imports
of protocol internals (anything but events, enums, constants, parameter models,
the ``types``/``events``/``params`` modules and type-only imports), and imports of
the chain's stateful objects (:data:`CHAIN_OBJECTS`).

Violations in the code today are listed, each with a comment, in
:data:`KNOWN_VIOLATIONS` and :data:`KNOWN_BOUNDARY_VIOLATIONS`: the tests pass with
them and fail on any new one, and fail when a listed one is gone (delete its entry).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "defisim"

LAYERS: list[tuple[str, ...]] = [
    ("numeric", "metrics", "store", "chain", "prices", "progress", "extras"),
    ("protocols", "evm"),  # evm: the EVM chain protocol (defisim.evm)
    ("evm_amm",),  # the AMM plug-in's cores on the official bytecode (joins the two)
    ("service",),
    ("",),  # the package root, defisim/__init__.py
    ("agents",),
    ("scenarios",),
    ("runner", "replay"),
    ("server",),
    ("envs",),
    ("learning",),
    ("experiments",),
    ("cli",),
]
"""Top-level parts of ``defisim`` by layer, bottom-up. Within a layer each part is a
unit of its own (and each protocol under ``protocols`` is one)."""

RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}

KNOWN_VIOLATIONS: set[tuple[str, str]] = set()
"""Upward or sideways imports in the code today: ``(module, imported module)``."""

KNOWN_BOUNDARY_VIOLATIONS: set[tuple[str, str]] = set()
"""Agents, observations or scenarios reaching past ``Simulation`` today:
``(module, what)``."""

CHAIN_OBJECTS = frozenset({"Chain", "ChainProtocol", "Protocol", "Ledger", "Mempool"})
"""The chain's stateful objects: an agent, observation or scenario holding one reads or
changes state behind ``Simulation``. Values and types (events, ``Transaction``,
``Receipt``, ``NS_PER_SECOND``, ``RandomStreams`` for ``Simulation.reseed``) are fine."""

PROTOCOL_TYPE_MODULES = frozenset({"types", "events", "params"})
"""Modules of a protocol that hold only its types and constants."""


# ---------------------------------------------------------------------- the scan
@dataclass(frozen=True)
class Import:
    """One import of ``defisim``: ``module`` imports ``target`` (a module of defisim),
    naming ``names`` from it (empty for ``import target``)."""

    module: str
    line: int
    target: str
    names: tuple[str, ...]
    type_checking: bool
    in_function: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    """Every module of ``src/defisim`` by dotted name."""
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = source_files()
PACKAGES = frozenset(m for m, p in MODULES.items() if p.name == "__init__.py")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, type_checking: bool = False, in_function: bool = False):
    """Every node with two flags: under ``if TYPE_CHECKING:``, inside a function."""
    for child in ast.iter_child_nodes(node):
        tc, fn = type_checking, in_function
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            fn = True
        yield child, tc, fn
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield stmt, True, fn
                yield from _walk(stmt, True, fn)
            for stmt in child.orelse:
                yield stmt, tc, fn
                yield from _walk(stmt, tc, fn)
        else:
            yield from _walk(child, tc, fn)


def imports_of(module: str, source: str, modules: Collection[str] | None = None,
               packages: Collection[str] | None = None) -> list[Import]:
    """The imports of ``defisim`` in ``source``, the text of ``module``.

    A relative import resolves against the module's package (``module`` itself when it
    is one of ``packages``); ``from package import name`` targets ``package.name`` when
    that is one of ``modules``, else ``package``."""
    modules = MODULES if modules is None else modules
    packages = PACKAGES if packages is None else packages
    package = module.split(".") if module in packages else module.split(".")[:-1]
    out = []
    for node, tc, fn in _walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "defisim" or a.name.startswith("defisim."):
                    out.append(Import(module, node.lineno, a.name, (), tc, fn))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == "defisim" or target.startswith("defisim.")):
                continue
            plain = []
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in modules:
                    out.append(Import(module, node.lineno, sub, (), tc, fn))
                else:
                    plain.append(a.name)
            if plain:
                out.append(Import(module, node.lineno, target, tuple(plain), tc, fn))
    return out


def all_imports() -> list[Import]:
    out = []
    for mod, path in MODULES.items():
        out.extend(imports_of(mod, path.read_text()))
    return out


def unit(module: str) -> str:
    """The unit of a module: its top-level part of defisim (``""`` for the root), or
    ``protocols.<name>`` for a protocol."""
    parts = module.split(".")
    if len(parts) == 1:
        return ""
    if parts[1] == "protocols" and len(parts) > 2:
        return f"protocols.{parts[2]}"
    return parts[1]


def rank(u: str) -> int:
    top = u.split(".")[0]
    if top not in RANK:
        raise KeyError(f"defisim.{top} is in no layer: add it to LAYERS in {__file__} "
                       f"(and to the diagram in DESIGN.md)")
    return RANK[top]


def allowed(importer: str, target: str) -> bool:
    a, b = unit(importer), unit(target)
    return a == b or rank(b) < rank(a)


def describe(i: Import) -> str:
    where = " (under TYPE_CHECKING)" if i.type_checking else " (inside a function)" if i.in_function else ""
    kind = "sideways" if rank(unit(i.target)) == rank(unit(i.module)) else "upward"
    return (f"{i.module}:{i.line} -> {i.target}{where}: {kind}, "
            f"layer of {unit(i.module) or 'defisim'} = {rank(unit(i.module))}, "
            f"of {unit(i.target) or 'defisim'} = {rank(unit(i.target))}")


def layer_violations() -> list[Import]:
    return [i for i in all_imports() if not allowed(i.module, i.target)]


# ---------------------------------------------------------------------- the layer rule
def test_every_package_is_in_a_layer():
    tops = {unit(m).split(".")[0] for m in MODULES}
    missing = sorted(t for t in tops if t not in RANK)
    assert not missing, f"packages in no layer (add them to LAYERS): {missing}"
    assert {"chain", "protocols", "service", "agents", "scenarios", "runner"} <= tops


def test_no_import_goes_up_or_sideways():
    found = layer_violations()
    new = [i for i in found if (i.module, i.target) not in KNOWN_VIOLATIONS]
    assert not new, (
        "imports that break the layer rule of DESIGN.md (a layer imports only its own unit "
        "and layers below it):\n  " + "\n  ".join(describe(i) for i in new))


def test_known_violations_are_still_there():
    """A fixed violation leaves KNOWN_VIOLATIONS: the set only shrinks."""
    found = {(i.module, i.target) for i in layer_violations()}
    gone = sorted(KNOWN_VIOLATIONS - found)
    assert not gone, f"fixed, delete from KNOWN_VIOLATIONS in {__file__}: {gone}"


@pytest.mark.parametrize("foundation", LAYERS[0])
def test_foundations_import_nothing_else_of_defisim(foundation):
    """chain, store, metrics, numeric (and prices, progress) import only themselves."""
    bad = [describe(i) for i in all_imports()
           if unit(i.module) == foundation and unit(i.target) != foundation]
    assert not bad, "\n".join(bad)


def test_no_protocol_imports_another():
    bad = [describe(i) for i in all_imports()
           if unit(i.module).startswith("protocols.") and unit(i.target).startswith("protocols")
           and unit(i.target) != unit(i.module)]
    assert not bad, "\n".join(bad)
    units = {unit(m) for m in MODULES if unit(m).startswith("protocols.")}
    assert {"protocols.futures", "protocols.governance"} <= units


def test_the_scan_sees_every_kind_of_import():
    """The resolver on a made-up module: relative imports (with and without a module
    part), ``from package import submodule``, imports inside functions and under
    ``TYPE_CHECKING``, and a dotted ``import``."""
    packages = {"defisim.chain", "defisim.runner", "defisim.scenarios", "defisim.service"}
    modules = packages | {"defisim.chain.ledger", "defisim.runner.fuzzing", "defisim.scenarios.fuzz"}
    src = (
        "from typing import TYPE_CHECKING\n"
        "import defisim.service\n"
        "from ..chain import ledger, Chain\n"
        "from . import base\n"
        "if TYPE_CHECKING:\n"
        "    from defisim.runner import Run\n"
        "def f():\n"
        "    from defisim.runner.fuzzing import after_run\n"
    )
    got = [(i.line, i.target, i.names, i.type_checking, i.in_function)
           for i in imports_of("defisim.scenarios.fuzz", src, modules, packages)]
    assert got == [
        (2, "defisim.service", (), False, False),
        (3, "defisim.chain.ledger", (), False, False),
        (3, "defisim.chain", ("Chain",), False, False),
        (4, "defisim.scenarios", ("base",), False, False),
        (6, "defisim.runner", ("Run",), True, False),
        (8, "defisim.runner.fuzzing", ("after_run",), False, True),
    ]
    assert [allowed("defisim.scenarios.fuzz", t) for _, t, *_ in got] == [
        True, True, True, True, False, False]
    assert not allowed("defisim.protocols.futures.market", "defisim.protocols.governance")
    assert allowed("defisim.protocols.futures.market", "defisim.protocols.futures.book")
    assert not allowed("defisim.chain.chain", "defisim.numeric")
    assert not allowed("defisim.chain", "defisim")
    assert allowed("defisim.runner.summary", "defisim")


# ---------------------------------------------------------------------- agents use the service
BOUNDARY = ("agents", "envs", "scenarios")
BOUNDARY_MODULES = frozenset({"defisim.server.live_data"})
"""Modules elsewhere held to the same rule (the server's live source reads a running
simulation through its views only)."""


def _protocol_name_ok(obj: object, imp: Import) -> bool:
    """Whether ``obj``, imported from a protocol, is a type or a constant."""
    if isinstance(obj, ModuleType):
        return obj.__name__.rsplit(".", 1)[-1] in PROTOCOL_TYPE_MODULES
    if isinstance(obj, str | int | float | bool | frozenset | tuple | bytes):
        return True
    if inspect.isclass(obj):
        if imp.type_checking:  # an annotation: a type by definition
            return True
        from pydantic import BaseModel

        from defisim.chain.events import Event

        if issubclass(obj, Event | Enum | BaseModel):
            return True
        return obj.__module__.rsplit(".", 1)[-1] in PROTOCOL_TYPE_MODULES
    return False


def _attribute_reads(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "chain":
            out.append((node.lineno, "reads .chain"))
        elif isinstance(node, ast.Attribute) and node.attr == "internal_market":
            out.append((node.lineno, "calls .internal_market("))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in ("chain", "internal_market")):
            out.append((node.lineno, f"reads .{node.args[1].value} through {node.func.id}"))
    return sorted(out)


def boundary_violations() -> list[tuple[str, int, str]]:
    """``(module, line, what)`` for every way an agent, observation or scenario module
    reaches past ``Simulation``."""
    out = []
    for mod, path in MODULES.items():
        if unit(mod) not in BOUNDARY and mod not in BOUNDARY_MODULES:
            continue
        tree = ast.parse(path.read_text())
        out.extend((mod, line, what) for line, what in _attribute_reads(tree))
        for imp in imports_of(mod, path.read_text()):
            u = unit(imp.target)
            if u.startswith("protocols"):
                if not imp.names:
                    obj = importlib.import_module(imp.target)
                    if not _protocol_name_ok(obj, imp):
                        out.append((mod, imp.line, f"imports {imp.target} (protocol internals)"))
                    continue
                m = importlib.import_module(imp.target)
                for n in imp.names:
                    if not _protocol_name_ok(getattr(m, n), imp):
                        out.append((mod, imp.line, f"imports {imp.target}.{n} (protocol internals)"))
            elif u == "chain":
                if imp.target in ("defisim.chain.chain", "defisim.chain.ledger", "defisim.chain.mempool"):
                    if not imp.names or any(n in CHAIN_OBJECTS for n in imp.names):
                        out.append((mod, imp.line, f"imports {imp.target} (a chain object)"))
                    continue
                for n in imp.names:
                    if n in CHAIN_OBJECTS:
                        out.append((mod, imp.line, f"imports defisim.chain.{n} (a chain object)"))
    return out


def test_agents_envs_and_scenarios_use_the_service_only():
    found = boundary_violations()
    new = [v for v in found if (v[0], v[2]) not in KNOWN_BOUNDARY_VIOLATIONS]
    assert not new, (
        "agents, observations and scenarios act through Simulation and its views, never "
        "the chain or protocol objects (DESIGN.md, Layers):\n  "
        + "\n  ".join(f"{m}:{line}: {what}" for m, line, what in new))


def test_known_boundary_violations_are_still_there():
    found = {(m, what) for m, _, what in boundary_violations()}
    gone = sorted(KNOWN_BOUNDARY_VIOLATIONS - found)
    assert not gone, f"fixed, delete from KNOWN_BOUNDARY_VIOLATIONS in {__file__}: {gone}"


def test_the_boundary_check_catches_what_it_should():
    tree = ast.parse("def step(self, sim):\n"
                     "    sim.chain.ledger\n"
                     "    sim.futures.internal_market('M')\n"
                     "    getattr(sim, 'chain')\n"
                     "    sim.futures.market_view('M')\n")
    assert _attribute_reads(tree) == [
        (2, "reads .chain"), (3, "calls .internal_market("), (4, "reads .chain through getattr")]
    from defisim.protocols import futures

    typ = Import("m", 1, "defisim.protocols.futures", ("X",), False, False)
    ok = [futures.TradeExecuted, futures.OrderStatus, futures.MarketConfig,
          futures.accounts.NETWORK_PARTY, futures.types]
    bad = [futures.FuturesMarket, futures.FuturesProtocol, futures.OrderBook, futures.accounts,
           futures.accounts.margin, futures.PartyState]
    assert [_protocol_name_ok(o, typ) for o in ok] == [True] * len(ok)
    assert [_protocol_name_ok(o, typ) for o in bad] == [False] * len(bad)
    only_type = Import("m", 1, "defisim.protocols.futures", ("X",), True, False)
    assert _protocol_name_ok(futures.OrderResult, only_type)
