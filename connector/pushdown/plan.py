"""Serde v6 ``queryPlan``: the Substrait plan Athena sends with ReadRecords, read as constraints.

The Java JDBC connectors treat the plan as the authority when it is present (``JdbcSplitQueryBuilder`` renders
its SQL from it), so a restriction may live only in the plan. Here the plan's scan - filters, the sort and
fetch of a top-N or LIMIT - becomes ``Constraints`` that are *added* to what the request says: filters are
ANDed with ``summary`` and ``expression``, so no row the plan excludes is returned, and the ordinary
pushdown/residual machinery applies them exactly. A plan that contradicts the request's own ORDER BY or LIMIT,
names another table, or holds anything that cannot be evaluated exactly is refused with a clear error rather
than half-applied.

Plans are parsed with the Substrait project's generated protobuf classes (``substrait-protobuf``), imported
here only, when a request carries a plan.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from connector.errors import InvalidRequest, UnsupportedRequest
from connector.protocol.constraints import (
    Constant,
    Constraints,
    Expression,
    FunctionCall,
    OrderByField,
    SortDirection,
    Variable,
)

#: Largest plan accepted (base64 text); real scan plans are a few kilobytes.
MAX_PLAN_CHARS = 4_000_000
MAX_DEPTH = 64
BOOL = pa.bool_()
_COMPARISONS = {"equal": "$equal", "not_equal": "$not_equal", "lt": "$less_than", "lte": "$less_than_or_equal",
                "gt": "$greater_than", "gte": "$greater_than_or_equal", "is_distinct_from": "$is_distinct_from"}
_ARITHMETIC = {"add": "$add", "subtract": "$subtract", "multiply": "$multiply", "divide": "$divide",
               "modulus": "$modulus"}
#: Engines rewrite LIKE 'p%' and friends into these; each is that LIKE pattern.
_AFFIXES = {"starts_with": "%s%%", "ends_with": "%%%s", "contains": "%%%s%%"}
_SORTS = {1: SortDirection.ASC_NULLS_FIRST, 2: SortDirection.ASC_NULLS_LAST, 3: SortDirection.DESC_NULLS_FIRST,
          4: SortDirection.DESC_NULLS_LAST}


class PlanError(InvalidRequest):
    """The plan is malformed or contradicts the request."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"constraints.queryPlan: {problem}")


class PlanNotSupported(UnsupportedRequest):
    """The plan holds something this connector cannot apply exactly; ignoring it could return excluded rows."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"constraints.queryPlan: {problem}; the query cannot be answered exactly")


@dataclass(frozen=True)
class PlanScan:
    """What a plan asks of the scan, in the request's terms."""

    table: str | None
    filters: tuple[Expression, ...]
    order_by: tuple[OrderByField, ...]
    limit: int  # -1: none


def apply_plan(constraints: Constraints, table: str, schema: pa.Schema) -> Constraints:
    """``constraints`` with the plan's restrictions added (and the plan itself dropped: it is now applied).

    ``schema`` is the table's logical schema as far as known (the request's columns); columns the plan filters on
    that it lacks take their type from the plan.
    """
    plan = constraints.query_plan
    if plan is None or not plan.substrait_plan.strip() or constraints.is_passthrough:
        return constraints
    scan = read_plan(plan.substrait_plan, schema)
    if scan.table is not None and scan.table.lower() != table.lower():
        raise PlanError(f"the plan reads table {scan.table!r}, the request is for {table!r}")
    order_by, limit = constraints.order_by, constraints.limit
    if scan.limit >= 0:
        if constraints.has_limit and constraints.limit != scan.limit:
            raise PlanError(f"the plan fetches {scan.limit} rows but constraints.limit is {constraints.limit}")
        limit = scan.limit
    if scan.order_by:
        if order_by and order_by != scan.order_by:
            raise PlanError("the plan's sort differs from constraints.orderByClause")
        order_by = scan.order_by
    return replace(constraints, expression=constraints.expression + scan.filters, order_by=order_by, limit=limit,
                   query_plan=None)


