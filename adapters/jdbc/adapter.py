"""Generic JDBC: any database with a JDBC driver, through JPype (and jaydebeapi's DB-API wrapper).

Connection strings::

    jdbc://jdbc:postgresql://host:5432/db?${my-secret}      user/password from Secrets Manager
    jdbc://jdbc:postgresql://host:5432/db?user=u&password=p  inline (not recommended)
    jdbc://jdbc:h2:/var/task/data/demo                        H2, embedded (no server)

Settings (``jdbc_driver_class``, ``jdbc_driver_jars``, ``jdbc_fetch_size``, ``jdbc_fetch_mode``,
``key_range_splits``...) are declared in ``adapters.jdbc.engine`` and listed in docs/jdbc.md; ``<catalog>_<setting>``
wins over the plain name, so multiplexed catalogs can use different drivers. ``jdbc_driver_class`` defaults by JDBC
subprotocol (``postgresql`` -> ``org.postgresql.Driver``, ``h2`` -> ``org.h2.Driver``); other subprotocols must set
it.

``JAVA_HOME``
    Which JVM JPype loads (default: the system's).

The JVM, driver loading and per-value reads are in ``adapters.jdbc.driver``, columnar reads in
``adapters.jdbc.columnar`` (the Java helper: ``adapters.jdbc.helper``); what each database evaluates exactly, and its
types, in ``adapters.jdbc.dialects``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pyarrow as pa

from adapters.jdbc.columnar import ColumnarReader
from adapters.jdbc.dialects.generic import JdbcColumnInfo, JdbcDialect, subprotocol_of
from adapters.jdbc.dialects.lookup import dialect_for
from adapters.jdbc.driver import (
    DEFAULT_DRIVERS,
    DEFAULT_JAR_DIR,
    build_array,
    dbapi_converters,
    expand_jars,
    java_message,
    load_driver,
    make_reader,
    prepare_jaydebeapi,
    start_jvm,
    to_java,
)
from adapters.jdbc.engine import ENGINE
from adapters.jdbc.helper import HelperUnavailable, helper_class
from adapters.sql.adapter import CasingMode, SqlAdapter
from adapters.sql.keyrange import KeyRangeSplits
from adapters.sql.types import ColumnInfo, int_or_none
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.credentials import credentials_for
from connector.errors import ConfigurationError, ConnectorError, SourceError
from connector.protocol.types import empty_batch
from connector.pushdown.sql import SourceColumn, SourceQuery
from connector.redact import scrub

log = logging.getLogger("afq.jdbc")


class JdbcAdapter(KeyRangeSplits, SqlAdapter):
    engine = ENGINE
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    validation_timeout_seconds: ClassVar[int] = 5

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url = spec.url_without_secrets()
        self.subprotocol = subprotocol_of(spec.url)
        self._dialect = dialect_for(spec.url)
        default_class, default_jar = DEFAULT_DRIVERS.get(self.subprotocol, ("", ""))
        self.driver_class = self.options.text("jdbc_driver_class") or default_class
        if not self.driver_class:
            raise ConfigurationError(f"no default JDBC driver for jdbc:{self.subprotocol}: set "
                                     f"jdbc_driver_class (and jdbc_driver_jars) for catalog {spec.catalog!r}")
        self.jar_spec = self.options.text("jdbc_driver_jars") or (
            os.path.join(DEFAULT_JAR_DIR, default_jar) if default_jar else "")
        self.jvm_options = self.options.text("jdbc_jvm_options").split()
        self.fetch_size = self.options.number("jdbc_fetch_size")
        self.fetch_mode = self.options.text("jdbc_fetch_mode")
        self._warned_values = False
        self._driver: Any = None

    @property
    def dialect(self) -> JdbcDialect:
        """The dialect of the database the URL names (its JDBC subprotocol): one adapter class serves many."""
        return self._dialect

    # ------------------------------------------------------------------------------------- connections

    def driver(self) -> Any:
        if self._driver is None:
            jars = expand_jars(self.jar_spec) if self.jar_spec else []
            start_jvm(jars, self.jvm_options)
            self._driver = load_driver(self.driver_class, jars)
        return self._driver

    def connect(self) -> Any:
        import jaydebeapi
        import jpype

        driver = self.driver()
        properties = jpype.JClass("java.util.Properties")()
        for key, value in self.dialect.connection_properties.items():
            properties.setProperty(key, value)
        credentials = credentials_for(self.spec)
        if credentials is not None:
            if credentials.username:
                properties.setProperty("user", credentials.username)
            if credentials.password:
                properties.setProperty("password", credentials.password)
            self._secret_values = tuple(v for v in (credentials.password,) if v)
        try:
            jconn = driver.connect(self.url, properties)
        except Exception as e:
            raise SourceError(f"cannot connect to {self._redacted_url()}: "
                              f"{scrub(java_message(e), self._secret_values)}") from None
        if jconn is None:
            raise ConfigurationError(f"JDBC driver {self.driver_class} does not accept the URL "
                                     f"{self._redacted_url()}")
        prepare_jaydebeapi()
        return jaydebeapi.Connection(jconn, dbapi_converters())

    def is_alive(self, connection: Any) -> bool:
        try:
            return bool(connection.jconn.isValid(self.validation_timeout_seconds))
        except Exception:  # a closed or broken connection
            return False

    def _redacted_url(self) -> str:
        return self.spec.redacted().split("://", 1)[1] if "://" in self.spec.redacted() else "the database"

    def error_fields(self, error: BaseException) -> dict[str, str]:
        """The Java exception's own message (jaydebeapi wraps it), under the JDBC subprotocol's name."""
        text = java_message(error)
        return {**super().error_fields(error), "source": self.subprotocol, "text": text, "detail": text}

    def execute(self, connection: Any, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        values = [to_java(v) for v in params] if isinstance(params, Sequence) else params
        return super().execute(connection, sql, values)

    # ------------------------------------------------------------------------------------- catalog

    def _metadata_rows(self, connection: Any, result_set: Any, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        rows = []
        try:
            while result_set.next():
                rows.append(tuple(result_set.getObject(c) for c in columns))
        finally:
            result_set.close()
        return [tuple(None if v is None else (str(v) if not isinstance(v, int | bool) else v) for v in r)
                for r in rows]

    def _escape(self, connection: Any, name: str) -> str:
        escape = str(connection.jconn.getMetaData().getSearchStringEscape() or "")
        if not escape:
            return name
        return "".join(escape + ch if ch in (escape, "_", "%") else ch for ch in name)

    def query_schemas(self, connection: Any) -> list[str]:
        try:
            result = connection.jconn.getMetaData().getSchemas()
            return [r[0] for r in self._metadata_rows(connection, result, ["TABLE_SCHEM"]) if r[0]]
        except ConnectorError:
            raise
        except Exception as e:
            raise self.translate_error(e) from None

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        dialect = self.dialect
        if dialect.tables_sql:
            return [r[0] for r in self.query(connection, dialect.tables_sql, [schema] * dialect.tables_schema_params)]
        try:
            result = connection.jconn.getMetaData().getTables(None, self._escape(connection, schema), "%", None)
            rows = self._metadata_rows(connection, result, ["TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"])
        except Exception as e:
            raise self.translate_error(e) from None
        kinds = {"TABLE", "BASE TABLE", "VIEW", "MATERIALIZED VIEW", "FOREIGN TABLE", "PARTITIONED TABLE",
                 "EXTERNAL TABLE", "SYNONYM"}
        return sorted(r[1] for r in rows if r[0] == schema and str(r[2] or "").upper() in kinds)

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        dialect = self.dialect
        if not dialect.tables_page_sql:
            return super().query_tables_page(connection, schema, limit, offset)
        params = [schema] * dialect.tables_schema_params + [limit, offset]
        return [r[0] for r in self.query(connection, dialect.tables_page_sql, params)]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        try:
            result = connection.jconn.getMetaData().getColumns(
                None, self._escape(connection, schema), self._escape(connection, table), "%")
            rows = self._metadata_rows(connection, result, [
                "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE",
                "DECIMAL_DIGITS", "NULLABLE", "ORDINAL_POSITION"])
        except Exception as e:
            raise self.translate_error(e) from None
        rows = sorted((r for r in rows if r[0] == schema and r[1] == table), key=lambda r: int(r[8]))
        dialect = self.dialect
        collations: dict[str, str] = {}
        if dialect.collations_sql and rows:
            collations = {str(name): str(collation or "")
                          for name, collation in self.query(connection, dialect.collations_sql, [schema, table])}
        return [JdbcColumnInfo(r[2], str(r[4] or ""), int_or_none(r[5]), int_or_none(r[6]), int(r[7]) != 0,
                               collations.get(r[2], ""), jdbc_type=int(r[3])) for r in rows]

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        try:
            result = connection.jconn.getMetaData().getTables(
                None, self._escape(connection, schema), self._escape(connection, table), None)
            rows = self._metadata_rows(connection, result, ["TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE"])
        except Exception as e:
            raise self.translate_error(e) from None
        return any(r[0] == schema and r[1] == table and "VIEW" in str(r[2] or "").upper() for r in rows)

    def query_primary_key(self, connection: Any, schema: str, table: str) -> list[str]:
        try:
            result = connection.jconn.getMetaData().getPrimaryKeys(None, schema, table)
            rows = self._metadata_rows(connection, result, ["COLUMN_NAME", "KEY_SEQ"])
        except Exception as e:
            raise self.translate_error(e) from None
        return [r[0] for r in sorted(rows, key=lambda r: int(r[1]))]

    # ------------------------------------------------------------------------------------- records

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """Typed getters straight into Arrow, streaming (``fetch_size`` rows per round trip): in columnar batches
        through the Java helper, or value by value without it."""
        jconn = connection.jconn
        dialect = self.dialect
        in_transaction = False
        statement = result = None
        try:
            if dialect.stream_in_transaction and jconn.getAutoCommit():
                jconn.setAutoCommit(False)
                in_transaction = True
            statement = jconn.prepareStatement(query.sql)
            statement.setFetchSize(self.fetch_size)
            params = query.params if isinstance(query.params, Sequence) else list(query.params.values())
            for i, value in enumerate(params, 1):
                statement.setObject(i, to_java(value))
            result = statement.executeQuery()
            reader_class = self._columnar_reader_class()
            if reader_class is not None:
                yield from ColumnarReader(reader_class, result, query.columns).batches(
                    self.initial_fetch_rows, self.target_batch_bytes)
            else:
                yield from self._value_batches(result, query.columns)
        except ConnectorError:
            raise
        except Exception as e:
            raise self.translate_error(e) from None
        finally:
            for closable in (result, statement):
                if closable is not None:
                    try:
                        closable.close()
                    except Exception as e:  # closing after a failure may fail again
                        log.debug("closing a JDBC resource failed: %s", type(e).__name__)
            if in_transaction:
                try:
                    jconn.rollback()
                    jconn.setAutoCommit(True)
                except Exception as e:  # the connection is broken: the pool drops it on validation
                    log.debug("ending a read transaction failed: %s", type(e).__name__)

    def _columnar_reader_class(self) -> Any:
        """The Java helper class for columnar reads, or None to read value by value (``jdbc_fetch_mode``)."""
        if self.fetch_mode == "values":
            return None
        try:
            return helper_class()
        except HelperUnavailable as e:
            if self.fetch_mode == "columnar":
                raise ConfigurationError(f"jdbc_fetch_mode=columnar: {e}") from None
            if not self._warned_values:
                self._warned_values = True
                log.warning("reading JDBC values one at a time (slower): %s", e)
            return None

    def _value_batches(self, result: Any, columns: Sequence[SourceColumn]) -> Iterator[pa.RecordBatch]:
        """One JPype call per value (two for nullable primitives): the path without the Java helper."""
        text = self.dialect.text_values
        readers = [make_reader(result, i, c.type, text=text) for i, c in enumerate(columns, 1)]
        next_row = result.next
        rows_per_batch = self.initial_fetch_rows
        while True:
            values: list[list[Any]] = [[] for _ in readers]
            pairs = [(read, out.append) for read, out in zip(readers, values, strict=True)]
            count = 0
            more = True
            while count < rows_per_batch:
                if not next_row():
                    more = False
                    break
                for read, append in pairs:
                    append(read())
                count += 1
            if count:
                if columns:
                    arrays = [build_array(v, c, text=text) for v, c in zip(values, columns, strict=True)]
                    batch = pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns])
                else:
                    batch = empty_batch(count)
                yield batch
                if batch.nbytes:
                    per_row = batch.nbytes / count
                    rows_per_batch = max(64, min(1_000_000, int(self.target_batch_bytes / max(per_row, 1.0))))
            if not more:
                return

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        """Result columns from the prepared statement's metadata: the query is not run."""
        jconn = connection.jconn
        statement = None
        try:
            statement = jconn.prepareStatement(query)
            meta = statement.getMetaData()
            if meta is None:
                raise SourceError("the driver cannot describe the passthrough query's result without running it; "
                                  "it must be a SELECT")
            columns = []
            for i in range(1, meta.getColumnCount() + 1):
                name = str(meta.getColumnLabel(i) or meta.getColumnName(i))
                info = JdbcColumnInfo(name, str(meta.getColumnTypeName(i) or ""), int(meta.getPrecision(i)),
                                      int(meta.getScale(i)), jdbc_type=int(meta.getColumnType(i)))
                columns.append(SourceColumn(name.lower(), name, self.type_map.to_arrow(info), info.type_name))
            return columns
        except ConnectorError:
            raise
        except Exception as e:
            raise self.translate_error(e) from None
        finally:
            if statement is not None:
                try:
                    statement.close()
                except Exception as e:  # nothing to do about it
                    log.debug("closing a statement failed: %s", type(e).__name__)
