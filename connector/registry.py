"""Engines -> adapter classes. Built-ins are listed here; other packages add engines through the
``afq.adapters`` entry-point group, so ``pip install`` of an adapter package makes ``myengine://...`` work.

Built-ins resolve without scanning installed distributions (that scan costs cold-start time); entry points are
consulted only for an engine that is not built in. A Ping reports the adapter's ``source_type``: for built-ins
it is declared here too, so answering a Ping imports no adapter (with its pyarrow and sqlglot).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from connector.errors import ConfigurationError

if TYPE_CHECKING:
    from connector.adapter import Adapter

ENTRY_POINT_GROUP = "afq.adapters"

BUILTIN_ENGINES: dict[str, str] = {
    "sqlite": "adapters.sqlite.adapter:SqliteAdapter",
    "jdbc": "adapters.jdbc.adapter:JdbcAdapter",
    "oracle": "adapters.oracle.adapter:OracleAdapter",
    "snowflake": "adapters.snowflake.adapter:SnowflakeAdapter",
    "teradata": "adapters.teradata.adapter:TeradataAdapter",
}
#: ``source_type`` of each built-in adapter class (tests/packaging/test_cold_start.py checks they agree).
BUILTIN_SOURCE_TYPES: dict[str, str] = {
    "sqlite": "sqlite", "jdbc": "jdbc", "oracle": "oracle", "snowflake": "snowflake", "teradata": "teradata",
}


def _load(target: str, engine: str) -> type[Adapter]:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigurationError(
            f"engine {engine!r} needs a package that is not installed ({e.name or e}); install this adapter's "
            f"extra, e.g. pip install 'athena-federation-py[{engine}]'") from None
    adapter: type[Adapter] = getattr(module, attr)
    return adapter


@cache
def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name.lower(): ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_engines() -> list[str]:
    return sorted(set(BUILTIN_ENGINES) | set(_plugins()))


def adapter_class(engine: str) -> type[Adapter]:
    name = engine.lower()
    target = BUILTIN_ENGINES.get(name) or _plugins().get(name)
    if target is None:
        raise ConfigurationError(
            f"unknown engine {engine!r} in the connection string; known engines: {', '.join(known_engines())} "
            f"(adapter packages register more through the {ENTRY_POINT_GROUP!r} entry-point group)")
    return _load(target, name)


def source_type_of(engine: str) -> str:
    """The ``source_type`` of the engine's adapter, without importing a built-in one."""
    declared = BUILTIN_SOURCE_TYPES.get(engine.lower())
    return declared if declared is not None else adapter_class(engine).source_type
