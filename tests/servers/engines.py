"""Session fixtures for the three engines of the SQL framework tests: SQLite (file), PostgreSQL (the throwaway
cluster of ``tests.servers.postgres``, in a database whose default collation is ICU en-US, so string ordering
really differs from Athena's) and H2 (embedded through its jar, a file database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.postgres import PostgresServer
from tests.support.sql_engines import Engine, h2_engine, postgres_engine, sqlite_engine

ENGINE_NAMES = ("sqlite", "postgres", "h2")


@pytest.fixture(scope="session")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path_factory.mktemp("sqlite"))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def postgres_db(postgres_server: PostgresServer) -> Iterator[Engine]:
    database = postgres_server.create_database("afq_icu", icu_locale="en-US")
    engine = postgres_engine(postgres_server, database)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def h2_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = h2_engine(tmp_path_factory.mktemp("h2"))
    yield engine
    engine.close()


@pytest.fixture(scope="session", params=ENGINE_NAMES)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each of the three engines in turn."""
    engine: Engine = request.getfixturevalue(f"{request.param}_db")
    return engine
