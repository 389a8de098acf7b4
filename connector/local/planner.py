"""From Athena SQL to per-table requests and the query DuckDB runs over their results.

1. ``parse_query``: parse with sqlglot (Trino dialect) and replace every federated table
   (``catalog.schema.table``, ``"lambda:fn".schema.table``, ``TABLE(catalog.system.query(query => '...'))``)
   and every data lake file by a named source DuckDB will see.
2. ``plan_query``: with the tables' schemas and the connectors' capabilities, qualify every column, and decide
   for each table reference what Athena would push to its connector:

   * WHERE conjuncts (and inner-join ON conjuncts) over one table that is not on the null-supplying side of
     an outer join, and LEFT JOIN ON conjuncts over the joined table: single-column ones become the
     ``summary``; the rest become ``expression`` when the connector declares every function they use;
   * ORDER BY + LIMIT become top-N, LIMIT alone a limit, only for a query over that table alone whose filters
     were all pushed, and only when declared;
   * the projection is every column the remaining query still uses (none for ``count(*)``).

   Like Athena, pushed filters the connector declared are *trusted*: they are removed from the query DuckDB
   runs, so a connector that returns wrong rows gives wrong results (``--verify`` finds such rows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.scope import Scope, traverse_scope

from connector.local import strict_sql
from connector.local.domains import Domain, DomainBuilder
from connector.local.errors import QueryError, SqlError, node_position, resolve_error
from connector.local.session import Capabilities
from connector.local.trino_semantics import check_operators, follow_trino
from connector.protocol.constraints import (
    Constraints,
    Expression,
    OrderByField,
    SortDirection,
    SortedRangeSet,
    functions_of,
)
from connector.protocol.messages import TableName
from connector.protocol.types import athena_type_name
from connector.pushdown.sql_expressions import ExpressionBuilder

DIALECT = "trino"
LAKE_CATALOG = "lake"
_PASSTHROUGH_SCHEMA = "system"
_PASSTHROUGH_FUNCTION = "query"
_LAKE_FORMATS = (".parquet", ".csv", ".csv.gz", ".tsv", ".json", ".jsonl", ".ndjson")


@dataclass
class Source:
    """One table reference of the query, as DuckDB will see it (``name``)."""

    name: str
    alias: str
    kind: Literal["federated", "lake"]
    label: str
    catalog: str = ""
    table: TableName | None = None
    passthrough: dict[str, str] = field(default_factory=dict)
    path: str = ""
    schema: pa.Schema | None = None
    position: tuple[int, int] | None = None  # line, column of the reference in the SQL (for errors)

    @property
    def is_passthrough(self) -> bool:
        return bool(self.passthrough)


@dataclass
class ParsedQuery:
    sql: str
    tree: exp.Query
    sources: list[Source]


@dataclass
class Pushed:
    """A predicate of the query and what became of it for one table."""

    sql: str  # Trino SQL of the predicate, for explain
    node: exp.Expr  # the qualified predicate (columns as "alias"."column"), for --verify
    kind: Literal["summary", "expression", "engine"]
    trusted: bool  # the connector declared it: the engine does not apply it again
    reason: str = ""


@dataclass
class TablePlan:
    source: Source
    serde_version: int
    capabilities: Capabilities
    constraints: Constraints
    columns: list[str]
    predicates: list[Pushed]
    limit_note: str = ""

    @property
    def trusted(self) -> list[Pushed]:
        return [p for p in self.predicates if p.trusted]


@dataclass
class QueryPlan:
    parsed: ParsedQuery
    tables: list[TablePlan]
    lake: list[Source]
    engine_sql: str


# ------------------------------------------------------------------------------------------ parsing


def parse_query(sql: str, *, default_catalog: str | None = None, lake_catalog: str = LAKE_CATALOG,
                lake_dir: str = ".") -> ParsedQuery:
    statements = strict_sql.parse(sql)
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise QueryError(f"only queries can run locally, not {type(tree).__name__.upper()} statements")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    sources: list[Source] = []
    for node in list(tree.find_all(exp.Table)):
        try:
            source = _source(node, len(sources) + 1, ctes, default_catalog, lake_catalog, lake_dir)
        except QueryError as e:
            if isinstance(e, SqlError) or node_position(node) is None:
                raise
            line, column = node_position(node)  # type: ignore[misc]
            raise SqlError(str(e), line, column, sql=sql, kind="TABLE_NOT_FOUND"
                           if "not found" in str(e) else "SYNTAX_ERROR") from None
        if source is None:
            continue
        source.position = node_position(node)
        sources.append(source)
        replacement = node.copy()
        for key in ("db", "catalog"):
            replacement.set(key, None)
        replacement.set("this", exp.to_identifier(source.name))
        replacement.set("alias", exp.TableAlias(this=exp.to_identifier(source.alias)))
        node.replace(replacement)
    return ParsedQuery(sql, tree, sources)


def _source(node: exp.Table, index: int, ctes: set[str], default_catalog: str | None, lake_catalog: str,
            lake_dir: str) -> Source | None:
    name = f"__afq_{index}"
    alias = node.alias.lower() if node.alias else ""
    inner = node.this
    if isinstance(inner, exp.Anonymous) and inner.name.upper() == "TABLE":
        catalog, arguments = _passthrough(inner, default_catalog)
        label = f"TABLE({catalog}.system.query(...))"
        return Source(name, alias or name, "federated", label, catalog=catalog,
                      table=TableName(_PASSTHROUGH_SCHEMA, _PASSTHROUGH_FUNCTION), passthrough=arguments)
    if isinstance(inner, exp.ReadParquet | exp.ReadCSV) or (
            isinstance(inner, exp.Anonymous) and inner.name.lower().startswith("read_")):
        path = _string_argument(inner)
        return Source(name, alias or name, "lake", f"{type(inner).__name__}({path!r})", path=path)
    if not isinstance(inner, exp.Identifier):
        return None
    table, schema, catalog = node.name, node.db, node.catalog
    if not schema:
        if table.lower() in ctes:
            return None
        raise QueryError(f"table {table!r} needs a schema and a catalog: write catalog.schema.table")
    if not catalog:
        if default_catalog is None:
            raise QueryError(f"table {schema}.{table} needs a catalog: write catalog.{schema}.{table} or pass "
                             f"--catalog")
        catalog = default_catalog
    label = f"{catalog}.{schema}.{table}"
    if catalog.lower() == lake_catalog.lower():
        return Source(name, alias or table.lower(), "lake", label, path=lake_path(lake_dir, schema, table))
    return Source(name, alias or table.lower(), "federated", label, catalog=catalog_name(catalog),
                  table=TableName(schema.lower(), table.lower()))


def catalog_name(catalog: str) -> str:
    """The catalogName Athena sends: lower case, except the function name of ``lambda:<function>``."""
    if catalog.lower().startswith("lambda:"):
        return "lambda:" + catalog.split(":", 1)[1]
    return catalog.lower()


def lake_path(lake_dir: str, schema: str, table: str) -> str:
    """``lake.<schema>.<table>``: ``<lake_dir>/<schema>/<table>.parquet`` (or .csv, .json...), or a directory of
    Parquet files ``<lake_dir>/<schema>/<table>/``."""
    # Names match case-insensitively, as federated ones do (Athena lower-cases them): lake.Web.Visits is
    # web/visits.parquet, and web/Visits.parquet is lake.web.visits. An exact match wins over others.
    directory = _entry(lake_dir, schema, directory=True)
    if directory is not None:
        for suffix in _LAKE_FORMATS:
            found = _entry(directory, table + suffix, directory=False)
            if found is not None:
                return found
        found = _entry(directory, table, directory=True)
        if found is not None:
            return os.path.join(found, "*.parquet")
    base = os.path.join(lake_dir, schema, table)
    raise QueryError(f"lake table {schema}.{table} not found: no {base}{{{','.join(_LAKE_FORMATS)}}} and no "
                     f"directory {base}/ of .parquet files, in any letter case (lake directory: "
                     f"{os.path.abspath(lake_dir)}; set it with --lake-dir or $AFQ_LAKE_DIR)")


def _entry(parent: str, name: str, *, directory: bool) -> str | None:
    """``parent/name`` if it exists (a directory or a file as asked), matching the name case-insensitively."""
    exact = os.path.join(parent, name)
    if (os.path.isdir(exact) if directory else os.path.isfile(exact)):
        return exact
    try:
        entries = sorted(os.listdir(parent))
    except OSError:
        return None
    for entry in entries:
        path = os.path.join(parent, entry)
        if entry.lower() == name.lower() and (os.path.isdir(path) if directory else os.path.isfile(path)):
            return path
    return None


def _passthrough(node: exp.Anonymous, default_catalog: str | None) -> tuple[str, dict[str, str]]:
    usage = "write TABLE(catalog.system.query(query => 'native SQL'))"
    if len(node.expressions) != 1:
        raise QueryError(f"TABLE(...) takes one table function call: {usage}")
    parts = list(_dot_parts(node.expressions[0]))
    function = parts[-1]
    names = [p.name for p in parts[:-1]]
    if not isinstance(function, exp.Anonymous) or function.name.lower() != _PASSTHROUGH_FUNCTION or (
            not names or names[-1].lower() != _PASSTHROUGH_SCHEMA or len(names) > 2):
        raise QueryError(f"unsupported table function {node.expressions[0].sql(DIALECT)}: {usage}")
    if len(names) == 2:
        catalog = catalog_name(names[0])
    elif default_catalog is not None:
        catalog = catalog_name(default_catalog)
    else:
        raise QueryError(f"the passthrough query needs a catalog: {usage} or pass --catalog")
    arguments: dict[str, str] = {}
    for i, arg in enumerate(function.expressions):
        key, value = (arg.this.name, arg.expression) if isinstance(arg, exp.Kwarg) else (
            "query" if i == 0 else f"arg{i}", arg)
        if not (isinstance(value, exp.Literal) and value.is_string):
            raise QueryError(f"passthrough argument {key} must be a string literal")
        arguments[key.upper()] = str(value.this)
    if not arguments.get("QUERY", "").strip():
        raise QueryError(f"system.query needs a non-empty query argument: {usage}")
    return catalog, arguments


def _dot_parts(node: exp.Expr) -> Iterator[exp.Expr]:
    if isinstance(node, exp.Dot):
        yield from _dot_parts(node.this)
        yield from _dot_parts(node.expression)
    elif isinstance(node, exp.Column):
        yield from node.parts
    else:
        yield node


def _string_argument(node: exp.Expr) -> str:
    first = node.this if isinstance(node.this, exp.Expr) else (node.expressions[0] if node.expressions
                                                                      else None)
    if not (isinstance(first, exp.Literal) and first.is_string):
        raise QueryError(f"{node.sql(DIALECT)}: the file name must be a string literal")
    return str(first.this)


# ------------------------------------------------------------------------------------------ planning


def sqlglot_schema(sources: list[Source]) -> dict[str, object]:
    out: dict[str, object] = {}
    for s in sources:
        assert s.schema is not None, f"{s.label} has no schema yet"
        out[s.name] = {f.name: _type_name(f.type) for f in s.schema}
    return out


def _type_name(t: pa.DataType) -> str:
    name = athena_type_name(t)
    try:
        exp.DataType.build(name, dialect=DIALECT)
    except (ParseError, ValueError):
        return "unknown"
    return name


def plan_query(parsed: ParsedQuery, connectors: Mapping[str, tuple[int, Capabilities]]) -> QueryPlan:
    """``connectors``: source name -> (negotiated serde version, declared capabilities)."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema = sqlglot_schema(parsed.sources)
    try:
        tree = qualify(_mark_unnamed(parsed.tree.copy()), schema=schema, dialect=DIALECT,
                       validate_qualify_columns=True, quote_identifiers=True)
        tree = annotate_types(tree, schema=schema, dialect=DIALECT)
        check_operators(tree)
    except (OptimizeError, ParseError) as e:
        raise resolve_error(e, parsed.sql, parsed.tree) from None
    federated = {s.name: s for s in parsed.sources if s.kind == "federated"}
    states = {name: _TableState(s, *connectors[name]) for name, s in federated.items()}

    removals: dict[tuple[int, str], tuple[exp.Expr, str, list[exp.Expr]]] = {}
    for scope in traverse_scope(tree):
        select = scope.expression
        if isinstance(select, exp.Select):
            for owner, arg, conjunct in _filters(scope, select, states):
                removals.setdefault((id(owner), arg), (owner, arg, []))[2].append(conjunct)
    for owner, arg, conjuncts in removals.values():
        _remove(owner, arg, conjuncts)
    for scope in traverse_scope(tree):
        if isinstance(scope.expression, exp.Select):
            _limits(scope, scope.expression, states)
    _projections(tree, states)
    _athena_column_names(tree)
    follow_trino(tree)
    plans = [state.plan() for state in states.values()]
    lake = [s for s in parsed.sources if s.kind == "lake"]
    return QueryPlan(parsed, plans, lake, tree.sql(dialect="duckdb"))


