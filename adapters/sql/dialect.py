"""The dialect of a database an adapter reads through its catalog: the pushdown dialect plus its type map.

``SqlDialect`` (``connector.pushdown.sql``) says what a database evaluates exactly as Athena does and how to say
it; this adds what only an adapter needs - how the catalog's type names read as Arrow - so that everything
per database is declared in one class.
"""

from __future__ import annotations

from typing import ClassVar

from adapters.sql.types import TypeMap
from connector.engines import SettingValues
from connector.pushdown.sql import SqlDialect


class SourceDialect(SqlDialect):
    #: Source type names -> Arrow types.
    type_map: ClassVar[TypeMap] = TypeMap({})

    def type_map_for(self, options: SettingValues) -> TypeMap:
        """The type map under the engine's parsed settings: ``type_map`` itself unless the dialect's map depends
        on a setting (JDBC's ``default_scale``), when it builds it here. The adapter asks once and keeps the
        answer: a map remembers the unmapped types it has met."""
        return self.type_map


__all__ = ["SourceDialect"]
