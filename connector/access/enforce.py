"""Enforcing the access policy on every request path.

The service asks ``AccessControl`` (``connector.access.control``) for the caller's ``CallerAccess`` (None when no
policy is configured: today's behaviour) and uses the functions here to hide schemas, tables and columns, refuse
what would widen access (hidden columns in a projection, constraints or sort keys on masked columns, passthrough,
crafted or replayed splits, unlisted UDFs), add the row filter to the constraints the adapter pushes down, and -
whatever the adapter did - re-apply the row filter and the masks to the rows before they leave the Lambda.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from connector.access.policy import MASK_KEY, SPLIT_KEY, CallerAccess, Mask, Policy, PolicyError, TableGrant
from connector.adapter import Adapter, RequestContext, TableDefinition
from connector.errors import AccessDenied, ConnectorError, SchemaNotFound, TableNotFound, first_line
from connector.protocol.constraints import Constraints, Expression, columns_of
from connector.protocol.messages import Identity, TableName
from connector.protocol.types import empty_batch
from connector.pushdown.evaluate import expression_mask, filter_mask
from connector.pushdown.sql_expressions import ExpressionBuilder
from connector.scan import ordered_and_limited
from connector.tokens import parse_count
from connector.topn import DEFAULT_MEMORY_BYTES

SIGNATURE_PROPERTY = "afq.signature"


def check_names(table: TableName, requested: pa.Schema | None = None, constraints: Constraints | None = None) -> None:
    """Athena sends lower-case names only; with a policy anything else is a crafted request. Refusing it means
    the policy and the adapter (which resolves names case-insensitively) always see the same names."""
    names = [table.schema, table.table, *(requested.names if requested is not None else ()),
             *(constraints.columns() if constraints is not None else ())]
    bad = [n for n in names if n != n.lower() or n != n.strip()]
    if bad:
        raise AccessDenied(f"names must be lower case without surrounding blanks, as Athena sends them: {bad[:5]}")


# ---------------------------------------------------------------------------------------------- metadata

def visible_schemas(access: CallerAccess, schemas: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in schemas if access.schema_visible(s))


def visible_tables(access: CallerAccess, tables: Iterable[TableName]) -> tuple[TableName, ...]:
    """Only the granted tables (names are lower case: adapters return them so, the service checks it)."""
    return tuple(t for t in tables if access.grant(t.schema, t.table) is not None)


_PAGE_PREFIX = "offset:"


def list_visible_tables(access: CallerAccess, adapter: Adapter, ctx: RequestContext, schema: str | None,
                        next_token: str | None, page_size: int) -> tuple[tuple[TableName, ...], str | None]:
    """ListTables for a restricted caller: every table listed, filtered, *then* paged - so neither a page's
    length nor a token's offset counts hidden tables - and a hidden schema answers exactly as a missing one."""
    if schema is not None:
        if schema != schema.lower() or not access.schema_visible(schema):
            raise SchemaNotFound(_missing_schema(schema))
        try:
            listed = adapter.list_tables(ctx, schema, None, -1).tables
        except SchemaNotFound:
            raise SchemaNotFound(_missing_schema(schema)) from None
    else:
        schemas = visible_schemas(access, adapter.list_schemas(ctx))
        listed = [t for s in schemas for t in adapter.list_tables(ctx, s, None, -1).tables]
    bad = [t.table for t in listed if t.table != t.table.lower()]
    if bad:
        raise ConnectorError(f"the adapter returned table names that are not lower case: {bad[:5]}; Athena only "
                             f"handles lower-case names")
    tables = visible_tables(access, listed)
    if schema is None:
        return tables, None
    start = parse_count(next_token.removeprefix(_PAGE_PREFIX), "ListTables nextToken") if next_token else 0
    if page_size < 0:  # as Java: -1 is every table from the token on
        return tables[start:], None
    end = start + page_size  # 0: an empty page that keeps the position, as Java's pagination does
    return tables[start:end], (f"{_PAGE_PREFIX}{end}" if end < len(tables) else None)


def _missing_schema(schema: str) -> str:
    return f"schema {schema[:200]!r} not found"


def grant_for(access: CallerAccess, table: TableName) -> TableGrant:
    check_names(table)
    grant = access.grant(table.schema, table.table)
    if grant is None:  # the same answer as for a table that does not exist: no existence leak
        raise TableNotFound(f"table {table} not found")
    return grant


