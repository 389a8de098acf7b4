"""Engines -> their declarations and adapter classes.

Built-in engines are the packages under ``adapters/`` with an ``engine.py`` declaring ``ENGINE``
(``connector.engines.EngineDeclaration``): adding one touches its package only. Other packages add engines through
the ``afq.adapters`` entry-point group, so ``pip install`` of an adapter package makes ``myengine://...`` work; an
entry point names either an ``EngineDeclaration`` or, as before declarations existed, the adapter class itself.

A built-in resolves by importing its small ``engine`` module only, without scanning installed distributions (that
scan costs cold-start time); entry points are consulted only for an engine that is not built in. A Ping reports
the adapter's ``source_type`` from the declaration, so answering it imports no adapter (with its pyarrow and
sqlglot).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from connector.engines import ENGINE_NAME, EngineDeclaration
from connector.errors import ConfigurationError

if TYPE_CHECKING:
    from connector.adapter import Adapter

ENTRY_POINT_GROUP = "afq.adapters"
#: The package holding the built-in adapters, one sub-package per engine.
BUILTIN_PACKAGE = "adapters"


def _import(target: str, engine: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigurationError(
            f"engine {engine!r} needs a package that is not installed ({e.name or e}); install this adapter's "
            f"extra, e.g. pip install 'athena-federation-py[{engine}]'") from None
    return getattr(module, attr)


@cache
def _builtin(name: str) -> EngineDeclaration | None:
    if not ENGINE_NAME.fullmatch(name):
        return None
    module = f"{BUILTIN_PACKAGE}.{name}.engine"
    try:
        spec = importlib.util.find_spec(module)
    except ImportError:  # no adapters.<name> package
        return None
    if spec is None:
        return None
    declaration = getattr(importlib.import_module(module), "ENGINE", None)
    if not isinstance(declaration, EngineDeclaration) or declaration.name != name:
        raise ConfigurationError(f"{module}.ENGINE must be an EngineDeclaration named {name!r}")
    return declaration


def builtin_engines() -> dict[str, EngineDeclaration]:
    """Every built-in engine: the packages under ``adapters/`` that declare one."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    names = sorted({entry for directory in package.__path__ for entry in os.listdir(directory)
                    if os.path.isfile(os.path.join(directory, entry, "engine.py"))})
    return {name: declaration for name in names if (declaration := _builtin(name)) is not None}


@cache
def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name.lower(): ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


@cache
def _plugin(name: str) -> EngineDeclaration | None:
    target = _plugins().get(name)
    if target is None:
        return None
    loaded = _import(target, name)
    if isinstance(loaded, EngineDeclaration):
        return loaded
    # An entry point naming the adapter class: a declaration without settings, bundle or docs.
    return EngineDeclaration(name=name, adapter=target, source_type=loaded.source_type,
                             summary=f"{name} (entry point {target})", example=f"{name}://...")


def known_engines() -> list[str]:
    return sorted(set(builtin_engines()) | set(_plugins()))


def declaration(engine: str) -> EngineDeclaration:
    """The engine's declaration: a built-in package's, else an ``afq.adapters`` entry point's."""
    name = engine.lower()
    found = _builtin(name) or _plugin(name)
    if found is None:
        raise ConfigurationError(
            f"unknown engine {engine!r} in the connection string; known engines: {', '.join(known_engines())} "
            f"(adapter packages register more through the {ENTRY_POINT_GROUP!r} entry-point group)")
    return found


def adapter_class(engine: str) -> type[Adapter]:
    found = declaration(engine)
    adapter: type[Adapter] = _import(found.adapter, found.name)
    return adapter


def source_type_of(engine: str) -> str:
    """The ``source_type`` of the engine's adapter, without importing its adapter module."""
    return declaration(engine).source_type