class _TableState:
    def __init__(self, source: Source, serde_version: int, capabilities: Capabilities) -> None:
        self.source = source
        self.serde_version = serde_version
        self.capabilities = capabilities
        self.domains: dict[str, tuple[pa.DataType, Domain]] = {}
        self.expressions: list[Expression] = []
        self.predicates: list[Pushed] = []
        self.order_by: tuple[OrderByField, ...] = ()
        self.limit = -1
        self.limit_note = ""
        self.columns: set[str] = set()

    def column_of(self, scope: Scope) -> Any:
        schema = self.source.schema
        assert schema is not None

        def find(node: exp.Expr) -> tuple[str, pa.DataType] | None:
            if not isinstance(node, exp.Column) or _resolve(scope, node) != self.source.name:
                return None
            index = schema.get_field_index(node.name)
            return None if index < 0 else (node.name, schema.field(index).type)
        return find

    def consider(self, conjunct: exp.Expr, scope: Scope) -> bool:
        """Record what Athena would do with the conjunct; True if the engine need not apply it again."""
        trino, engine = conjunct.sql(DIALECT), conjunct.copy()
        if self.source.is_passthrough:
            self.predicates.append(Pushed(trino, engine, "engine", False, "passthrough queries take no filters"))
            return False
        column_of = self.column_of(scope)
        found = DomainBuilder(column_of).build(conjunct)
        if found is not None:
            column, t, domain = found
            if domain.is_all:
                self.predicates.append(Pushed(trino, engine, "engine", False, "always true for non-null input"))
                return False
            if domain.needs_nullable_comparison and self.capabilities.filter and (
                    not self.capabilities.nullable_comparison):
                self.predicates.append(Pushed(trino, engine, "engine", False,
                                              "admits NULL and the connector has no nullable_comparison"))
                return False
            previous = self.domains.get(column)
            self.domains[column] = (t, domain if previous is None else previous[1] & domain)
            trusted = self.serde_version >= 4 and self.capabilities.filter
            reason = "" if trusted else "the connector declares no filter pushdown: the engine filters again"
            self.predicates.append(Pushed(trino, engine, "summary", trusted, reason))
            return trusted
        expression = ExpressionBuilder(column_of).build(conjunct)
        if expression is None:
            self.predicates.append(Pushed(trino, engine, "engine", False, "no standard function form"))
            return False
        missing = sorted(functions_of(expression) - self.capabilities.functions)
        if self.serde_version < 4 or missing:
            why = (f"needs {', '.join(missing)}, which the connector does not declare" if self.serde_version >= 4
                   else f"serde v{self.serde_version} has no expressions")
            self.predicates.append(Pushed(trino, engine, "engine", False, why))
            return False
        self.expressions.append(expression)
        self.predicates.append(Pushed(trino, engine, "expression", True))
        return True

    def plan(self) -> TablePlan:
        summary = {c: d.value_set(t) for c, (t, d) in self.domains.items()}
        constraints = Constraints(summary=summary, expression=tuple(self.expressions), order_by=self.order_by,
                                  limit=self.limit, passthrough=dict(self.source.passthrough))
        schema = self.source.schema
        assert schema is not None
        columns = [f.name for f in schema if f.name in self.columns]
        return TablePlan(self.source, self.serde_version, self.capabilities, constraints, columns, self.predicates,
                         self.limit_note)


