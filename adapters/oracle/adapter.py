"""Oracle through python-oracledb in thin mode (pure Python: no Instant Client in the Lambda bundle).

``oracle://jdbc:oracle:thin:${secret}@//host:1521/service`` - see ``adapters.oracle.connect`` for every accepted
form and ``adapters.oracle.dialect`` for what is pushed to Oracle and why.

* Metadata comes from the ALL_ dictionary views, so it is owner-aware and sees views and tables of every schema
  the user may read (the Java connector used USER_TAB_PARTITIONS and ALL_TABLES only), and synonyms (private
  ones in their owner's schema, PUBLIC ones in ``public``), which resolve to the table or view they name. Table
  lists are paged in SQL. Names resolve to upper case by default (Oracle's unquoted names);
  ``casing_mode=case_insensitive_search`` looks tables, views and synonyms up case-insensitively.
* Types never truncate: NUMBER(p,0) is bigint only when p <= 18; a NUMBER without precision is read as Oracle's
  text and converted exactly to decimal(38, s) (s from ``default_scale``, 10) - a value that does not fit is an
  error - or kept as text (``oracle_unconstrained_number=varchar``). Column collations (12.2+) are read.
* Oracle Database 12.1 and later: python-oracledb thin mode refuses older servers (DPY-3010, reported as such).
* Splits: one per partition or sub-partition (names checked against the dictionary, quoted); unpartitioned
  tables with at least ``oracle_split_min_rows`` rows (ALL_TABLES.NUM_ROWS) are read in ``oracle_splits``
  ORA_HASH(ROWID) buckets - disjoint and together complete by construction.
* Rows arrive as Arrow through ``Connection.fetch_df_batches`` with the requested types pinned; columns the
  Arrow path cannot read (intervals, ROWID, XMLTYPE, objects...) switch the query to DB-API.

Sessions run with NLS_COMP=BINARY, NLS_SORT=BINARY and TIME_ZONE='+00:00', so string ordering is binary and
no result depends on the database's or the client's NLS settings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from adapters.oracle.connect import (
    SECRET_CONNECT_EXTRAS,
    OracleUrl,
    connect_params,
    connect_within,
    connection_error,
    error_code,
    parse_oracle_url,
)
from adapters.oracle.dialect import (
    ARROW_NATIVE_KINDS,
    DEFAULT_NUMBER_SCALE,
    OracleDialect,
    fetch_type,
    kind_of,
    unbounded_number,
)
from adapters.oracle.engine import ENGINE, MAX_SPLITS
from adapters.sql.adapter import CasingMode, ErrorRule, SourceTable, SqlAdapter
from adapters.sql.types import ColumnInfo, normalize
from connector import exact_cast
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.credentials import credentials_for
from connector.errors import (
    AccessDenied,
    ConfigurationError,
    ConnectorError,
    InvalidRequest,
    SchemaNotFound,
    SecretError,
    SourceError,
    TableNotFound,
    first_line,
)
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn, SourceQuery, SqlCompiler, is_string, plan_pushdown
from connector.redact import register_secret
from connector.tokens import read_number

log = logging.getLogger("afq.oracle")

PARTITION_KEY = "partition"
SUBPARTITION_KEY = "subpartition"
BUCKET_KEY = "bucket"
BUCKETS_KEY = "buckets"
# Tables and views of one owner, and its synonyms (PUBLIC's for the PUBLIC schema) for a table or view the user
# can see - on this database, of a schema Oracle does not maintain itself. Recycle-bin, nested, secondary
# (domain index) and IOT overflow tables are not queryable on their own and are left out.
_OBJECTS = ("SELECT TABLE_NAME AS NAME FROM ALL_TABLES WHERE OWNER = :owner AND NESTED = 'NO' AND SECONDARY = 'N' "
            "AND DROPPED = 'NO' AND (IOT_TYPE IS NULL OR IOT_TYPE <> 'IOT_OVERFLOW') "
            "UNION ALL SELECT VIEW_NAME AS NAME FROM ALL_VIEWS WHERE OWNER = :owner "
            "UNION ALL SELECT S.SYNONYM_NAME AS NAME FROM ALL_SYNONYMS S WHERE S.OWNER = :owner AND S.DB_LINK IS NULL "
            "AND S.TABLE_OWNER NOT IN (SELECT USERNAME FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'Y') "
            "AND (EXISTS (SELECT 1 FROM ALL_TABLES T WHERE T.OWNER = S.TABLE_OWNER AND T.TABLE_NAME = S.TABLE_NAME) "
            "OR EXISTS (SELECT 1 FROM ALL_VIEWS V WHERE V.OWNER = S.TABLE_OWNER AND V.VIEW_NAME = S.TABLE_NAME) "
            "OR EXISTS (SELECT 1 FROM ALL_SYNONYMS C WHERE C.OWNER = S.TABLE_OWNER AND C.SYNONYM_NAME = S.TABLE_NAME))")
#: Schemas: the users, and PUBLIC when it has synonyms for tables or views of users' schemas.
_SCHEMAS = ("SELECT USERNAME FROM ALL_USERS UNION SELECT 'PUBLIC' FROM DUAL WHERE EXISTS (SELECT 1 FROM "
            "ALL_SYNONYMS S WHERE S.OWNER = 'PUBLIC' AND S.DB_LINK IS NULL AND S.TABLE_OWNER IN (SELECT USERNAME "
            "FROM ALL_USERS WHERE ORACLE_MAINTAINED = 'N')) ORDER BY 1")
#: A synonym's target, one hop (a synonym may name another synonym).
_SYNONYM = ("SELECT TABLE_OWNER, TABLE_NAME FROM ALL_SYNONYMS WHERE OWNER = :owner AND SYNONYM_NAME = :name "
            "AND DB_LINK IS NULL")
_MAX_SYNONYM_HOPS = 8
#: ALL_TAB_COLUMNS; COLLATION exists from 12.2 (data-bound collation) on.
_COLUMNS = ("SELECT COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE, DATA_TYPE_OWNER{collation} "
            "FROM ALL_TAB_COLUMNS WHERE OWNER = :owner AND TABLE_NAME = :name ORDER BY COLUMN_ID")


@cache
def catalog_sql(kind: str) -> str:
    """The table-list statements, built once as sqlglot trees around ``_OBJECTS`` (binds :owner, :skip...)."""
    objects = exp.Subquery(this=sqlglot.parse_one(_OBJECTS, read="oracle"))
    name = exp.column("NAME")
    if kind == "tables":
        tree = exp.select(name).from_(objects).order_by(name.copy())
    elif kind == "page":
        tree = (exp.select(name).from_(objects).order_by(name.copy())
                .offset(exp.Placeholder(this="skip")).limit(exp.Placeholder(this="take")))
    else:
        tree = exp.select(name).from_(objects).where(exp.EQ(this=exp.Upper(this=name.copy()),
                                                            expression=exp.Upper(this=exp.Placeholder(this="name"))))
    return tree.sql("oracle")


_STATEMENT_TYPES = {
    "DB_TYPE_VARCHAR": "VARCHAR2", "DB_TYPE_NVARCHAR": "NVARCHAR2", "DB_TYPE_CHAR": "CHAR", "DB_TYPE_NCHAR": "NCHAR",
    "DB_TYPE_LONG": "LONG", "DB_TYPE_CLOB": "CLOB", "DB_TYPE_NCLOB": "NCLOB", "DB_TYPE_BLOB": "BLOB",
    "DB_TYPE_RAW": "RAW", "DB_TYPE_LONG_RAW": "LONG RAW", "DB_TYPE_DATE": "DATE", "DB_TYPE_TIMESTAMP": "TIMESTAMP",
    # A passthrough query's TIMESTAMP WITH TIME ZONE arrives as its wall-clock time (wrap it in SYS_EXTRACT_UTC
    # to get the instant); it is typed as a plain timestamp so nothing pretends to know the zone.
    "DB_TYPE_TIMESTAMP_TZ": "TIMESTAMP", "DB_TYPE_TIMESTAMP_LTZ": "TIMESTAMP",
    "DB_TYPE_BINARY_FLOAT": "BINARY_FLOAT", "DB_TYPE_BINARY_DOUBLE": "BINARY_DOUBLE", "DB_TYPE_BOOLEAN": "BOOLEAN",
}


class OracleAdapter(SqlAdapter):
    engine = ENGINE
    default_casing = CasingMode.UPPER
    initial_fetch_rows = 10_000
    source_types_required = True  # without the Oracle types nothing can be pushed safely

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url: OracleUrl = parse_oracle_url(spec.url)
        register_secret(self.url.password)  # an inline password is scrubbed from any log line or message
        if self.url.secret is None and self.url.user is None:
            raise ConfigurationError("the Oracle connection string names no credentials: write "
                                     "jdbc:oracle:thin:${secret-name}@... (a Secrets Manager secret holding "
                                     "username and password)")
        options = self.options
        self.login_seconds = options.seconds("oracle_connect_timeout")
        self.params = connect_params(self.url, self.login_seconds)
        self.number_scale = options.number("default_scale")
        self.split_count = options.number("oracle_splits")
        self.split_min_rows = options.number("oracle_split_min_rows")
        self.fetch_size = options.number("oracle_fetch_rows")
        self.number_text = options.text("oracle_unconstrained_number")
        self._session: dict[str, Any] = {}  # what the first connection learned: server version, charset
        self._partitions: dict[tuple[str, str], tuple[float, tuple[list[str], list[str]]]] = {}

    # ------------------------------------------------------------------------------------- connections

    def connect(self) -> Any:
        import oracledb

        user, password, extras = self._credentials()
        params = self.params.copy()
        params.set(user=user, password=password, **extras)
        try:
            connection = connect_within(lambda: oracledb.connect(params=params), self.login_seconds,
                                        self.url.describe())
        except oracledb.Error as e:
            raise connection_error(e, self.url, user) from None
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("ALTER SESSION SET NLS_COMP = BINARY NLS_SORT = BINARY TIME_ZONE = '+00:00'")
                if "charset" not in self._session:
                    cursor.execute("SELECT VALUE FROM NLS_DATABASE_PARAMETERS WHERE PARAMETER = 'NLS_CHARACTERSET'")
                    row = cursor.fetchone()
                    self._session["charset"] = str(row[0]) if row else ""
                    self._session["version"] = str(getattr(connection, "version", "") or "")
            finally:
                cursor.close()
        except oracledb.Error as e:
            connection.close()
            raise self.translate_error(e) from None
        return connection

    def _credentials(self) -> tuple[str, str, dict[str, str]]:
        if self.url.secret is None:
            if not self.url.password:
                raise ConfigurationError(f"the Oracle connection string gives user {self.url.user!r} but no password")
            return self.url.user or "", self.url.password, {}
        credentials = credentials_for(self.spec)
        if credentials is None or not credentials.username or not credentials.password:
            raise SecretError(f"secret {self.url.secret!r} must hold username and password for Oracle")
        extras = {k: v for k in SECRET_CONNECT_EXTRAS if (v := credentials.extra(k)) is not None}
        return credentials.username, credentials.password, extras

    def is_alive(self, connection: Any) -> bool:
        try:
            connection.ping()
            return True
        except Exception:  # any driver error means "do not reuse"
            return False

    #: A missing privilege reads as a missing table (ORA-00942); the connection lost (ORA-03113...; thin mode's
    #: DPY-4011...) says so.
    error_rules = (
        ErrorRule(frozenset({"ORA-00942", "ORA-01031"}), AccessDenied, "{source} error: {text} (the connector's "
                  "user needs SELECT on the table and the ALL_ dictionary views)"),
        ErrorRule(frozenset({"DPY-4011", "DPY-4024", "DPY-1001", "ORA-03113", "ORA-03114", "ORA-03135"}),
                  SourceError, "{source} connection lost: {text}"),
    )

    def error_codes(self, error: BaseException) -> set[str]:
        return super().error_codes(error) | set(re.findall(r"\b(?:ORA|TNS)-\d{5}\b", str(error)))

    def error_fields(self, error: BaseException) -> dict[str, str]:
        return {**super().error_fields(error), "code": error_code(error)}

    @property
    def dialect(self) -> OracleDialect:
        """Oracle's dialect for this database: whether string order is code point order (an AL32UTF8 character
        set), which text it can hold - known once the first connection has read the character set."""
        dialect = self._session.get("dialect")
        if dialect is None:
            charset = self._session.get("charset", "AL32UTF8")
            dialect = OracleDialect(binary_string_order=charset.upper() == "AL32UTF8", charset=charset)
            if "charset" in self._session:
                self._session["dialect"] = dialect
        assert isinstance(dialect, OracleDialect)
        return dialect

    @property
    def has_column_collations(self) -> bool:
        """ALL_TAB_COLUMNS.COLLATION exists (12.2 and later)."""
        parts = [int(p) if p.isdigit() else 0 for p in self._session.get("version", "").split(".")[:2]]
        return tuple(parts + [0] * (2 - len(parts))) >= (12, 2)

    # ------------------------------------------------------------------------------------- catalog queries

    def query_schemas(self, connection: Any) -> list[str]:
        return [r[0] for r in self.query(connection, _SCHEMAS)]

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        return [r[0] for r in self.query(connection, catalog_sql("tables"), {"owner": schema})]

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        rows = self.query(connection, catalog_sql("page"), {"owner": schema, "skip": offset, "take": limit})
        return [r[0] for r in rows]

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        sql = _COLUMNS.format(collation=", COLLATION" if self.has_column_collations else "")
        rows = self.query(connection, sql, {"owner": schema, "name": table})
        scale = self.number_scale if self.number_text == "decimal" else None
        return [column_info(row, scale) for row in rows]

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        rows = self.query(connection, "SELECT 1 FROM ALL_VIEWS WHERE OWNER = :owner AND VIEW_NAME = :name",
                          {"owner": schema, "name": table})
        return bool(rows)

    # ------------------------------------------------------------------------------------- name resolution

    def resolve_schema(self, connection: Any, schema: str) -> str:
        """One targeted dictionary lookup instead of listing every user."""
        rows = self.query(connection, "SELECT USERNAME FROM ALL_USERS WHERE UPPER(USERNAME) = UPPER(:name) "
                                      "UNION SELECT 'PUBLIC' FROM DUAL WHERE UPPER(:name) = 'PUBLIC'",
                          {"name": schema})
        found = self._pick(schema, [r[0] for r in rows], "schema", "")
        if found is None:
            raise SchemaNotFound(f"schema {schema!r} not found in Oracle (casing_mode={self.casing.value})")
        return found

    def resolve_table(self, connection: Any, table: TableName) -> tuple[str, str]:
        """Tables, views and synonyms alike (the Java connector's case-insensitive search missed views, and
        nothing saw synonyms). A synonym resolves to the table or view it names, which is then read."""
        schema = self.resolve_schema(connection, table.schema)
        rows = self.query(connection, catalog_sql("lookup"), {"owner": schema, "name": table.table})
        candidates = [r[0] for r in rows]
        found = self._pick(table.table, candidates, "table", f" in {schema}")
        if found is None:
            raise TableNotFound(f"table {table} not found in Oracle (casing_mode={self.casing.value})")
        return self.synonym_target(connection, schema, found)

    def synonym_target(self, connection: Any, schema: str, name: str) -> tuple[str, str]:
        """(owner, name) of the table or view that a synonym names, through chains of synonyms; the name itself
        when it is no synonym."""
        seen = {(schema, name)}
        for _ in range(_MAX_SYNONYM_HOPS):
            rows = self.query(connection, _SYNONYM, {"owner": schema, "name": name})
            if not rows:
                return schema, name
            schema, name = str(rows[0][0]), str(rows[0][1])
            if (schema, name) in seen:
                break
            seen.add((schema, name))
        raise TableNotFound(f"synonym chain from {sorted(seen)[0]} does not end in a table or view")

    # ------------------------------------------------------------------------------------- splits

    def query_partitions(self, connection: Any, source: SourceTable) -> tuple[list[str], list[str]]:
        """(partition names, sub-partition names) of a table, from the dictionary, in position order."""
        names = {"owner": source.schema, "name": source.table}
        partitions = [r[0] for r in self.query(
            connection, "SELECT PARTITION_NAME FROM ALL_TAB_PARTITIONS WHERE TABLE_OWNER = :owner AND "
                        "TABLE_NAME = :name ORDER BY PARTITION_POSITION", names)]
        if not partitions:
            return [], []
        subpartitions = [r[0] for r in self.query(
            connection, "SELECT SUBPARTITION_NAME FROM ALL_TAB_SUBPARTITIONS WHERE TABLE_OWNER = :owner AND "
                        "TABLE_NAME = :name ORDER BY PARTITION_NAME, SUBPARTITION_POSITION", names)]
        return partitions, subpartitions

    def query_row_count(self, connection: Any, source: SourceTable) -> int | None:
        rows = self.query(connection, "SELECT NUM_ROWS FROM ALL_TABLES WHERE OWNER = :owner AND TABLE_NAME = :name",
                          {"owner": source.schema, "name": source.table})
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        if source.is_view:
            return [{}]
        names, subnames = self.query_partitions(connection, source)
        if subnames:
            return [{SUBPARTITION_KEY: n} for n in subnames]
        if names:
            return [{PARTITION_KEY: n} for n in names]
        return self.bucket_splits(self.query_row_count(connection, source))

    def bucket_splits(self, row_count: int | None) -> list[dict[str, str]]:
        """N ORA_HASH(ROWID) buckets for a big table (statistics say how big); one split otherwise."""
        if row_count is None or row_count < self.split_min_rows or self.split_count == 1:
            return [{}]
        n = str(self.split_count)
        return [{BUCKETS_KEY: n, BUCKET_KEY: str(k)} for k in range(self.split_count)]

    def split_from(self, source: SourceTable, split: Split | None) -> exp.Expression:
        table = exp.Table(this=exp.to_identifier(source.table, quoted=True),
                          db=exp.to_identifier(source.schema, quoted=True) if source.schema else None)
        properties = split.properties if split is not None else {}
        for key, sub in ((PARTITION_KEY, False), (SUBPARTITION_KEY, True)):
            name = properties.get(key)
            if name:
                table.set("partition", exp.Partition(expressions=[exp.to_identifier(name, quoted=True)],
                                                     subpartition=sub))
        return table

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        buckets, bucket = split.properties.get(BUCKETS_KEY), split.properties.get(BUCKET_KEY)
        if buckets is None and bucket is None:
            return []
        count, index = read_number(buckets), read_number(bucket)
        if count is None or index is None or not 0 <= index < count <= MAX_SPLITS:
            raise InvalidRequest(f"split has a malformed hash bucket {str(bucket)[:40]!r} of {str(buckets)[:40]!r}")
        dialect = compiler.dialect
        assert isinstance(dialect, OracleDialect)
        return [dialect.hash_bucket(count, compiler.bind(index, pa.int64()))]

    def check_split(self, connection: Any, source: SourceTable, split: Split) -> None:
        """A (sub)partition named by a split must be one of the table's: the name came back through Athena."""
        wanted = [(k, split.properties[k]) for k in (PARTITION_KEY, SUBPARTITION_KEY) if split.properties.get(k)]
        if not wanted:
            return
        names, subnames = self._partitions_cached(connection, source)
        for key, name in wanted:
            if name not in (subnames if key == SUBPARTITION_KEY else names):
                raise InvalidRequest(f"{source.schema}.{source.table} has no {key} {name!r}")

    def _partitions_cached(self, connection: Any, source: SourceTable) -> tuple[list[str], list[str]]:
        key = (source.schema, source.table)
        cached = self._partitions.get(key)
        if cached and time.monotonic() - cached[0] < self.metadata_ttl_seconds:
            return cached[1]
        found = self.query_partitions(connection, source)
        self._partitions[key] = (time.monotonic(), found)
        return found

    # ------------------------------------------------------------------------------------- records

    def fetch(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        if query.columns and all(kind_of(c.source_type).name in ARROW_NATIVE_KINDS and not object_type(c)
                                 for c in query.columns):
            yield from self.fetch_arrow(connection, query)
        else:
            yield from self.fetch_rows(connection, query)

    def fetch_arrow(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """``fetch_df_batches`` with every column's Arrow type pinned (no NUMBER -> double guessing)."""
        requested = pa.schema([pa.field(c.name, fetch_type(c)) for c in query.columns])
        size = self.fetch_size if not any(kind_of(c.source_type).name == "lob" for c in query.columns) else 256
        try:
            frames = connection.fetch_df_batches(query.sql, query.params, size=size, requested_schema=requested)
            yield from arrow_batches(frames, query.columns)
        except ConnectorError:
            raise
        except Exception as e:
            raise self.translate_error(e) from None

    def fetch_rows(self, connection: Any, query: SourceQuery) -> Iterator[pa.RecordBatch]:
        """DB-API fallback: exact decimals and LOB values as text/bytes, converted by the declared types."""
        cursor = connection.cursor()
        try:
            try:
                cursor.arraysize = self.fetch_size
                cursor.execute(query.sql, query.params, fetch_lobs=False, fetch_decimals=True)
            except Exception as e:
                raise self.translate_error(e) from None
            while True:
                try:
                    rows = cursor.fetchmany(self.fetch_size)
                except Exception as e:
                    raise self.translate_error(e) from None
                if not rows:
                    return
                yield self.rows_to_batch(rows, query.columns)
        finally:
            cursor.close()

    def column_to_arrow(self, values: list[Any], column: SourceColumn) -> pa.Array:
        if unbounded_number(column):  # selected as TO_CHAR text
            return number_text_to_arrow(pa.array([None if v is None else str(v) for v in values], pa.string()),
                                        column)
        return super().column_to_arrow([python_value(v, column.type) for v in values], column)

    # ------------------------------------------------------------------------------------- passthrough

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        cursor = connection.cursor()
        try:
            try:
                cursor.parse(query)  # describes the result without running the query
            except Exception as e:
                raise self.translate_error(e) from None
            columns = []
            for d in cursor.description or []:
                info = description_info(d, self.number_scale)
                columns.append(SourceColumn(d[0].lower(), d[0], self.type_map.to_arrow(info), info.type_name))
            return columns
        finally:
            cursor.close()


def plan_oracle_select(dialect: OracleDialect, table: exp.Expression, columns: Mapping[str, SourceColumn],
                       projection: Sequence[str], constraints: Constraints, split_where: Any = None) -> SourceQuery:
    """The statement ``OracleAdapter.plan`` writes, for a table and dialect given (tests plan for Oracle's dialect
    as H2 takes it): the generic planner, Oracle's rules in ``OracleDialect.split``."""
    return plan_pushdown(dialect, table, columns, projection, constraints, split_where)


def arrow_batches(frames: Any, columns: Sequence[SourceColumn]) -> Iterator[pa.RecordBatch]:
    """python-oracledb DataFrames (Arrow PyCapsule) -> logical batches, each column cast once, safely."""
    names = [c.name for c in columns]
    for frame in frames:
        table = pa.table(frame)
        if table.num_rows == 0:
            continue
        if table.column_names != names:
            table = table.rename_columns(names)
        arrays = []
        for column, fetched in zip(columns, table.columns, strict=True):
            array = fetched
            if unbounded_number(column):
                array = number_text_to_arrow(array, column)
            elif array.type != column.type:
                try:
                    array = exact_cast.cast(array, column.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                    raise SourceError(f"column {column.name!r}: cannot read Oracle {column.source_type} as "
                                      f"{column.type} ({first_line(e, 200)})") from None
            arrays.append(array)
        yield from pa.Table.from_arrays(arrays, names=names).combine_chunks().to_batches()


def number_text_to_arrow(array: pa.Array | pa.ChunkedArray, column: SourceColumn) -> pa.Array:
    """Oracle's text of NUMBER values (``TO_CHAR(n, 'TM9')``) as the column's type, exactly: decimal(38, s) when
    every value fits it, else an error naming a value that does not; as varchar, the plain decimal notation.

    Checked value by value in Python: pyarrow's own string/decimal casts to a larger scale wrap around silently
    when the rescaled value overflows 128 bits (pyarrow 26: '12345678901234567890123456789012345678' cast to
    decimal128(38, 10) gives 4650928448601668034595970762.1945210880).
    """
    text = array.cast(pa.string())
    values = text.to_pylist()
    if is_string(column.type):
        return pa.array([None if v is None else _plain(v) for v in values], pa.string())
    t = column.type
    numbers: list[Decimal | None] = []
    for value in values:
        if value is None:
            numbers.append(None)
            continue
        number = Decimal(value)
        exponent = number.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        integer_digits = max(number.adjusted() + 1, 0) if not number.is_zero() else 0
        if decimals > t.scale or integer_digits > t.precision - t.scale:
            reason = (f"has more than {t.scale} decimal places" if decimals > t.scale else
                      f"has more than {t.precision - t.scale} integer digits")
            raise SourceError(
                f"column {column.name!r} is an Oracle NUMBER without precision, read as {t}; it holds "
                f"{_plain(value)[:60]}, which {reason}. Set oracle_unconstrained_number=varchar to read such "
                f"columns as exact text, raise default_scale (0-38), or give the column a precision (NUMBER(p,s), "
                f"or a CAST in a view)")
        numbers.append(number)
    return pa.array(numbers, t)


def _plain(text: str) -> str:
    """Oracle's number text (``.5``, ``1E+126``) in plain decimal notation (``0.5``, ``1000...``)."""
    return format(Decimal(text), "f")


def object_type(column: SourceColumn) -> bool:
    """A user-defined object or collection type (``MDSYS.SDO_GEOMETRY``, a VARRAY...) or BFILE: read through
    DB-API and mapped to text (``python_value``), never through the Arrow fetch."""
    return "." in column.source_type or normalize(column.source_type) in ("BFILE", "XMLTYPE", "ANYDATA")


def python_value(value: Any, t: pa.DataType) -> Any:
    """A DB-API value as the declared logical type expects it (the strict conversion happens afterwards).

    Object types become JSON of their attributes (``{"SDO_GTYPE": 2001, ...}``), collections JSON arrays, a
    BFILE its locator ``BFILENAME('DIR', 'file')`` - never a Python repr."""
    if value is None:
        return None
    if pa.types.is_string(t) and _is_db_object(value):
        return json.dumps(_object_value(value), default=str, sort_keys=False)
    if pa.types.is_string(t) and _is_bfile(value):
        directory, name = value.getfilename()
        return f"BFILENAME('{directory}', '{name}')"
    if pa.types.is_timestamp(t) and isinstance(value, dt.datetime) and value.microsecond % 1000:
        # Athena's timestamps are milliseconds: truncate as the Arrow path does (floor).
        return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
    if pa.types.is_string(t) and not isinstance(value, str):
        if isinstance(value, dict | list):
            return json.dumps(value, default=str)
        if isinstance(value, bytes | bytearray):
            return bytes(value).hex()
        return str(value)
    return value


def column_info(row: Sequence[Any], number_scale: int | None = DEFAULT_NUMBER_SCALE) -> ColumnInfo:
    """An ALL_TAB_COLUMNS row (COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE, DATA_TYPE_OWNER
    [, COLLATION]).

    An unconstrained NUMBER (precision and scale NULL) keeps the type name ``NUMBER`` and gets the configured
    scale (None: read as varchar); a constrained one is named ``NUMBER(p,s)`` / ``NUMBER(*,s)``. User-defined
    types (DATA_TYPE_OWNER set) keep their qualified name (read as JSON text).
    """
    name, data_type, precision, scale, nullable = row[0], str(row[1]), row[2], row[3], row[4]
    p = int(precision) if precision is not None else None
    s = int(scale) if scale is not None else None
    type_name = data_type
    if data_type == "NUMBER":
        if p is None and s is None:
            s = number_scale
        else:
            type_name = f"NUMBER({'*' if p is None else p},{s or 0})"
    owner = row[5] if len(row) > 5 else None
    if owner and owner not in ("SYS", "PUBLIC"):
        type_name = f"{owner}.{data_type}"
    collation = row[6] if len(row) > 6 and row[6] else None
    return ColumnInfo(str(name), type_name, p, s, nullable != "N", None if collation is None else str(collation))


def description_info(d: Sequence[Any], number_scale: int = DEFAULT_NUMBER_SCALE) -> ColumnInfo:
    """A ``cursor.description`` entry (name, DbType, display size, internal size, precision, scale, null_ok)."""
    type_name = getattr(d[1], "name", str(d[1]))
    precision, scale = d[4], d[5]
    if type_name == "DB_TYPE_NUMBER":
        if scale == -127:  # FLOAT(b) has a binary precision; precision 0 means an unconstrained NUMBER
            if precision:
                return ColumnInfo(d[0], "FLOAT")
            return ColumnInfo(d[0], "NUMBER", None, number_scale)
        return ColumnInfo(d[0], f"NUMBER({precision or '*'},{scale or 0})", precision or None, scale)
    if type_name == "DB_TYPE_TIMESTAMP":
        return ColumnInfo(d[0], f"TIMESTAMP({scale if scale is not None else 6})")
    return ColumnInfo(d[0], _STATEMENT_TYPES.get(type_name, type_name.removeprefix("DB_TYPE_")))


def _is_db_object(value: Any) -> bool:
    return hasattr(value, "type") and hasattr(value, "asdict") and hasattr(value, "aslist")


def _is_bfile(value: Any) -> bool:
    return callable(getattr(value, "getfilename", None))


def _object_value(value: Any) -> Any:
    """A DbObject as plain data: attributes by name (objects), elements in order (collections), recursively."""
    if _is_db_object(value):
        if value.type.iscollection:
            return [_object_value(v) for v in value.aslist()]
        return {k: _object_value(v) for k, v in value.asdict().items()}
    if isinstance(value, dict):
        return {k: _object_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_object_value(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else str(value)
    return value


__all__ = ["OracleAdapter", "arrow_batches", "column_info", "description_info", "number_text_to_arrow",
           "plan_oracle_select", "python_value"]
