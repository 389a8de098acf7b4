"""Which dialect a JDBC URL gets: by its subprotocol, the generic one for databases without their own."""

from __future__ import annotations

from adapters.jdbc.dialects.generic import JdbcDialect, subprotocol_of
from adapters.jdbc.dialects.h2 import H2Dialect
from adapters.jdbc.dialects.postgres import PostgresDialect

DIALECTS: dict[str, type[JdbcDialect]] = {"postgresql": PostgresDialect, "h2": H2Dialect}


def dialect_for(url: str) -> JdbcDialect:
    subprotocol = subprotocol_of(url)
    return DIALECTS.get(subprotocol, JdbcDialect)(subprotocol)