def read_plan(text: str, schema: pa.Schema) -> PlanScan:
    """Decode a base64 Substrait ``Plan`` of one table scan."""
    from google.protobuf.message import DecodeError
    from substrait import plan_pb2

    if len(text) > MAX_PLAN_CHARS:
        raise PlanError(f"the plan is {len(text)} characters, more than {MAX_PLAN_CHARS}")
    try:
        data = base64.b64decode(text.strip(), validate=True)
        plan = plan_pb2.Plan()
        plan.ParseFromString(data)
    except (binascii.Error, ValueError, DecodeError, RecursionError):
        raise PlanError("substraitPlan is not a base64-encoded Substrait plan") from None
    if len(plan.relations) != 1 or plan.relations[0].WhichOneof("rel_type") != "root":
        raise PlanNotSupported(f"the plan has {len(plan.relations)} relations; one scan root is expected")
    functions = {e.extension_function.function_anchor: e.extension_function.name.split(":", 1)[0]
                 for e in plan.extensions if e.WhichOneof("mapping_type") == "extension_function"}
    return _Reader(functions, schema).scan(plan.relations[0].root.input)


@dataclass(frozen=True)
class _Column:
    name: str | None  # None: computed by the plan, not a table column
    type: pa.DataType | None


class _Reader:
    def __init__(self, functions: dict[int, str], schema: pa.Schema) -> None:
        self.functions = functions
        self.schema = schema
        self.by_lower = {n.lower(): n for n in schema.names}

    # ------------------------------------------------------------------------------------------ relations

    def scan(self, root: Any) -> PlanScan:
        chain = []
        rel = root
        for _ in range(MAX_DEPTH):
            kind = rel.WhichOneof("rel_type")
            if kind not in ("project", "filter", "sort", "fetch", "read"):
                raise PlanNotSupported(f"a {kind or 'empty'} relation is not a scan of one table")
            chain.append((kind, getattr(rel, kind)))
            if kind == "read":
                break
            rel = getattr(rel, kind).input
        else:
            raise PlanError(f"the plan is nested more than {MAX_DEPTH} relations deep")
        kinds = [k for k, _ in chain]
        if kinds.count("fetch") > 1 or kinds.count("sort") > 1:
            raise PlanNotSupported("more than one sort or fetch")
        lowest_cut = max((i for i, k in enumerate(kinds) if k in ("fetch", "sort")), default=-1)
        if lowest_cut >= 0 and "filter" in kinds[:lowest_cut]:
            raise PlanNotSupported("a filter above a sort or fetch")
        read = chain[-1][1]
        table = read.named_table.names[-1] if read.WhichOneof("read_type") == "named_table" and \
            read.named_table.names else None
        if read.WhichOneof("read_type") not in ("named_table", None):
            raise PlanNotSupported(f"a {read.WhichOneof('read_type')} read")
        base = self._base_columns(read)
        filters: list[Expression] = []
        for expression in (read.filter, read.best_effort_filter):
            if expression.ByteSize():
                filters.extend(self._conjuncts(self.expression(expression, base)))
        columns = self._emit(read, self._projected(read, base))
        order_by: tuple[OrderByField, ...] = ()
        limit = -1
        fetch_above_sort = False
        for kind, rel in reversed(chain[:-1]):  # bottom-up
            if kind == "filter":
                filters.extend(self._conjuncts(self.expression(rel.condition, columns)))
            elif kind == "project":
                outputs = list(columns)
                for e in rel.expressions:
                    outputs.append(self._projected_column(e, columns))
                columns = outputs
            elif kind == "sort":
                order_by = tuple(self._sort_field(s, columns) for s in rel.sorts)
            elif kind == "fetch":
                limit = self._fetch_count(rel)
                fetch_above_sort = bool(order_by)
            columns = self._emit(rel, columns)
        if order_by and limit < 0:
            order_by = ()  # a sort without a fetch is Athena's to do; nothing to push
        if limit >= 0 and order_by and not fetch_above_sort:
            order_by = ()  # fetch first, then sort: the rows are any `limit` rows
        return PlanScan(table, tuple(filters), order_by, limit)

    def _base_columns(self, read: Any) -> list[_Column]:
        names = list(read.base_schema.names)
        types = list(read.base_schema.struct.types)
        columns: list[_Column] = []
        position = 0
        for t in types:  # names list nested struct fields depth-first; only top-level columns matter here
            if position >= len(names):
                raise PlanError("base_schema has fewer names than types")
            name = names[position]
            position += 1 + _nested_names(t)
            columns.append(_Column(self.by_lower.get(name.lower(), name.lower()), _arrow_type(t)))
        return columns

    def _projected(self, read: Any, base: list[_Column]) -> list[_Column]:
        if not read.HasField("projection"):
            return base
        return [self._at(base, item.field) for item in read.projection.select.struct_items]

    def _emit(self, rel: Any, columns: list[_Column]) -> list[_Column]:
        if rel.HasField("common") and rel.common.WhichOneof("emit_kind") == "emit":
            return [self._at(columns, i) for i in rel.common.emit.output_mapping]
        return columns

    def _projected_column(self, e: Any, columns: list[_Column]) -> _Column:
        if e.WhichOneof("rex_type") == "selection":
            return self._at(columns, self._field_index(e))
        return _Column(None, None)

    @staticmethod
    def _at(columns: Sequence[_Column], index: int) -> _Column:
        if not 0 <= index < len(columns):
            raise PlanError(f"field reference {index} is outside the {len(columns)} columns of its input")
        return columns[index]

    def _sort_field(self, sort: Any, columns: list[_Column]) -> OrderByField:
        if sort.WhichOneof("sort_kind") != "direction" or sort.direction not in _SORTS:
            raise PlanNotSupported("a sort by a custom comparison")
        if sort.expr.WhichOneof("rex_type") != "selection":
            raise PlanNotSupported("a sort by a computed expression")
        column = self._at(columns, self._field_index(sort.expr))
        if column.name is None:
            raise PlanNotSupported("a sort by a computed column")
        return OrderByField(column.name, _SORTS[sort.direction])

    @staticmethod
    def _fetch_count(fetch: Any) -> int:
        offset = fetch.offset if fetch.WhichOneof("offset_mode") == "offset" else 0
        if fetch.WhichOneof("offset_mode") == "offset_expr":
            offset = _int_literal(fetch.offset_expr)
        mode = fetch.WhichOneof("count_mode")
        count = fetch.count if mode == "count" else _int_literal(fetch.count_expr) if mode == "count_expr" else -1
        if count < 0:
            return -1  # "all rows"
        if offset < 0:
            raise PlanError(f"negative fetch offset {offset}")
        # Each split answers on its own: the rows an offset skips may be in another split, so keep them too.
        return count + offset

    # ------------------------------------------------------------------------------------------ expressions

    def _conjuncts(self, e: Expression) -> list[Expression]:
        if isinstance(e, FunctionCall) and e.name == "$and":
            return [c for a in e.arguments for c in self._conjuncts(a)]
        return [e]

    def expression(self, e: Any, columns: list[_Column], depth: int = 0) -> Expression:
        if depth > MAX_DEPTH:
            raise PlanError(f"an expression is nested more than {MAX_DEPTH} levels deep")
        kind = e.WhichOneof("rex_type")
        if kind == "selection":
            column = self._at(columns, self._field_index(e))
            if column.name is None:
                raise PlanNotSupported("a filter on a computed column")
            return Variable(column.name, self._column_type(column))
        if kind == "literal":
            return _literal(e.literal)
        if kind == "cast":
            return self._cast(e.cast, columns, depth)
        if kind == "singular_or_list":
            value = self.expression(e.singular_or_list.value, columns, depth + 1)
            options = [self.expression(o, columns, depth + 1) for o in e.singular_or_list.options]
            if not all(isinstance(o, Constant) for o in options):
                raise PlanNotSupported("an IN list of non-constant values")
            values = tuple(_coerce(o.values[0], o.type, value.type)  # type: ignore[union-attr]
                           for o in options)
            array = FunctionCall(pa.list_(value.type), "$array", (Constant(value.type, values),))
            return FunctionCall(BOOL, "$in", (value, array))
        if kind == "scalar_function":
            return self._function(e.scalar_function, columns, depth)
        raise PlanNotSupported(f"a {kind or 'empty'} expression")

    def _function(self, call: Any, columns: list[_Column], depth: int) -> Expression:
        name = self.functions.get(call.function_reference)
        if name is None:
            raise PlanError(f"function reference {call.function_reference} is not declared in the plan")
        arguments = []
        for a in call.arguments:
            if a.WhichOneof("arg_type") != "value":
                raise PlanNotSupported(f"{name} with a type or enum argument")
            arguments.append(self.expression(a.value, columns, depth + 1))
        if name in ("and", "or") and arguments:
            return FunctionCall(BOOL, f"${name}", tuple(arguments))
        if name == "not" and len(arguments) == 1:
            return FunctionCall(BOOL, "$not", (arguments[0],))
        if name in ("is_null", "is_not_null") and len(arguments) == 1:
            test = FunctionCall(BOOL, "$is_null", (arguments[0],))
            return test if name == "is_null" else FunctionCall(BOOL, "$not", (test,))
        if name in ("is_not_distinct_from",) and len(arguments) == 2:
            a, b = _aligned(arguments[0], arguments[1])
            return FunctionCall(BOOL, "$not", (FunctionCall(BOOL, "$is_distinct_from", (a, b)),))
        if name in _COMPARISONS and len(arguments) == 2:
            a, b = _aligned(arguments[0], arguments[1])
            return FunctionCall(BOOL, _COMPARISONS[name], (a, b))
        if name == "between" and len(arguments) == 3:
            value, low, high = arguments
            return FunctionCall(BOOL, "$and", (FunctionCall(BOOL, "$greater_than_or_equal", _aligned(value, low)),
                                               FunctionCall(BOOL, "$less_than_or_equal", _aligned(value, high))))
        if name == "like" and len(arguments) == 2 and isinstance(arguments[1], Constant) and \
                pa.types.is_string(arguments[0].type) and isinstance(arguments[1].value, str):
            return FunctionCall(BOOL, "$like_pattern", (arguments[0], Constant(pa.string(), arguments[1].values)))
        if name in _AFFIXES and len(arguments) == 2 and isinstance(arguments[1], Constant) and \
                pa.types.is_string(arguments[0].type) and isinstance(arguments[1].value, str):
            text = arguments[1].value
            if "%" in text or "_" in text:  # LIKE has no escape here: the wildcard would match too much
                raise PlanNotSupported(f"{name} with a '%' or '_' in its argument")
            return FunctionCall(BOOL, "$like_pattern", (arguments[0], Constant(pa.string(), (_AFFIXES[name] % text,))))
        if name in _ARITHMETIC and len(arguments) == 2:
            from connector.pushdown.sql_expressions import arithmetic_type

            a, b = _aligned(arguments[0], arguments[1])
            op = _ARITHMETIC[name]
            return FunctionCall(arithmetic_type(op, a.type, b.type), op, (a, b))
        if name == "negate" and len(arguments) == 1:
            return FunctionCall(arguments[0].type, "$negate", (arguments[0],))
        raise PlanNotSupported(f"function {name!r} with {len(arguments)} arguments")

    def _cast(self, cast: Any, columns: list[_Column], depth: int) -> Expression:
        target = _arrow_type(cast.type)
        inner = self.expression(cast.input, columns, depth + 1)
        if target is None:
            raise PlanNotSupported("a cast to a type Athena federation does not carry")
        if isinstance(inner, Constant):
            return Constant(target, (_coerce(inner.value, inner.type, target),))
        if inner.type == target or _widens(inner.type, target):
            return inner  # a value-preserving cast of a column: comparisons are the same on the column
        raise PlanNotSupported(f"a cast of {inner.type} to {target}")

    @staticmethod
    def _field_index(e: Any) -> int:
        selection = e.selection
        if selection.WhichOneof("reference_type") != "direct_reference" or \
                selection.direct_reference.WhichOneof("reference_type") != "struct_field" or \
                selection.direct_reference.struct_field.HasField("child") or \
                selection.WhichOneof("root_type") not in ("root_reference", None):
            raise PlanNotSupported("a reference other than a top-level column")
        return int(selection.direct_reference.struct_field.field)

    def _column_type(self, column: _Column) -> pa.DataType:
        assert column.name is not None
        if column.name in self.schema.names:
            return self.schema.field(column.name).type
        if column.type is None:
            raise PlanNotSupported(f"column {column.name!r} has a type Athena federation does not carry")
        return column.type


