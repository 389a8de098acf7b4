"""Teradata through teradatasql: ``teradata://jdbc:teradata://host/TMODE=ANSI,DATABASE=db,${secret}``.

What this adapter does differently from the Java reference connector, and why:

* **Types from the dictionary.** Column types come from ``DBC.ColumnsVX`` type codes with their precision and
  scale, so DECIMAL(p,s) is always decimal(p,s) (never bigint) and TIMESTAMP is a timestamp, not text.
  TIMESTAMP(n > 3) values are floored to Athena's milliseconds; CHAR(n) values lose their pad blanks (Teradata
  itself ignores them in comparisons, and a UTF8 session adds extra "export width" padding).
* **Splits without scanning.** The plan comes from the dictionary only: row-partition ranges for PPI tables
  (``PARTITION BETWEEN a AND b`` - partition elimination), otherwise hash buckets of the primary index
  (``HASHBUCKET(HASHROW(pi)) MOD n = k``), for NoPI tables hash buckets of all hashable columns, and one split
  for views. Never ``SELECT DISTINCT PARTITION``.
* **Exact pushdown.** Only what Teradata evaluates exactly as Athena is pushed; the framework applies the rest.
  Strings: Teradata compares with pad semantics (``'a' = 'a '``) and, for NOT CASESPECIFIC columns (the
  default in TERA mode), case-insensitively - so no string comparison is exact in any mode. Positive string
  filters (``=``, ``IN``) are pushed as a *prefilter* - a superset of the exact answer - and re-checked exactly
  by the framework; ordering, LIKE and negations on strings stay in the framework. TIMESTAMP(n > 3) ranges
  go on the framework's millisecond grid (``floor_ms(ts) <= v`` is ``ts < v + 1ms``), so they are exact; other
  comparisons of them stay in the framework, and they are ORDER BY keys only in last place. Limits become
  ``TOP n``; null ordering is a CASE key (Teradata has no NULLS FIRST/LAST in older releases and sqlglot drops
  it silently); OFFSET is never generated.

Values are always bind parameters (``?``) except split bounds, which are integers computed and validated
here (literals let Teradata eliminate partitions). Passwords never reach logs, reprs or error messages.

Connection strings and driver errors: ``adapters.teradata.connect``; types, the dialect and what is pushed:
``adapters.teradata.dialect``; split planning and split predicates: ``adapters.teradata.splits``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from adapters.sql.adapter import ANY_CODE, CasingMode, ErrorRule, SourceTable, SqlAdapter
from adapters.sql.convert import to_arrow
from adapters.sql.types import ColumnInfo, int_or_none, normalize
from adapters.teradata.connect import (
    DEFAULT_PORT,
    driver_errors,
    parse_teradata_url,
    root_cause,
)
from adapters.teradata.dialect import (
    FIXED_CHARACTER_TYPES,
    HASHABLE_TYPES,
    TYPE_CODES,
    TeradataDialect,
    described_column,
    fraction_digits,
    type_name,
)
from adapters.teradata.engine import ENGINE
from adapters.teradata.splits import hash_splits, partition_splits, split_predicates
from connector.adapter import RequestContext
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.credentials import credentials_for
from connector.errors import (
    AccessDenied,
    ConfigurationError,
    SchemaNotFound,
    SecretError,
    SourceError,
    SourceTimeout,
    TableNotFound,
)
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Split, TableName
from connector.pushdown.sql import SourceColumn, SqlCompiler, is_string

log = logging.getLogger("afq.teradata")


class TeradataAdapter(SqlAdapter):
    engine = ENGINE
    dialect = TeradataDialect()
    default_casing = CasingMode.CASE_INSENSITIVE_SEARCH
    #: Table kinds Athena can read: table, NoPI table, queue table, view.
    table_kinds: ClassVar[tuple[str, ...]] = ("T", "O", "Q", "V")
    dbc: ClassVar[str] = "DBC"
    source_types_required = True  # each column's Teradata type decides what is pushed

    def __init__(self, spec: ConnectionSpec, settings: Settings) -> None:
        super().__init__(spec, settings)
        self.url = parse_teradata_url(spec.url)
        self.split_count = self.options.number("teradata_split_count")
        self._kinds: dict[tuple[str, str], str] = {}
        self._secret_values = self.url.secret_values

    # ------------------------------------------------------------------------------------- connections

    def connect_parameters(self) -> dict[str, str]:
        """teradatasql ``connect`` keyword arguments, with the ``${secret}`` credentials resolved."""
        parameters = {"host": self.url.host, **self.url.parameters}
        credentials = credentials_for(self.spec)
        if credentials is not None:
            if credentials.username is None or credentials.password is None:
                raise SecretError(f"secret {self.spec.secret_name!r} must hold both username and password")
            clash = [n.upper() for n in ("user", "password") if n in self.url.parameters]
            if clash:
                raise ConfigurationError(f"the Teradata connection string sets {' and '.join(clash)} inline and "
                                         f"also names secret {self.spec.secret_name!r}; use one or the other")
            parameters["user"] = credentials.username
            parameters["password"] = credentials.password
            self._secret_values = (*self.url.secret_values, credentials.password)
        return parameters

    def connect(self) -> Any:
        parameters = self.connect_parameters()
        import teradatasql  # loaded on first connect: the driver is a large native library

        log.debug("connecting to Teradata host=%s dbs_port=%s database=%s user=%s", parameters["host"],
                  parameters.get("dbs_port", DEFAULT_PORT), parameters.get("database"), parameters.get("user"))
        try:
            return teradatasql.connect(None, **parameters)  # type: ignore[no-untyped-call]
        except teradatasql.Error as e:
            raise self.translate_error(e) from None

    #: The driver's codes (the outermost in its message): cannot connect (301, 394, 444-446); a connection
    #: parameter refused - unparsable (169), LOGMECH (176), SSLCRC (186), SSLMODE (188), OIDC_SSLMODE (189), 191,
    #: CHARSET (451, 557); logon refused (80xx); access denied; timed out or aborted; any other database error.
    error_rules = (
        ErrorRule(frozenset({"301", "394", "444", "445", "446"}), SourceError,
                  "cannot connect to Teradata at {where} (driver error {code}: {detail}); check the host and DBS_PORT "
                  "in the connection string and that the Lambda's network (VPC, security groups) reaches the database"),
        ErrorRule(frozenset({"169", "176", "186", "188", "189", "191", "451", "557"}), ConfigurationError,
                  "teradatasql rejected the connection parameters (error {code}: {detail})"),
        ErrorRule(frozenset({"8017", "8018", "8019", "8024", "8025", "8030"}), AccessDenied,
                  "Teradata at {where} rejected the logon (error {code}: {text}); check the user name and password "
                  "(or the secret holding them) and LOGMECH"),
        ErrorRule(frozenset({"3523", "3524", "5315"}), AccessDenied, "Teradata denied access (error {code}: {text})"),
        ErrorRule(frozenset({"3110", "2646"}), SourceTimeout,
                  "Teradata request timed out or was aborted (error {code}: {text})"),
        ErrorRule(ANY_CODE, SourceError, "Teradata error {code}: {detail}"),
    )

    def error_codes(self, error: BaseException) -> set[str]:
        return super().error_codes(error) | {str(code) for code, _ in driver_errors(error)}

    def error_fields(self, error: BaseException) -> dict[str, str]:
        """teradatasql writes its codes into the message (``[Error 8017] ...``) and the network's reason into
        ``Caused by`` lines: the outermost code and its text, that reason as the detail."""
        fields = super().error_fields(error)
        errors = driver_errors(error)
        if not errors:
            return {**fields, "code": ""}
        code, text = errors[0]
        cause = root_cause(error)
        return {**fields, "code": str(code), "text": text, "detail": f"{text}; {cause}" if cause else text,
                "where": f"{self.url.host}:{self.url.parameters.get('dbs_port', DEFAULT_PORT)}"}

    # ------------------------------------------------------------------------------------- catalog queries

    def _dbc(self, view: str) -> exp.Table:
        return exp.table_(view, db=self.dbc)

    def _sql(self, tree: exp.Expression) -> str:
        return tree.sql("teradata")

    def query_schemas(self, connection: Any) -> list[str]:
        select = exp.select("DatabaseName").from_(self._dbc("DatabasesVX")).order_by(_asc("DatabaseName"))
        return [_name(r[0]) for r in self.query(connection, self._sql(select))]

    def _tables_select(self) -> exp.Select:
        return (exp.select("TableName").from_(self._dbc("TablesVX"))
                .where(_equals("DatabaseName"), _kind_in("TableKind", self.table_kinds)))

    def query_tables(self, connection: Any, schema: str) -> list[str]:
        select = self._tables_select().order_by(_asc("TableName"))
        return [_name(r[0]) for r in self.query(connection, self._sql(select), (schema,))]

    def query_tables_page(self, connection: Any, schema: str, limit: int, offset: int) -> list[str]:
        # No OFFSET in Teradata: number the rows and keep one window of them.
        number = exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[_asc("TableName")]))
        select = (self._tables_select()
                  .qualify(exp.Between(this=number, low=exp.Placeholder(), high=exp.Placeholder()))
                  .order_by(_asc("TableName")))
        rows = self.query(connection, self._sql(select), (schema, offset + 1, offset + limit))
        return [_name(r[0]) for r in rows]

    def _columns_select(self, view: str) -> exp.Select:
        return (exp.select("ColumnName", "ColumnType", "ColumnLength", "DecimalTotalDigits",
                           "DecimalFractionalDigits", "Nullable", "CharType", "ColumnUDTName")
                .from_(self._dbc(view))
                .where(_equals("DatabaseName"), _equals("TableName"))
                .order_by(_asc("ColumnId")))

    def query_columns(self, connection: Any, schema: str, table: str) -> list[ColumnInfo]:
        rows = self.query(connection, self._sql(self._columns_select("ColumnsVX")), (schema, table))
        if rows and any(r[1] is None for r in rows):
            # View columns have no types in ColumnsV; ColumnsqV (Teradata 16.20+) resolves them.
            try:
                rows = self.query(connection, self._sql(self._columns_select("ColumnsqVX")), (schema, table))
            except (SourceError, AccessDenied) as e:
                log.info("DBC.ColumnsqVX is not usable (%s); describing %s.%s by preparing a SELECT", e, schema,
                         table)
                select = exp.select("*").from_(_table(schema, table))
                return [described_column(c) for c in self.describe(connection, self._sql(select))]
        return [self._dictionary_column(row) for row in rows]

    @staticmethod
    def _dictionary_column(row: Sequence[Any]) -> ColumnInfo:
        name, code, length, total, fractional, nullable, char_type, udt = (list(row) + [None] * 8)[:8]
        code_text = (code or "").strip().upper()
        declared = type_name(code_text, int_or_none(length), int_or_none(total), int_or_none(fractional),
                             int_or_none(char_type), udt)
        if code_text in ("D", "N"):
            precision, scale = int_or_none(total), int_or_none(fractional)
        elif code_text in ("AT", "TZ", "TS", "SZ"):
            precision, scale = None, int_or_none(fractional)
        else:
            precision, scale = None, None
        if code_text and code_text not in TYPE_CODES:
            log.warning("teradata column %r has type code %r, which has no defined mapping; it is read as varchar",
                        name, code_text)
        return ColumnInfo(_name(name), declared, precision, scale, (nullable or "Y").strip().upper() != "N")

    def query_is_view(self, connection: Any, schema: str, table: str) -> bool:
        kind = self._kinds.get((schema, table))
        if kind is None:
            select = (exp.select("TableKind").from_(self._dbc("TablesVX"))
                      .where(_equals("DatabaseName"), _equals("TableName")))
            rows = self.query(connection, self._sql(select), (schema, table))
            kind = (rows[0][0] or "").strip().upper() if rows else ""
            self._kinds[(schema, table)] = kind
        return kind == "V"

    # Teradata names are case-insensitive and unique regardless of case, so a case-insensitive search is one
    # dictionary lookup instead of a listing. UPPER() on both sides: in ANSI mode a bound value is
    # CASESPECIFIC and would make a plain comparison case-sensitive.

    def resolve_schema(self, connection: Any, schema: str) -> str:
        if self.casing is not CasingMode.CASE_INSENSITIVE_SEARCH:
            return super().resolve_schema(connection, schema)
        select = (exp.select("DatabaseName").from_(self._dbc("DatabasesVX"))
                  .where(exp.EQ(this=exp.Upper(this=exp.column("DatabaseName")),
                                expression=exp.Upper(this=exp.Placeholder()))))
        names = [_name(r[0]) for r in self.query(connection, self._sql(select), (schema,))]
        found = self._pick(schema, names, "schema", "")
        if found is None:
            raise SchemaNotFound(f"schema {schema!r} not found in catalog (casing_mode={self.casing.value})")
        return found

    def resolve_table(self, connection: Any, table: TableName) -> tuple[str, str]:
        if self.casing is not CasingMode.CASE_INSENSITIVE_SEARCH:
            return super().resolve_table(connection, table)
        schema = self.resolve_schema(connection, table.schema)
        select = (exp.select("TableName", "TableKind").from_(self._dbc("TablesVX"))
                  .where(_equals("DatabaseName"),
                         exp.EQ(this=exp.Upper(this=exp.column("TableName")), expression=exp.Upper(
                             this=exp.Placeholder())),
                         _kind_in("TableKind", self.table_kinds)))
        rows = self.query(connection, self._sql(select), (schema, table.table))
        found = self._pick(table.table, [_name(r[0]) for r in rows], "table", f" in {schema}")
        if found is None:
            raise TableNotFound(f"table {table} not found (casing_mode={self.casing.value})")
        for name, kind in rows:
            if _name(name) == found:
                self._kinds[(schema, found)] = (kind or "").strip().upper()
        return schema, found

    # ------------------------------------------------------------------------------------- splits

    def plan_splits(self, ctx: RequestContext, connection: Any, source: SourceTable, partitions: pa.Table,
                    constraints: Constraints) -> list[dict[str, str]]:
        """Split properties from the dictionary only; no data is read while planning."""
        n = self.split_count
        if n <= 1 or source.is_view:
            return [{}]
        defined = self.query_row_partitions(connection, source.schema, source.table)
        if defined is not None and defined >= 2:
            return partition_splits(defined, n)
        columns = self.query_primary_index(connection, source.schema, source.table)
        if not columns:  # NoPI table: hash all columns HASHROW accepts
            columns = [c.source_name for c in source.columns if normalize(c.source_type) in HASHABLE_TYPES]
        if not columns:
            return [{}]
        return hash_splits(columns, n)

    def query_row_partitions(self, connection: Any, schema: str, table: str) -> int | None:
        """Defined combined row partitions of a row-partitioned (PPI) table; None if it has none."""
        select = (exp.select("DefinedCombinedPartitions", "ColumnPartitioningLevel")
                  .from_(self._dbc("PartitioningConstraintsVX"))
                  .where(_equals("DatabaseName"), _equals("TableName"), _kind_in("ConstraintType", "Q")))
        rows = self.query(connection, self._sql(select), (schema, table))
        if len(rows) != 1:
            return None
        defined, column_level = int_or_none(rows[0][0]), int_or_none(rows[0][1])
        if column_level:  # column-partitioned: PARTITION numbers do not split rows
            return None
        return defined

    def query_primary_index(self, connection: Any, schema: str, table: str) -> list[str]:
        """Primary index (or primary AMP index) columns in index order; empty for NoPI tables."""
        select = (exp.select("ColumnName").from_(self._dbc("IndicesVX"))
                  .where(_equals("DatabaseName"), _equals("TableName"), _kind_in("IndexType", ("P", "Q", "A")))
                  .order_by(_asc("ColumnPosition")))
        return [_name(r[0]) for r in self.query(connection, self._sql(select), (schema, table))]

    def split_where(self, source: SourceTable, split: Split, compiler: SqlCompiler) -> list[exp.Expression]:
        return split_predicates(split.properties)

    # ------------------------------------------------------------------------------------- records

    def column_to_arrow(self, values: list[Any], column: SourceColumn) -> pa.Array:
        kind = normalize(column.source_type)
        if pa.types.is_timestamp(column.type):
            # Teradata keeps microseconds; Athena's TIMESTAMP has milliseconds: floor, never round up.
            fine = to_arrow(values, pa.timestamp("us", column.type.tz), column.name)
            return pc.floor_temporal(fine, unit="millisecond").cast(column.type)
        if kind in ("TIME", "TIME WITH TIME ZONE") and is_string(column.type):
            digits = fraction_digits(column.source_type)
            return to_arrow([_time_text(v, digits) for v in values], column.type, column.name)
        array = super().column_to_arrow(values, column)
        if kind in FIXED_CHARACTER_TYPES and is_string(column.type):
            return pc.utf8_rtrim(array, characters=" ")
        if kind.startswith("INTERVAL") and is_string(column.type):
            return pc.utf8_trim_whitespace(array)
        return array

    # ------------------------------------------------------------------------------------- passthrough

    def describe(self, connection: Any, query: str) -> list[tuple[str, str, int | None, int | None]]:
        """(name, Teradata type, precision, scale) of a query's result, prepared but not executed."""
        cursor = self.execute(connection, "{fn teradata_rpo(S)}" + query)
        try:
            description = list(cursor.description or [])
            type_names = list(getattr(cursor, "columntypename", None) or [])
        finally:
            cursor.close()
        if not description:
            raise SourceError("Teradata returned no result columns for the query (is it a SELECT?)")
        if len(type_names) != len(description):
            type_names = [""] * len(description)
        return [(str(d[0]), str(t or ""), int_or_none(d[4]), int_or_none(d[5])) for d, t in zip(description, type_names,
                                                                                   strict=True)]

    def passthrough_columns(self, connection: Any, query: str) -> list[SourceColumn]:
        columns = []
        for name, teradata_type, precision, scale in self.describe(connection, query):
            info = described_column((name, teradata_type, precision, scale))
            columns.append(SourceColumn(name.lower(), name, self.type_map.to_arrow(info), info.type_name))
        return columns


