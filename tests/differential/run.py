"""Running the generated tables and queries: on the engine directly, and through the local Athena.

``Session`` creates one generated table in one engine, learns what Athena should see from the engine itself
(SQLite's storage classes decide an untyped column's type, by the documented rule), and checks queries:
``afq`` against the engine, pushdown on against pushdown off, and the ternary-logic partition of a predicate.
``afq`` runs in process through the local Athena's own API (what ``afq query`` uses), over a service built
from an explicit environment: two catalogs on the same database, so joins cross catalogs.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlglot import exp

from connector.config import Settings
from connector.local.engine import LocalAthena, QueryOptions
from connector.local.errors import LambdaFunctionError
from connector.local.planner import QueryPlan
from connector.local.session import Capabilities, CatalogSession, TableInfo
from connector.local.targets import LocalContext, decode_response
from connector.protocol.constraints import Constraints
from connector.service import FederationService
from tests.differential.model import (
    BIGINT,
    DOUBLE,
    VARBINARY,
    VARCHAR,
    AthenaType,
    Between,
    Cmp,
    Col,
    Column,
    IsUnknown,
    Neg,
    Not,
    NullIf,
    Query,
    Table,
    canonical,
    is_nan,
)
from tests.differential.render import RENDERERS, AthenaRenderer, Renderer, column_types
from tests.support.sql_engines import Engine

CATALOGS = ("fuzz_a", "fuzz_b")
Row = tuple[Any, ...]


class DifferentialFailure(AssertionError):
    pass

# ------------------------------------------------------------------------------------------ afq in process


class ServiceTarget:
    """The handler's service for one environment, called as the Lambda runtime calls it (JSON in between)."""

    description = "in-process service"

    def __init__(self, env: Mapping[str, str]) -> None:
        self.service = FederationService(Settings.from_env(dict(env)))

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        request_type = str(event.get("@type", ""))
        try:
            response = self.service.handle(json.loads(json.dumps(event)), LocalContext())
        except Exception as e:  # the runtime turns any exception into a function error
            raise LambdaFunctionError(type(e).__name__, str(e), request_type) from e
        return decode_response(json.dumps(response), request_type)

    def close(self) -> None:
        self.service.pool.close()


class _NoPushdown(LocalAthena):
    """Athena with connectors that declare nothing and receive no constraints: the engine does all the work."""

    def session(self, catalog: str) -> CatalogSession:
        session = super().session(catalog)
        session.capabilities = Capabilities()
        return session

    def plan(self, sql: str, connection: Any = None) -> tuple[QueryPlan, dict[str, TableInfo]]:
        plan, infos = super().plan(sql, connection)
        for table in plan.tables:
            table.constraints = Constraints(passthrough=dict(table.constraints.passthrough))
        return plan, infos


def afq(target: ServiceTarget, sql: str, *, pushdown: bool = True) -> list[Row]:
    kind = LocalAthena if pushdown else _NoPushdown
    athena = kind(target, QueryOptions(max_workers=2))  # type: ignore[arg-type]
    result = athena.run(sql)
    names = result.table.column_names
    return [tuple(row[n] for n in names) for row in result.table.to_pylist()]

# ------------------------------------------------------------------------------------------ engine side


def _jdbc_rows(engine: Engine, sql: str) -> list[Row]:
    jconn = engine.connection().jconn
    statement = jconn.createStatement()
    try:
        results = statement.executeQuery(sql)
        try:
            n = int(results.getMetaData().getColumnCount())
            rows = []
            while results.next():
                rows.append(tuple(None if (v := results.getString(i)) is None else str(v) for i in range(1, n + 1)))
            return rows
        finally:
            results.close()
    finally:
        statement.close()


def engine_rows(engine: Engine, sql: str) -> list[Row]:
    """Raw rows of an oracle query: sqlite3's values, or each JDBC value's text."""
    if engine.name == "sqlite":
        connection = sqlite3.connect(engine.url.removeprefix("jdbc:sqlite:"))
        try:
            connection.execute("PRAGMA case_sensitive_like = ON")
            return [tuple(r) for r in connection.execute(sql).fetchall()]
        finally:
            connection.close()
    return _jdbc_rows(engine, sql)


def parse(value: Any, t: AthenaType, *, text: bool) -> Any:
    """An engine value (sqlite3's, or JDBC text) as the Python value Athena's answer holds."""
    if value is None:
        return None
    kind = t.kind
    if kind in ("bigint", "integer"):
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "decimal":
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(str(value))
    if kind == "boolean":
        return str(value).lower() in ("t", "true", "1") if text else bool(value)
    if kind == "date":
        return dt.date.fromisoformat(str(value))
    if kind == "timestamp":
        parsed = dt.datetime.fromisoformat(str(value).replace("T", " "))
        return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)
    if kind == "varbinary":
        return bytes(value)
    return value if isinstance(value, str) else str(value)