# ------------------------------------------------------------------------------------------ types and values

def _nested_names(t: Any) -> int:
    """How many extra ``names`` a type consumes (struct fields, recursively)."""
    if t.WhichOneof("kind") == "struct":
        return sum(1 + _nested_names(child) for child in t.struct.types)
    return 0


def _arrow_type(t: Any) -> pa.DataType | None:
    """The logical Arrow type of a Substrait type (None for types federation does not carry)."""
    kind = t.WhichOneof("kind")
    simple = {"bool": pa.bool_(), "i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(), "i64": pa.int64(),
              "fp32": pa.float32(), "fp64": pa.float64(), "string": pa.string(), "varchar": pa.string(),
              "fixed_char": pa.string(), "binary": pa.binary(), "fixed_binary": pa.binary(), "date": pa.date32(),
              "timestamp": pa.timestamp("ms"), "precision_timestamp": pa.timestamp("ms"),
              "timestamp_tz": pa.timestamp("ms", "UTC"), "precision_timestamp_tz": pa.timestamp("ms", "UTC")}
    if kind in simple:
        return simple[kind]
    if kind == "decimal" and 1 <= t.decimal.precision <= 38 and 0 <= t.decimal.scale <= t.decimal.precision:
        return pa.decimal128(t.decimal.precision, t.decimal.scale)
    return None