def _resolve(scope: Scope, column: exp.Column) -> str | None:
    """The source name (``__afq_N``) a column belongs to, looking through enclosing scopes (correlation)."""
    alias = column.table
    current: Scope | None = scope
    while current is not None:
        source = current.sources.get(alias)
        if source is not None:
            return source.name if isinstance(source, exp.Table) else None
        current = current.parent
    return None


def _conjuncts(condition: exp.Expr | None) -> list[exp.Expr]:
    if condition is None:
        return []
    node = condition.this if isinstance(condition, exp.Paren) else condition
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [condition]


_UNPUSHABLE = (exp.Subquery, exp.Exists, exp.AggFunc, exp.Window, exp.Rand, exp.Select)


def _single_source(conjunct: exp.Expr, scope: Scope) -> str | None:
    if conjunct.find(*_UNPUSHABLE):
        return None
    names = {_resolve(scope, c) for c in conjunct.find_all(exp.Column)}
    if len(names) != 1:
        return None
    return names.pop()


def _filters(scope: Scope, select: exp.Select,
             states: Mapping[str, _TableState]) -> list[tuple[exp.Expr, str, exp.Expr]]:
    joins: list[exp.Join] = list(select.args.get("joins") or [])
    items = [select.args.get("from_"), *joins]
    names = [_item_name(item.this if item is not None else None) for item in items]
    null_supplying: set[str] = set()
    for k, join in enumerate(joins, start=1):
        side = (join.side or "").upper()
        joined = names[k]
        if side in ("LEFT", "FULL") and joined:
            null_supplying.add(joined)
        if side in ("RIGHT", "FULL"):
            null_supplying.update(n for n in names[:k] if n)
    removals = []

    def offer(owner: exp.Expr, arg: str, condition: exp.Expr | None, allowed: set[str] | None) -> None:
        for conjunct in _conjuncts(condition):
            name = _single_source(conjunct, scope)
            if name is None or name not in states:
                continue
            if allowed is not None and name not in allowed:
                continue
            if allowed is None and name in null_supplying:
                continue
            if states[name].consider(conjunct, scope):
                removals.append((owner, arg, conjunct))

    where = select.args.get("where")
    if where is not None:
        offer(where, "this", where.this, None)
    for k, join in enumerate(joins, start=1):
        on = join.args.get("on")
        side = (join.side or "").upper()
        if on is None or (join.kind or "").upper() in ("CROSS", "SEMI", "ANTI"):
            continue
        joined = names[k]
        if side == "LEFT" and joined:
            offer(join, "on", on, {joined})
        elif not side:
            offer(join, "on", on, None)
    return removals