def restrict_definition(access: CallerAccess, table: TableName, definition: TableDefinition) -> TableDefinition:
    """Only the visible columns (masked ones keep their type); partition columns follow their columns."""
    grant = grant_for(access, table)
    fields = [f for f in definition.schema if grant.column_visible(f.name)]
    for column, mask in grant.masks.items():
        field = next((f for f in fields if f.name == column), None)
        if field is not None:
            _check_mask_type(mask, field, table)
    schema = pa.schema(fields, metadata=definition.schema.metadata)
    partitions = tuple(c for c in definition.partition_columns if grant.column_visible(c))
    return TableDefinition(schema, partitions)


def _check_mask_type(mask: Mask, field: pa.Field, table: TableName) -> None:
    t = field.type
    ok = (mask.kind == "null" or (mask.kind == "fixed" and pa.types.is_string(t))
          or (mask.kind == "hash" and (pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_integer(t))))
    if not ok:
        raise PolicyError(f"the access policy masks {table}.{field.name} ({t}) with {mask.kind!r}, which does not "
                          f"keep its type; use \"null\" (any type), fixed (varchar) or hash (varchar, varbinary, "
                          f"integers)")


def refuse_passthrough(access: CallerAccess) -> None:
    if not access.unrestricted:
        raise AccessDenied(f"query passthrough is refused for callers with restricted access ({access.who})")


# ---------------------------------------------------------------------------------------------- scans

@dataclass(frozen=True)
class Authorized:
    """A scan the policy allows: what the adapter gets, and what the framework applies after the row filter."""

    grant: TableGrant
    #: For the adapter: the caller's value sets and the row filter (plus the caller's ORDER BY/LIMIT when nothing
    #: else remains). Value sets compare a column with constants, which cannot fail on any row.
    constraints: Constraints
    #: The caller's own expressions (and then ORDER BY/LIMIT), applied in the framework to rows that passed the
    #: row filter only: an error they raise can never come from a hidden row.
    after: Constraints
    #: The requested columns as the adapter itself describes them (its resolved source names, not the caller's).
    schema: pa.Schema


def authorize(access: CallerAccess, table: TableName, full_schema: pa.Schema, requested: pa.Schema,
              constraints: Constraints) -> Authorized:
    """Refuse what would widen access; split the constraints so that the row filter is evaluated first."""
    check_names(table, requested, constraints)
    grant = grant_for(access, table)
    hidden = [f.name for f in requested if not grant.column_visible(f.name)]
    if hidden:
        raise AccessDenied(f"access to column(s) {hidden} of {table} is denied ({access.who})")
    unknown = [f.name for f in requested if full_schema.get_field_index(f.name) < 0]
    if unknown:
        raise AccessDenied(f"column(s) {unknown} are not columns of {table}")
    if not access.unrestricted:
        # A column read as another type fails on some values and not others: an oracle on the values.
        confused = [f"{f.name} ({f.type}, is {full_schema.field(f.name).type})" for f in requested
                    if f.type != full_schema.field(f.name).type]
        if confused:
            raise AccessDenied(f"column(s) of {table} requested with another type than the table has: "
                               f"{', '.join(confused)}")
    used = constraints.columns()
    blocked = sorted(c for c in used if not grant.column_visible(c) or c in grant.masks)
    if blocked:
        raise AccessDenied(f"filtering or sorting on column(s) {blocked} of {table} is denied: they are hidden or "
                           f"masked for you ({access.who})")
    # The adapter's own field descriptions (its resolved source names), with the requested types.
    schema = pa.schema([full_schema.field(f.name).with_type(f.type) for f in requested], metadata=full_schema.metadata)
    if access.unrestricted:
        return Authorized(grant, constraints, Constraints(), schema)
    row_filter = compile_row_filter(grant, table, full_schema)
    # Substrait plans are not checked column by column: a restricted caller's plan never reaches the adapter.
    if row_filter is None:
        plain = Constraints(constraints.summary, constraints.expression, constraints.order_by, constraints.limit)
        return Authorized(grant, plain, Constraints(), schema)
    if not constraints.expression:
        first = Constraints(constraints.summary, (row_filter,), constraints.order_by, constraints.limit)
        return Authorized(grant, first, Constraints(), schema)
    first = Constraints(constraints.summary, (row_filter,))
    after = Constraints(expression=constraints.expression, order_by=constraints.order_by, limit=constraints.limit)
    return Authorized(grant, first, after, schema)


