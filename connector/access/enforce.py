"""Enforcing the access policy on every request path.

The service asks ``AccessControl`` for the caller's ``CallerAccess`` (None when no policy is configured:
today's behaviour) and uses the functions here to hide schemas, tables and columns, refuse what would widen
access (hidden columns in a projection, constraints or sort keys on masked columns, passthrough, crafted or
replayed splits, unlisted UDFs), add the row filter to the constraints the adapter pushes down, and - whatever
the adapter did - re-apply the row filter and the masks to the rows before they leave the Lambda.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from connector.access.policy import CallerAccess, Mask, PolicyError, TableGrant
from connector.access.source import DEFAULT_TTL_SECONDS, PolicySource
from connector.adapter import TableDefinition
from connector.config import Settings
from connector.errors import AccessDenied, TableNotFound
from connector.protocol.constraints import Constraints, Expression, columns_of
from connector.protocol.messages import Identity, TableName
from connector.protocol.types import empty_batch
from connector.pushdown.evaluate import expression_mask
from connector.pushdown.sql_expressions import ExpressionBuilder

SIGNATURE_PROPERTY = "afq.signature"


class AccessControl:
    def __init__(self, settings: Settings) -> None:
        location = (settings.env.get("access_policy") or "").strip()
        ttl = settings.env.get("access_policy_ttl_seconds")
        self.source = PolicySource(location, float(ttl) if ttl else DEFAULT_TTL_SECONDS) if location else None

    def caller(self, identity: Identity, catalog: str) -> CallerAccess | None:
        if self.source is None:
            return None
        policy = self.source.get()
        return CallerAccess(policy, policy.rule_for(identity), catalog)


# ---------------------------------------------------------------------------------------------- metadata

def visible_schemas(access: CallerAccess, schemas: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for s in schemas if access.schema_visible(s))


def visible_tables(access: CallerAccess, tables: Iterable[TableName]) -> tuple[TableName, ...]:
    return tuple(t for t in tables if access.grant(t.schema, t.table) is not None)


def grant_for(access: CallerAccess, table: TableName) -> TableGrant:
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

def authorize(access: CallerAccess, table: TableName, full_schema: pa.Schema, requested: pa.Schema,
              constraints: Constraints) -> tuple[TableGrant, Constraints]:
    """Refuse what would widen access; return the grant and the constraints with the row filter added."""
    grant = grant_for(access, table)
    hidden = [f.name for f in requested if not grant.column_visible(f.name)]
    if hidden:
        raise AccessDenied(f"access to column(s) {hidden} of {table} is denied ({access.who})")
    used = constraints.columns()
    blocked = sorted(c for c in used if not grant.column_visible(c) or c in grant.masks)
    if blocked:
        raise AccessDenied(f"filtering or sorting on column(s) {blocked} of {table} is denied: they are hidden or "
                           f"masked for you ({access.who})")
    row_filter = compile_row_filter(grant, table, full_schema)
    if row_filter is None:
        return grant, constraints
    return grant, Constraints(constraints.summary, (*constraints.expression, row_filter), constraints.order_by,
                              constraints.limit, constraints.passthrough, constraints.query_plan)


def compile_row_filter(grant: TableGrant, table: TableName, full_schema: pa.Schema) -> Expression | None:
    """The grant's row filter (Athena SQL) as a protocol expression over the table's columns."""
    if not grant.row_filter:
        return None
    try:
        tree = sqlglot.parse_one(grant.row_filter, read="trino")
    except sqlglot.errors.ParseError as e:
        raise PolicyError(f"the row filter for {table} does not parse: {str(e).splitlines()[0]}") from None
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


def guard_rows(batches: Iterable[pa.RecordBatch], grant: TableGrant, table: TableName, full_schema: pa.Schema,
               requested: pa.Schema, secret: str) -> Iterator[pa.RecordBatch]:
    """Re-apply the row filter, drop helper columns and mask, whatever the adapter already did."""
    row_filter = compile_row_filter(grant, table, full_schema)
    for batch in batches:
        kept = batch.filter(expression_mask([row_filter], batch)) if row_filter is not None else batch
        if not len(requested):
            yield empty_batch(kept.num_rows, requested)
            continue
        columns = [mask_column(kept.column(f.name), grant.masks.get(f.name), secret) for f in requested]
        yield pa.RecordBatch.from_arrays(columns, schema=requested)


def mask_column(column: pa.Array, mask: Mask | None, secret: str) -> pa.Array:
    if mask is None:
        return column
    if mask.kind == "null":
        return pa.nulls(len(column), column.type)
    if mask.kind == "fixed":
        return pc.if_else(pc.is_null(column), pa.nulls(len(column), column.type),
                          pa.scalar(mask.value, column.type))
    key = secret.encode()
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

def _split_digest(secret: str, identity: Identity, query_id: str, catalog: str, table: TableName,
                  properties: Mapping[str, str]) -> str:
    caller = [identity.arn, identity.account, sorted(identity.groups), sorted(identity.tags.items())]
    payload = json.dumps([caller, query_id, catalog, str(table), sorted(properties.items())], separators=(",", ":"))
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def sign_splits(access: CallerAccess, identity: Identity, query_id: str, catalog: str, table: TableName,
                splits: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Bind each split to this caller and query, so nobody can craft or replay one."""
    return [{**p, SIGNATURE_PROPERTY: _split_digest(access.policy.secret, identity, query_id, catalog, table, p)}
            for p in splits]


def verify_split(access: CallerAccess, identity: Identity, query_id: str, catalog: str, table: TableName,
                 properties: Mapping[str, str]) -> dict[str, str]:
    given = properties.get(SIGNATURE_PROPERTY, "")
    plain = {k: v for k, v in properties.items() if k != SIGNATURE_PROPERTY}
    expected = _split_digest(access.policy.secret, identity, query_id, catalog, table, plain)
    if not hmac.compare_digest(given, expected):
        raise AccessDenied(f"the split for {table} was not issued to this caller for this query; refused")
    return plain