def _item_name(node: exp.Expr | None) -> str | None:
    return node.name if isinstance(node, exp.Table) and node.name.startswith("__afq_") else None


def _remove(owner: exp.Expr, arg: str, dropped: list[exp.Expr]) -> None:
    """Drop conjuncts from a WHERE or ON condition (an emptied WHERE goes, an emptied ON becomes TRUE)."""
    remaining = [c for c in _conjuncts(owner.args.get(arg)) if not any(c is d for d in dropped)]
    if remaining:
        owner.set(arg, exp.and_(*remaining, copy=False) if len(remaining) > 1 else remaining[0])
    elif isinstance(owner, exp.Where):
        owner.pop()
    else:
        owner.set(arg, exp.true())


def _limits(scope: Scope, select: exp.Select, states: Mapping[str, _TableState]) -> None:
    """ORDER BY + LIMIT -> top-N, LIMIT -> limit, for a query over one table whose filters were all pushed."""
    limit = select.args.get("limit")
    if not isinstance(limit, exp.Limit):
        return
    selected = list(scope.selected_sources.values())
    tables = [node for node, _ in selected if isinstance(node, exp.Table)]
    if len(selected) != 1 or len(tables) != 1 or tables[0].name not in states:
        return
    state = states[tables[0].name]
    blockers = [key for key in ("joins", "where", "group", "having", "distinct", "qualify", "offset")
                if select.args.get(key)]
    if any(e.find(exp.AggFunc, exp.Window) for e in select.expressions):
        blockers.append("aggregates")
    if state.source.is_passthrough:
        blockers.append("passthrough")
    count = limit.expression
    if not (isinstance(count, exp.Literal) and not count.is_string and str(count.this).isdigit()):
        blockers.append("a non-constant LIMIT")
    if blockers:
        state.limit_note = f"LIMIT stays with the engine ({', '.join(blockers)})"
        return
    n = int(str(count.this))
    order = select.args.get("order")
    caps = state.capabilities
    if order is not None:
        fields = []
        # qualify leaves ORDER BY on an output name (ORDER BY amount, ORDER BY 2): look through the alias.
        outputs = {e.alias: e.this for e in select.expressions if isinstance(e, exp.Alias)}
        for ordered in order.expressions:
            column = ordered.this
            if isinstance(column, exp.Column) and not column.table and column.name in outputs:
                column = outputs[column.name]
            if not isinstance(column, exp.Column) or _resolve(scope, column) != state.source.name:
                state.limit_note = "ORDER BY + LIMIT stay with the engine (a sort key is not a column)"
                return
            direction = ("DESC" if ordered.args.get("desc") else "ASC") + (
                "_NULLS_FIRST" if ordered.args.get("nulls_first") else "_NULLS_LAST")
            fields.append(OrderByField(column.name, SortDirection(direction)))
        if state.serde_version < 4 or not caps.top_n:
            state.limit_note = "ORDER BY + LIMIT stay with the engine (no top-N pushdown declared)"
            return
        state.order_by, state.limit = tuple(fields), n
        state.limit_note = "ORDER BY + LIMIT pushed as top-N (each split returns its top rows; the engine merges)"
        return
    if state.serde_version < 4 or not caps.limit:
        state.limit_note = "LIMIT stays with the engine (no limit pushdown declared)"
        return
    state.limit = n
    state.limit_note = "LIMIT pushed (each split returns at most that many rows; the engine applies it again)"