def compile_row_filter(grant: TableGrant, table: TableName, full_schema: pa.Schema) -> Expression | None:
    """The grant's row filter (Athena SQL) as a protocol expression over the table's columns."""
    if not grant.row_filter:
        return None
    try:
        tree = sqlglot.parse_one(grant.row_filter, read="trino")
    except sqlglot.errors.ParseError as e:
        raise PolicyError(f"the row filter for {table} does not parse: {first_line(e)}") from None
    types = {f.name: f.type for f in full_schema}
    unknown = sorted({c.name.lower() for c in tree.find_all(exp.Column)} - set(types))
    if unknown:
        raise PolicyError(f"the row filter for {table} names column(s) {unknown}, which the table does not have")

    def column_of(node: exp.Expr) -> tuple[str, pa.DataType] | None:
        if isinstance(node, exp.Column) and node.name.lower() in types:
            return node.name.lower(), types[node.name.lower()]
        return None

    expression = ExpressionBuilder(column_of).build(tree)
    if expression is None:
        raise PolicyError(f"the row filter for {table} ({grant.row_filter!r}) uses SQL that has no standard "
                          f"federation function (comparisons, AND/OR/NOT, IN, LIKE, IS NULL, arithmetic)")
    return expression


def filter_columns(grant: TableGrant, table: TableName, full_schema: pa.Schema) -> list[str]:
    expression = compile_row_filter(grant, table, full_schema)
    return [] if expression is None else sorted(columns_of(expression))


def guard_rows(batches: Iterable[pa.RecordBatch], authorized: Authorized, table: TableName,
               full_schema: pa.Schema, requested: pa.Schema, policy: Policy, *,
               sort_memory_bytes: int = DEFAULT_MEMORY_BYTES) -> Iterator[pa.RecordBatch]:
    """Re-apply the row filter (whatever the adapter did), then the caller's own expressions on the rows that
    passed it, then ORDER BY/LIMIT (in bounded memory); drop helper columns and mask."""
    grant = authorized.grant
    row_filter = compile_row_filter(grant, table, full_schema)
    batches = iter(batches)
    if row_filter is not None:
        batches = (b.filter(expression_mask([row_filter], b)) for b in batches)
    after = authorized.after
    if after.expression:
        batches = (b.filter(filter_mask({}, after.expression, b)) for b in batches)
    batches = ordered_and_limited(batches, after.order_by, after.limit, memory_bytes=sort_memory_bytes)
    key = policy.key(MASK_KEY)
    for kept in batches:
        if not len(requested):
            yield empty_batch(kept.num_rows, requested)
            continue
        columns = [mask_column(kept.column(f.name), grant.masks.get(f.name), key) for f in requested]
        yield pa.RecordBatch.from_arrays(columns, schema=requested)


def mask_column(column: pa.Array, mask: Mask | None, key: bytes) -> pa.Array:
    if mask is None:
        return column
    if mask.kind == "null":
        return pa.nulls(len(column), column.type)
    if mask.kind == "fixed":
        return pc.if_else(pc.is_null(column), pa.nulls(len(column), column.type),
                          pa.scalar(mask.value, column.type))
    t = column.type
    out: list[Any] = []
    for value in column.to_pylist():
        if value is None:
            out.append(None)
            continue
        data = value if isinstance(value, bytes) else str(value).encode()
        digest = hmac.new(key, data, hashlib.sha256).digest()
        if pa.types.is_string(t):
            out.append(digest.hex())
        elif pa.types.is_binary(t):
            out.append(digest)
        else:
            out.append(int.from_bytes(digest[: t.bit_width // 8], "big", signed=True))
    return pa.array(out, type=t)


# ---------------------------------------------------------------------------------------------- splits

def _split_digest(key: bytes, identity: Identity, query_id: str, catalog: str, table: TableName,
                  properties: Mapping[str, str]) -> str:
    caller = [identity.arn, identity.account, sorted(identity.groups), sorted(identity.tags.items())]
    payload = json.dumps([caller, query_id, catalog, str(table), sorted(properties.items())], separators=(",", ":"))
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def sign_splits(access: CallerAccess, identity: Identity, query_id: str, catalog: str, table: TableName,
                splits: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Bind each split to this caller and query, so nobody can craft or replay one."""
    key = access.policy.key(SPLIT_KEY)
    return [{**p, SIGNATURE_PROPERTY: _split_digest(key, identity, query_id, catalog, table, p)} for p in splits]


def verify_split(access: CallerAccess, identity: Identity, query_id: str, catalog: str, table: TableName,
                 properties: Mapping[str, str]) -> dict[str, str]:
    given = properties.get(SIGNATURE_PROPERTY, "")
    plain = {k: v for k, v in properties.items() if k != SIGNATURE_PROPERTY}
    expected = _split_digest(access.policy.key(SPLIT_KEY), identity, query_id, catalog, table, plain)
    if not hmac.compare_digest(given, expected):
        raise AccessDenied(f"the split for {table} was not issued to this caller for this query; refused")
    return plain