# ============================================================================================ helpers


def _equals(column: str) -> exp.Expression:
    """``column = ?`` (dictionary names are bound, never spliced into the SQL)."""
    return exp.EQ(this=exp.column(column), expression=exp.Placeholder())


def _kind_in(column: str, kinds: Iterable[str]) -> exp.Expression:
    return exp.In(this=exp.column(column), expressions=[exp.Literal.string(k) for k in kinds])


def _asc(name: str) -> exp.Ordered:
    # nulls_first=True is Teradata's own order for ASC, so sqlglot writes no NULLS clause.
    return exp.Ordered(this=exp.column(name), desc=False, nulls_first=True)


def _table(schema: str, table: str) -> exp.Table:
    return exp.table_(exp.to_identifier(table, quoted=True), db=exp.to_identifier(schema, quoted=True))


def _name(value: Any) -> str:
    return str(value).rstrip() if value is not None else ""


def _time_text(value: Any, digits: int | None) -> str | None:
    """TIME values in Teradata's text form, with the column's fractional digits."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, dt.time):
        return str(value)
    text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if digits is None:
        digits = 6 if value.microsecond else 0
    if digits > 0:
        text += "." + f"{value.microsecond:06d}"[:digits]
    offset = value.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return text


__all__ = ["TeradataAdapter"]