def _projections(tree: exp.Expr, states: Mapping[str, _TableState]) -> None:
    for scope in traverse_scope(tree):
        for column in scope.columns:
            name = _resolve(scope, column)
            if name is not None and name in states:
                states[name].columns.add(column.name)


def describe_value_set(column: str, value_set: SortedRangeSet) -> str:
    """``amount > 990.00``-style rendering of a summary entry, for --explain."""
    parts = []
    points = [r.low.value for r in value_set.ranges if r.is_single_value]
    if len(points) == 1:
        parts.append(f"{column} = {sql_literal(points[0])}")
    elif points:
        parts.append(f"{column} IN ({', '.join(sql_literal(p) for p in points)})")
    for r in value_set.ranges:
        if r.is_single_value:
            continue
        if r.is_all:
            parts.append(f"{column} IS NOT NULL")
            continue
        bounds = []
        if not r.low.unbounded:
            bounds.append(f"{column} {'>=' if r.low.bound.value == 'EXACTLY' else '>'} {sql_literal(r.low.value)}")
        if not r.high.unbounded:
            bounds.append(f"{column} {'<=' if r.high.bound.value == 'EXACTLY' else '<'} {sql_literal(r.high.value)}")
        parts.append(" AND ".join(bounds) if len(bounds) == 1 else f"({' AND '.join(bounds)})")
    if value_set.null_allowed:
        parts.append(f"{column} IS NULL")
    if not parts:
        return f"{column}: no value (contradiction)"
    return " OR ".join(parts)