_WIDE = decimal.Context(prec=80)


def _literal(lit: Any) -> Constant:
    kind = lit.WhichOneof("literal_type")
    plain = {"boolean": pa.bool_(), "i8": pa.int8(), "i16": pa.int16(), "i32": pa.int32(), "i64": pa.int64(),
             "fp32": pa.float32(), "fp64": pa.float64(), "string": pa.string(), "fixed_char": pa.string(),
             "binary": pa.binary(), "fixed_binary": pa.binary()}
    if kind in plain:
        return Constant(plain[kind], (getattr(lit, kind),))
    if kind == "var_char":
        return Constant(pa.string(), (lit.var_char.value,))
    if kind == "date":
        return Constant(pa.date32(), (dt.date(1970, 1, 1) + dt.timedelta(days=lit.date),))
    if kind in ("precision_timestamp", "precision_timestamp_tz", "timestamp", "timestamp_tz"):
        if kind.startswith("precision"):
            value, digits = getattr(lit, kind).value, getattr(lit, kind).precision
        else:
            value, digits = getattr(lit, kind), 6
        if not 0 <= digits <= 12:
            raise PlanError(f"timestamp precision {digits}")
        micros = decimal.Decimal(value).scaleb(6 - digits, _WIDE)
        if micros != micros.to_integral_value():
            raise PlanNotSupported("a timestamp literal finer than microseconds")
        zone = dt.UTC if kind.endswith("_tz") else None
        try:
            moment = dt.datetime(1970, 1, 1, tzinfo=zone) + dt.timedelta(microseconds=int(micros))
        except OverflowError:
            raise PlanError("a timestamp literal out of range") from None
        return Constant(pa.timestamp("ms", "UTC" if zone else None), (moment,))
    if kind == "decimal":
        d = lit.decimal
        if not (1 <= d.precision <= 38 and 0 <= d.scale <= d.precision and len(d.value) == 16):
            raise PlanError("a malformed decimal literal")
        unscaled = int.from_bytes(d.value, "little", signed=True)
        # exact: scaleb in the default context rounds to 28 digits, and DECIMAL(38,s) literals have up to 38
        return Constant(pa.decimal128(d.precision, d.scale), (decimal.Decimal(unscaled).scaleb(-d.scale, _WIDE),))
    if kind == "null":
        t = _arrow_type(lit.null)
        if t is None:
            raise PlanNotSupported("a NULL of a type federation does not carry")
        return Constant(t, (None,))
    raise PlanNotSupported(f"a {kind or 'empty'} literal")