def _quoted(engine: Engine, name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("postgres" if engine.name != "sqlite" else "sqlite")

# ------------------------------------------------------------------------------------------ a session


class Session:
    """One generated table in one engine, and the checks of queries over it."""

    def __init__(self, engine: Engine, table: Table, extra_env: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.table = table
        self.qualified = f"{_quoted(engine, engine.schema)}.{_quoted(engine, table.name)}"
        self.env = {f"{c}_connection_string": engine.connection_string for c in CATALOGS}
        self.env.update(engine.extra_env)
        self.env.update(extra_env or {})
        self.target: ServiceTarget | None = None
        self.values: dict[str, list[Any]] = {}
        self._all: dict[tuple[str, ...], list[Row]] = {}

    # ------------------------------------------------------------------------------------------ set-up

    def create(self) -> None:
        engine, table = self.engine, self.table
        base = table.view_of or table.name
        stored = [c for c in table.columns if not c.computed]
        body = ", ".join(f"{_quoted(engine, c.name)} {c.ddl}".rstrip() for c in stored)
        base_sql = f"{_quoted(engine, engine.schema)}.{_quoted(engine, base)}"
        engine.execute(f"CREATE TABLE {base_sql} ({body})")
        if table.rows:
            marks = ", ".join("?" for _ in stored)
            engine.executemany(f"INSERT INTO {base_sql} VALUES ({marks})", table.rows)
        if table.view_of:
            computed = ", ".join(f"{c.computed} AS {_quoted(engine, c.name)}" for c in table.columns if c.computed)
            engine.execute(f"CREATE VIEW {self.qualified} AS SELECT *, {computed} FROM {base_sql}")
        if engine.name == "sqlite":
            self._sqlite_exposure()
        self.target = ServiceTarget(self.env)
        self.values = self._exposed_values()

    def drop(self) -> None:
        if self.target is not None:
            self.target.close()
        if self.table.view_of:
            self.engine.drop(self.table.name, view=True)
        self.engine.drop(self.table.view_of or self.table.name)

    def _sqlite_exposure(self) -> None:
        """What Athena should see of each untyped SQLite column, from the storage classes SQLite reports
        (adapters/sqlite/adapter.py, 'Types and storage classes': integers -> bigint, integers and reals -> double,
        blobs -> varbinary, anything else -> varchar as CAST(x AS TEXT))."""
        columns = []
        for c in self.table.columns:
            if c.ddl.strip():
                columns.append(c)
                continue
            name = _quoted(self.engine, c.name)
            sample = f"SELECT DISTINCT typeof({name}) FROM (SELECT * FROM {self.qualified} LIMIT 1000)"
            classes = {r[0] for r in engine_rows(self.engine, sample)} - {"null"}
            if classes == {"integer"}:
                exposed, form = BIGINT, "plain"
            elif classes and classes <= {"integer", "real"}:
                exposed, form = DOUBLE, "plain"
            elif classes == {"blob"}:
                exposed, form = VARBINARY, "blob"
            else:
                exposed, form = VARCHAR, "text"
            columns.append(Column(c.name, exposed, c.ddl, form, c.length, c.collation, c.computed))  # type: ignore[arg-type]
        self.table.columns = columns

    def renderer(self, athena: bool = False) -> Renderer:
        if athena:
            tables = {a: f"{catalog}.{self.engine.athena_schema}.{self.table.name} AS {a}"
                      for a, catalog in (("t", CATALOGS[0]), ("u", CATALOGS[1]))}
            return AthenaRenderer(tables)
        tables = {a: f"{self.qualified} AS {_quoted(self.engine, a)}" for a in ("t", "u")}
        return RENDERERS[self.engine.name](tables)

    def _exposed_values(self) -> dict[str, list[Any]]:
        query = Query([Col(c) for c in self.table.columns])
        rows = self.oracle(query)
        return {c.name: [r[i] for r in rows] for i, c in enumerate(self.table.columns)}

    # ------------------------------------------------------------------------------------------ running

    def oracle(self, q: Query) -> list[Row]:
        sql = self.renderer().query(q, limit=False)
        types = column_types(q)
        try:
            raw = engine_rows(self.engine, sql)
        except Exception as e:
            raise DifferentialFailure(f"the oracle query failed on {self.engine.name}: {e}\n  {sql}") from None
        text = self.engine.name != "sqlite"
        return [tuple(parse(v, t, text=text) for v, t in zip(r, types, strict=True)) for r in raw]

    def afq(self, q: Query, *, pushdown: bool = True) -> list[Row]:
        assert self.target is not None
        sql = self.athena_sql(q)
        try:
            return afq(self.target, sql, pushdown=pushdown)
        except Exception as e:
            raise DifferentialFailure(f"afq query failed ({'pushdown on' if pushdown else 'pushdown off'}): "
                                      f"{type(e).__name__}: {str(e)[:800]}\n  {sql}") from None

    def athena_sql(self, q: Query) -> str:
        return self.renderer(athena=True).query(q)

    # ------------------------------------------------------------------------------------------ checks

    def check(self, q: Query, *, partition: bool = True) -> None:
        """afq = the engine; pushdown on = pushdown off; and for a filter, the ternary-logic partition."""
        got = self.afq(q)
        expected = self.oracle(q)
        self._compare(q, got, expected, "the engine")
        if not self.nan_ordered(q):
            self._compare(q, self.afq(q, pushdown=False), expected, "afq without pushdown", strict_order=False)
        if partition and q.where is not None and not (q.group or q.aggregates or q.order or q.join):
            self.check_partition(q)

    def nan_ordered(self, q: Query) -> bool:
        """The query orders a NaN by <, >, BETWEEN: without pushdown DuckDB, the local engine, evaluates that
        with NaN as the largest value where Athena finds the comparison false (issue 16, left to the local
        engine's work: tests/differential/test_regressions.py::test_local_engine_compares_nan_as_athena)."""
        nan_columns = {name for name, values in self.values.items() if any(is_nan(v) for v in values)}
        found = False

        def walk(node: Any) -> None:
            nonlocal found
            if isinstance(node, Between) or (isinstance(node, Cmp) and node.op not in ("=", "<>")):
                operands = [node.value] if isinstance(node, Between) else [node.left, node.right]
                if any(isinstance(o, Col) and o.column.name in nan_columns for o in operands) or any(
                        isinstance(o, NullIf | Neg) for o in operands):
                    found = True
            for value in getattr(node, "__dict__", {}).values():
                for item in value if isinstance(value, tuple | list) else (value,):
                    if hasattr(item, "__dataclass_fields__") and not isinstance(item, Column):
                        walk(item)

        for part in (q.where, q.join_on):
            if part is not None:
                walk(part)
        return found

    def check_partition(self, q: Query) -> None:
        assert q.where is not None
        everything = self.afq(q.with_where(None))
        parts = [self.afq(q.with_where(w)) for w in (q.where, Not(q.where), IsUnknown(q.where))]
        whole = Counter(_canonical_row(r) for r in everything)
        split = Counter(_canonical_row(r) for part in parts for r in part)
        if whole != split:
            raise DifferentialFailure(
                f"ternary logic partition broken: rows(P) + rows(NOT P) + rows(P IS NULL) != rows(all)\n"
                f"  P = {self.renderer(athena=True).pred(q.where).sql('trino')}\n"
                f"  missing {whole - split}\n  extra {split - whole}\n  {self.athena_sql(q)}")

    def _compare(self, q: Query, got: list[Row], expected: list[Row], what: str, strict_order: bool = True) -> None:
        sql = self.athena_sql(q)
        if q.order and q.limit is not None:
            positions = [q.select.index(k.column) for k in q.order]
            keys = [tuple(canonical(r[i]) for i in positions) for r in expected[: q.limit]]
            have = [tuple(canonical(r[i]) for i in positions) for r in got]
            if have != keys:
                engine_sql = self.renderer().query(q, limit=False)
                raise DifferentialFailure(f"ORDER BY + LIMIT differs from {what}:\n  afq keys {have}\n"
                                          f"  expected {keys}\n  {sql}\n  engine: {engine_sql}")
            extra = Counter(map(_canonical_row, got)) - Counter(map(_canonical_row, expected))
            if extra:
                raise DifferentialFailure(f"ORDER BY + LIMIT returned rows {what} does not have: {extra}\n  {sql}")
            return
        have, want = Counter(map(_canonical_row, got)), Counter(map(_canonical_row, expected))
        if have != want:
            raise DifferentialFailure(
                f"rows differ from {what}:\n  afq has, {what} has not: {dict(have - want)}\n"
                f"  {what} has, afq has not: {dict(want - have)}\n  {sql}\n"
                f"  engine: {self.renderer().query(q, limit=False)}")

    def describe(self) -> str:
        columns = ", ".join(f"{c.name} {c.ddl or '(no type)'}{' AS ' + c.computed if c.computed else ''} -> "
                            f"{c.type.sql}" for c in self.table.columns)
        return f"{self.engine.name} table {self.table.name} ({columns}), {len(self.table.rows)} rows"


def _canonical_row(row: Sequence[Any]) -> Row:
    return tuple(canonical(v) for v in row)


def unique_name() -> str:
    return f"f{uuid.uuid4().hex[:10]}"