def sql_literal(value: Any) -> str:
    """A value as Athena SQL would write it (for display only; never executed)."""
    import datetime as dt

    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bytes):
        return "X'" + value.hex() + "'"
    return str(value)


_UNNAMED = "afq_unnamed"


def _mark_unnamed(tree: exp.Expr) -> exp.Expr:
    """Athena names an output column after a bare column or an alias only; mark the others before sqlglot's
    qualify names them after what they contain (``CAST(qty AS bigint)`` would be ``qty``, ``1`` would be ``1``)."""
    query = tree
    while isinstance(query, exp.SetOperation | exp.Subquery):
        query = query.this
    if isinstance(query, exp.Select):
        for e in query.selects:
            if not isinstance(e, exp.Alias | exp.Column | exp.Star):
                e.meta[_UNNAMED] = True
    return tree


def _athena_column_names(tree: exp.Expr) -> None:
    """Unnamed output columns are ``_col<position>`` in Athena: ``_col0``, ``_col1``..."""
    if not isinstance(tree, exp.Query):
        return
    renamed = {}
    for i, e in enumerate(tree.selects):
        if isinstance(e, exp.Alias) and e.this.meta.get(_UNNAMED):
            renamed[e.alias] = f"_col{i}"
            e.set("alias", exp.to_identifier(renamed[e.alias], quoted=True))
    order = tree.args.get("order")
    if renamed and order is not None:
        for column in order.find_all(exp.Column):
            if not column.table and column.name in renamed:
                column.set("this", exp.to_identifier(renamed[column.name], quoted=True))