def _int_literal(e: Any) -> int:
    if e.WhichOneof("rex_type") == "literal":
        constant = _literal(e.literal)
        if pa.types.is_integer(constant.type) and isinstance(constant.value, int):
            return int(constant.value)
    raise PlanNotSupported("a fetch count that is not an integer literal")


def _coerce(value: Any, source: pa.DataType, target: pa.DataType) -> Any:
    """``value`` of type ``source`` as a ``target`` value, exactly (a lossy conversion is refused)."""
    if value is None or source == target:
        return value
    try:
        return pa.array([value], source).cast(target, safe=True)[0].as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError, ValueError):
        raise PlanNotSupported(f"the constant {str(value)[:40]!r} as {target}") from None


def _widens(source: pa.DataType, target: pa.DataType) -> bool:
    if pa.types.is_integer(source) and pa.types.is_integer(target):
        return bool(target.bit_width >= source.bit_width)
    if pa.types.is_integer(source) and pa.types.is_float64(target):
        return bool(source.bit_width <= 32)
    if pa.types.is_float32(source) and pa.types.is_float64(target):
        return True
    return bool(pa.types.is_string(source) and pa.types.is_string(target))


def _aligned(a: Expression, b: Expression) -> tuple[Expression, Expression]:
    """Constants compared with a column take the column's type (exactly, or the plan is refused)."""
    if isinstance(b, Constant) and not isinstance(a, Constant) and b.type != a.type and b.value is not None \
            and _comparable(a.type, b.type):
        return a, Constant(a.type, (_coerce(b.value, b.type, a.type),))
    if isinstance(a, Constant) and not isinstance(b, Constant) and a.type != b.type and a.value is not None \
            and _comparable(a.type, b.type):
        return Constant(b.type, (_coerce(a.value, a.type, b.type),)), b
    return a, b


def _comparable(a: pa.DataType, b: pa.DataType) -> bool:
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    return (any(f(a) for f in numeric) and any(f(b) for f in numeric)) or (
        pa.types.is_timestamp(a) and pa.types.is_timestamp(b)) or (pa.types.is_date(a) and pa.types.is_date(b))
