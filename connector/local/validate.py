"""``afq validate``: the reference ConnectorValidator's checks, and the ones it lacks.

The Java SDK's validator pings, lists schemas and tables, gets one table, its layout and splits, and reads one
random split, asserting lower-case names, partition columns, at least one split and one record. This one does
that for every table it is pointed at and every split, and also checks: the key order of every response,
capabilities, table pagination, projection (one column, no columns), every declared pushdown (filters,
expressions, LIMIT, top-N - compared with the full scan), spilling (forced with a 1-byte inline limit:
naming, keys, decryption, same rows) and query passthrough. Any finding makes the exit status non-zero.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import IO, Any

import pyarrow as pa

from connector.capabilities import COMPLEX_EXPRESSION, FILTER, HINTS, LIMIT, PASSTHROUGH_SIGNATURE, TOP_N
from connector.config import Settings
from connector.errors import ConnectorError
from connector.local.rows import Rows, row_counter, samples
from connector.local.session import MAX_INLINE_BLOCK_SIZE, Capabilities, CatalogSession, SplitResult, TableInfo
from connector.local.targets import InProcessTarget, Target
from connector.local.wire_check import check_response
from connector.protocol.constraints import (
    STANDARD_FUNCTIONS,
    Bound,
    Constant,
    Constraints,
    Expression,
    FunctionCall,
    Marker,
    OrderByField,
    Range,
    SortDirection,
    SortedRangeSet,
    ValueSet,
    Variable,
    functions_of,
)
from connector.protocol.messages import (
    Message,
    ReadRecordsRequest,
    ReadRecordsResponse,
    RemoteReadRecordsResponse,
    Split,
    TableName,
)
from connector.protocol.types import check_supported, empty_batch
from connector.pushdown.evaluate import filter_mask, sort_indices

CHECKS = ("pagination", "projection", "filters", "expressions", "limit", "top-n", "spill", "passthrough")
FILTER_SUBTYPES = {"sorted_range_set", "equatable_range_set", "all_or_none_value_set", "nullable_comparison"}
PASSTHROUGH_QUERIES = {"oracle": "SELECT 1 AS one FROM DUAL"}
DEFAULT_PASSTHROUGH_QUERY = "SELECT 1 AS one"
PAGE_SIZE = 2


@dataclass
class Finding:
    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"FINDING [{self.check}] {self.where}: {self.message}"


@dataclass
class ValidateOptions:
    catalog: str = "default"
    schema: str | None = None
    table: str | None = None
    max_tables: int = 10
    skip: frozenset[str] = frozenset()
    allow_empty: bool = False
    passthrough_query: str | None = None
    #: The target runs with this process's environment (in-process, runtime): its spill settings are known.
    local_environment: bool = True


@dataclass
class _Table:
    name: TableName
    info: TableInfo
    splits: list[Split] = field(default_factory=list)
    full: list[pa.Table] = field(default_factory=list)  # per split, every column


class Validator:
    def __init__(self, target: Target, options: ValidateOptions, out: IO[str],
                 settings: Settings | None = None) -> None:
        self.target = target
        self.options = options
        self.out = out
        self.settings = settings or Settings.from_env()
        self.findings: list[Finding] = []
        self._checking: int | None = None  # findings count when the current check started
        self._source_type = ""
        self._order_problems: set[str] = set()
        self.session = CatalogSession(target, options.catalog, settings=self.settings)
        self.session.observer = self._observe

    # ------------------------------------------------------------------------------------------ reporting

    def finding(self, check: str, where: str, message: str) -> None:
        finding = Finding(check, where, message)
        self.findings.append(finding)
        self.out.write(f"{finding}\n")

    def ok(self, text: str) -> None:
        """Report a passed check - unless the check being run has already reported findings."""
        if self._checking is None or len(self.findings) == self._checking:
            self.out.write(f"ok: {text}\n")

    def _observe(self, request: Message, raw: Any) -> None:
        for problem in check_response(raw):
            if problem not in self._order_problems:
                self._order_problems.add(problem)
                self.finding("wire", f"response to {request.type_name()}", problem)

    def enabled(self, check: str) -> bool:
        return check not in self.options.skip

    def attempt(self, check: str, where: str, action: Callable[[], Any]) -> Any:
        """Run one protocol step; a failure is a finding, and ``None`` tells the caller to stop that branch."""
        try:
            return action()
        except ConnectorError as e:
            self.finding(check, where, str(e))
        return None

    # ------------------------------------------------------------------------------------------ run

    def run(self) -> list[Finding]:
        if isinstance(self.target, InProcessTarget) and self.target.is_default_handler:
            from connector.connection import connection_string_for

            connection_string_for(self.options.catalog, os.environ)  # unconfigured: a clear error, not findings
        ping = self.attempt("ping", "Ping", self.session.ping)
        if ping is None:
            return self.findings
        self._ping(ping)
        self._source_type = ping.source_type
        if self.session.serde_version >= 4 and self.attempt(
                "capabilities", "GetDataSourceCapabilities", self._capabilities) is None:
            self.session.capabilities = Capabilities()  # go on as Athena would: no pushdown
        for schema, table in self._tables():
            self._table(TableName(schema, table))
        if self.enabled("passthrough"):
            self._passthrough()
        total = len(self.findings)
        self.out.write(f"{total} finding{'' if total == 1 else 's'}\n")
        return self.findings

    def _ping(self, ping: Any) -> None:
        if ping.catalog_name != self.options.catalog:
            self.finding("ping", "Ping", f"catalogName {ping.catalog_name!r} does not echo {self.options.catalog!r}")
        if ping.query_id != self.session.query_id:
            self.finding("ping", "Ping", "queryId is not echoed")
        self.ok(f"Ping: sourceType={ping.source_type}, capabilities={ping.capabilities}, "
                f"serDeVersion={ping.serde_version} (negotiated v{self.session.serde_version})")

    def _capabilities(self) -> bool:
        caps = self.session.capabilities
        where = "GetDataSourceCapabilities"
        known = {FILTER, COMPLEX_EXPRESSION, LIMIT, TOP_N, HINTS}
        for name, subtypes in caps.raw.items():
            types = [s.sub_type for s in subtypes]
            if name == FILTER and not set(types) <= FILTER_SUBTYPES:
                self.finding("capabilities", where, f"unknown filter subtypes {sorted(set(types) - FILTER_SUBTYPES)}")
            elif name == COMPLEX_EXPRESSION:
                functions = [p for s in subtypes if s.sub_type == "supported_function_expression_types"
                             for p in s.properties]
                if not functions:
                    self.finding("capabilities", where, "complex expression pushdown declares no function")
                unknown = sorted(set(functions) - set(STANDARD_FUNCTIONS))
                if unknown:
                    self.finding("capabilities", where, f"non-standard function names {unknown}")
            elif name == LIMIT and types != ["integer_constant"]:
                self.finding("capabilities", where, f"limit pushdown subtypes {types}, expected ['integer_constant']")
            elif name == TOP_N and types != ["SUPPORTS_ORDER_BY"]:
                self.finding("capabilities", where, f"top-N pushdown subtypes {types}, expected ['SUPPORTS_ORDER_BY']")
            elif name.upper() == PASSTHROUGH_SIGNATURE:
                expected = ["query_passthrough_schema", "query_passthrough_name", "query_passthrough_arguments"]
                if types != expected:
                    self.finding("capabilities", where, f"passthrough subtypes {types}, expected {expected}")
            elif name not in known and "." not in name:
                self.finding("capabilities", where, f"unknown optimization {name!r}")
        self.ok(f"capabilities: {caps.summary()}")
        return True

    # ------------------------------------------------------------------------------------------ listing

    def _tables(self) -> Iterator[tuple[str, str]]:
        schemas = self.attempt("listing", "ListSchemas", self.session.list_schemas)
        if schemas is None:
            return
        self._names("ListSchemas", "schema", schemas)
        if not schemas:
            self.finding("listing", "ListSchemas", "no schema")
        wanted = [self.options.schema] if self.options.schema else list(schemas)
        if self.options.schema and self.options.schema not in schemas:
            self.finding("listing", "ListSchemas", f"schema {self.options.schema!r} is not listed")
        budget = self.options.max_tables
        for schema in wanted:
            tables = self._list_tables(schema)
            if self.options.table:
                if self.options.table not in tables:
                    self.finding("listing", f"ListTables {schema}", f"table {self.options.table!r} is not listed")
                yield schema, self.options.table
                continue
            for table in tables:
                if budget <= 0:
                    self.out.write(f"note: stopped after {self.options.max_tables} tables (--max-tables)\n")
                    return
                budget -= 1
                yield schema, table

    def _names(self, where: str, kind: str, names: Any) -> None:
        bad = [n for n in names if n != n.lower()]
        if bad:
            self.finding("names", where, f"{kind} names must be lower case: {bad[:5]}")
        empty = [n for n in names if not n]
        if empty:
            self.finding("names", where, f"empty {kind} name")
        if len(set(names)) != len(list(names)):
            self.finding("names", where, f"duplicate {kind} names")

    def _list_tables(self, schema: str) -> list[str]:
        where = f"ListTables {schema}"
        response = self.attempt("listing", where, lambda: self.session.list_tables(schema))
        if response is None:
            return []
        names = [t.table for t in response.tables]
        wrong = [str(t) for t in response.tables if t.schema != schema]
        if wrong:
            self.finding("listing", where, f"tables of another schema returned: {wrong[:5]}")
        if response.next_token is not None:
            self.finding("listing", where, "an unpaginated listing (pageSize -1) returned a nextToken")
        self._names(where, "table", names)
        if not names and not self.options.allow_empty:
            self.finding("listing", where, "no tables (pass --allow-empty if that is expected)")
        if self.enabled("pagination") and names:
            self._pagination(schema, names)
        self.ok(f"{where}: {len(names)} table(s)")
        return names

    def _pagination(self, schema: str, names: list[str]) -> None:
        where = f"ListTables {schema} (pageSize {PAGE_SIZE})"
        collected: list[str] = []
        token: str | None = None
        for _ in range(len(names) // PAGE_SIZE + 3):
            page = self.attempt("pagination", where, partial(self.session.list_tables, schema, token, PAGE_SIZE))
            if page is None:
                return
            if len(page.tables) > PAGE_SIZE:
                self.finding("pagination", where, f"a page holds {len(page.tables)} tables")
            collected.extend(t.table for t in page.tables)
            token = page.next_token
            if token is None:
                break
        else:
            self.finding("pagination", where, "pages never end (nextToken is never null)")
            return
        if sorted(collected) != sorted(names):
            missing = sorted(set(names) - set(collected))
            extra = len(collected) - len(set(collected))
            self.finding("pagination", where, f"pages differ from the full listing: missing {missing[:5]}, "
                                              f"{extra} duplicate(s)")

    # ------------------------------------------------------------------------------------------ one table

    def _table(self, name: TableName) -> None:
        where = f"{name}"
        info = self.attempt("table", f"GetTable {where}", lambda: self.session.get_table(name))
        if info is None:
            return
        if not self._definition(name, info):
            return
        table = _Table(name, info)
        splits = self.attempt("splits", f"GetSplits {where}", lambda: self._splits(table))
        if splits is None:
            return
        for index, split in enumerate(table.splits):
            result = self._read(f"ReadRecords {where} split {index + 1}", "records", info, info.logical.names, split,
                                Constraints())
            if result is None:
                return
            table.full.append(result)
        rows = sum(t.num_rows for t in table.full)
        if not rows and not self.options.allow_empty:
            self.finding("records", where, "no records in any split (pass --allow-empty if that is expected)")
        self.ok(f"{where}: {len(info.logical)} column(s), {len(table.splits)} split(s), {rows} row(s)")
        checks: list[tuple[str, Callable[[_Table], None]]] = [
            ("projection", self._projection), ("filters", self._filters), ("expressions", self._expressions),
            ("limit", self._limit), ("top-n", self._top_n), ("spill", self._spill)]
        for check, run in checks:
            if self.enabled(check):
                self._checking = len(self.findings)
                try:
                    run(table)
                finally:
                    self._checking = None

    def _definition(self, name: TableName, info: TableInfo) -> bool:
        where = f"GetTable {name}"
        if info.table != name:
            self.finding("table", where, f"answered for table {info.table}")
        self._names(where, "column", info.logical.names)
        try:
            check_supported(info.schema.wire_schema(), logical=False, what=f"table {name}")
        except TypeError as e:
            self.finding("table", where, str(e))
        unknown = [c for c in info.partition_columns if c not in info.logical.names]
        if unknown:
            self.finding("table", where, f"partition columns {unknown} are not columns of the table")
        if not [c for c in info.logical.names if c not in info.partition_columns]:
            self.finding("table", where, "the table has no column besides its partition columns")
        return bool(len(info.logical))

    def _splits(self, table: _Table) -> bool:
        where = f"{table.name}"
        layout = self.session.get_table_layout(table.info, Constraints())
        partitions = layout.partitions.logical_batch("partitions")
        missing = [c for c in table.info.partition_columns if c not in partitions.schema.names]
        if missing:
            self.finding("layout", f"GetTableLayout {where}", f"partitions lack the partition columns {missing}")
        if partitions.num_rows == 0:
            self.finding("layout", f"GetTableLayout {where}", "no partition (even an unpartitioned table needs one)")
            return True
        pages = list(self.session.split_pages(table.info, layout, Constraints()))
        table.splits = [s for page in pages for s in page.splits]
        where = f"GetSplits {where}"
        if not table.splits:
            self.finding("splits", where, "no split")
        keys = [s.spill_location.key for s in table.splits if s.spill_location is not None]
        if len(keys) != len(set(keys)):
            self.finding("splits", where, "splits share a spill location (each split needs its own)")
        for i, split in enumerate(table.splits, start=1):
            location, key = split.spill_location, split.encryption_key
            if location is None:
                self.finding("splits", f"{where} split {i}", "no spill location")
            elif not location.directory or not location.bucket:
                self.finding("splits", f"{where} split {i}", "the spill location must be a directory in a bucket")
            if key is not None and (len(key.key) not in (16, 24, 32) or len(key.nonce) != 12):
                self.finding("splits", f"{where} split {i}", f"encryption key of {len(key.key)} bytes / nonce of "
                                                              f"{len(key.nonce)} bytes (want 16/24/32 and 12)")
            encryption_on = not self.settings.disable_spill_encryption
            if key is None and encryption_on and self.options.local_environment:
                self.finding("splits", f"{where} split {i}",
                             "no encryption key although disable_spill_encryption is not set")
        pairs = [(s.encryption_key.key, s.encryption_key.nonce) for s in table.splits if s.encryption_key]
        if len(pairs) != len(set(pairs)):
            self.finding("splits", where, "splits share an encryption key and nonce")
        self.ok(f"{where}: {len(pages)} page(s), {len(table.splits)} split(s)")
        return True

    # ------------------------------------------------------------------------------------------ reading

    def _request(self, info: TableInfo, columns: list[str], split: Split, constraints: Constraints,
                 max_inline: int = MAX_INLINE_BLOCK_SIZE) -> ReadRecordsRequest:
        return self.session.read_request(info, columns, split, constraints, max_inline_block_size=max_inline)

    def _read(self, where: str, check: str, info: TableInfo, columns: list[str], split: Split,
              constraints: Constraints) -> pa.Table | None:
        request = self._request(info, columns, split, constraints)

        def read() -> pa.Table:
            response = self.session.read_response(request)
            if isinstance(response, ReadRecordsResponse) and len(response.records.records_bytes) >= (
                    request.max_inline_block_size):
                self.finding(check, where, f"an inline block of {len(response.records.records_bytes)} bytes is not "
                                           f"below maxInlineBlockSize {request.max_inline_block_size}")
            batches, _ = self.session.decode(request, response)
            return _table_of(SplitResult(split, batches), request)

        result: pa.Table | None = self.attempt(check, where, read)
        return result

    def _projection(self, table: _Table) -> None:
        names = table.info.logical.names
        choices = [[names[0]], [names[-1]], []] if len(names) > 1 else [[names[0]], []]
        for i, split in enumerate(table.splits):
            full = table.full[i]
            for columns in choices:
                what = ", ".join(columns) or "no columns"
                where = f"ReadRecords {table.name} split {i + 1} ({what})"
                got = self._read(where, "projection", table.info, columns, split, Constraints())
                if got is None:
                    continue
                self._same(where, "projection", row_counter(full, columns), row_counter(got, columns), columns)
        self.ok(f"{table.name}: projections to one column and to no column")

    def _same(self, where: str, check: str, expected: Rows, got: Rows, columns: list[str]) -> bool:
        if expected == got:
            return True
        extra, missing = got - expected, expected - got
        parts = []
        if extra:
            parts.append(f"{extra.total()} unexpected row(s), e.g. {samples(extra, columns)}")
        if missing:
            parts.append(f"{missing.total()} missing row(s), e.g. {samples(missing, columns)}")
        self.finding(check, where, "; ".join(parts))
        return False

    def _pushed(self, table: _Table, check: str, label: str, constraints: Constraints,
                expected_of: Callable[[pa.Table], pa.Table]) -> list[pa.Table] | None:
        """Read every split with ``constraints``; compare with the full scan filtered locally."""
        names = table.info.logical.names
        results = []
        for i, split in enumerate(table.splits):
            where = f"ReadRecords {table.name} split {i + 1} with {label}"
            got = self._read(where, check, table.info, names, split, constraints)
            if got is None:
                return None
            self._same(where, check, row_counter(expected_of(table.full[i])), row_counter(got), names)
            results.append(got)
        return results

    def _filter_columns(self, table: _Table) -> list[tuple[str, pa.DataType, list[Any]]]:
        """One column per kind of type (integer, other number, string, date/time) with two distinct values or
        more, and its sorted distinct values: filters are checked on each, as sources compare types differently.
        """
        everything = pa.concat_tables(table.full) if table.full else None
        if everything is None or not everything.num_rows:
            return []
        found: dict[str, tuple[str, pa.DataType, list[Any]]] = {}
        for f in table.info.logical:
            kind = _kind(f.type)
            if kind is None or kind in found:
                continue
            values = sorted({v for v in everything.column(f.name).to_pylist() if v is not None and not _nan(v)})
            if len(values) >= 2:
                found[kind] = (f.name, f.type, values)
        return list(found.values())

    def _filter_column(self, table: _Table) -> tuple[str, pa.DataType, list[Any]] | None:
        columns = self._filter_columns(table)
        return columns[0] if columns else None

    def _filters(self, table: _Table) -> None:
        caps = self.session.capabilities
        if self.session.serde_version < 4 or not caps.filter:
            return
        columns = self._filter_columns(table)
        if not columns:
            self.out.write(f"note: {table.name}: no column with two distinct values to test filters on\n")
            return
        for column, t, values in columns:
            if not self._filters_on(table, column, t, values):
                return
        self.ok(f"{table.name}: filters on {', '.join(c for c, _, _ in columns)}")

    def _filters_on(self, table: _Table, column: str, t: pa.DataType, values: list[Any]) -> bool:
        caps = self.session.capabilities
        pivot, other = values[len(values) // 2], values[0]
        sets: dict[str, SortedRangeSet] = {
            f"{column} < pivot": SortedRangeSet(t, (Range(Marker.below_all(), Marker(pivot, Bound.BELOW)),), False),
            f"{column} >= pivot": SortedRangeSet(t, (Range(Marker(pivot, Bound.EXACTLY), Marker.above_all()),),
                                                  False),
            f"{column} IS NULL": SortedRangeSet(t, (), True),
        }
        parts = {}
        for label, value_set in sets.items():
            results = self._pushed(table, "filters", label, Constraints({column: value_set}),
                                   _summary_filter(column, value_set))
            if results is None:
                return False
            parts[label] = results
        for i in range(len(table.splits)):
            union = sum(parts[label][i].num_rows for label in parts)
            if union != table.full[i].num_rows:
                self.finding("filters", f"{table.name} split {i + 1}",
                             f"{column} < v, {column} >= v and {column} IS NULL return {union} rows together but "
                             f"the full scan returns {table.full[i].num_rows}")
        extra_sets: dict[str, ValueSet] = {
            f"{column} IN (two values)": SortedRangeSet(t, (Range.equal(other), Range.equal(pivot)), False),
            f"{column} NOT IN (two values)": SortedRangeSet(t, (
                Range(Marker.below_all(), Marker(other, Bound.BELOW)),
                Range(Marker(other, Bound.ABOVE), Marker(pivot, Bound.BELOW)),
                Range(Marker(pivot, Bound.ABOVE), Marker.above_all())), False),
        }
        if caps.nullable_comparison:
            extra_sets[f"{column} = v OR {column} IS NULL"] = SortedRangeSet(t, (Range.equal(pivot),), True)
        for label, extra in extra_sets.items():
            self._pushed(table, "filters", label, Constraints({column: extra}), _summary_filter(column, extra))
        return True

    def _expressions(self, table: _Table) -> None:
        caps = self.session.capabilities
        found = self._filter_column(table) if self.session.serde_version >= 4 else None
        if found is None or not caps.functions:
            return
        column, t, values = found
        pivot = values[len(values) // 2]
        var, bool_ = Variable(column, t), pa.bool_()
        candidates: list[tuple[str, Expression]] = [
            (f"{column} = v OR {column} IS NULL", FunctionCall(bool_, "$or", (
                FunctionCall(bool_, "$equal", (var, Constant(t, (pivot,)))), FunctionCall(bool_, "$is_null", (var,))))),
            (f"NOT ({column} <> v)", FunctionCall(bool_, "$not", (
                FunctionCall(bool_, "$not_equal", (var, Constant(t, (pivot,)))),))),
        ]
        if pa.types.is_integer(t) and isinstance(pivot, int):
            candidates.append((f"{column} + 1 > v", FunctionCall(bool_, "$greater_than", (
                FunctionCall(t, "$add", (var, Constant(t, (1,)))), Constant(t, (pivot,))))))
        if pa.types.is_string(t):
            candidates.append((f"{column} LIKE prefix%", FunctionCall(bool_, "$like_pattern", (
                var, Constant(t, (str(pivot)[:1] + "%",))))))
        tested = 0
        for label, expression in candidates:
            if not functions_of(expression) <= caps.functions:
                continue
            tested += 1
            self._pushed(table, "expressions", label, Constraints(expression=(expression,)),
                         _expression_filter(expression))
        if tested:
            self.ok(f"{table.name}: {tested} expression(s) on {column}")

    def _limit(self, table: _Table) -> None:
        if self.session.serde_version < 4 or not self.session.capabilities.limit:
            return
        names = table.info.logical.names
        for i, split in enumerate(table.splits):
            where = f"ReadRecords {table.name} split {i + 1} with LIMIT 1"
            got = self._read(where, "limit", table.info, names, split, Constraints(limit=1))
            if got is None:
                return
            wanted = min(1, table.full[i].num_rows)
            if got.num_rows != wanted:
                self.finding("limit", where, f"returned {got.num_rows} rows, expected {wanted}")
            extra = row_counter(got) - row_counter(table.full[i])
            if extra:
                self.finding("limit", where, f"returned rows that are not in the table: {samples(extra, names)}")
        self.ok(f"{table.name}: LIMIT 1")

    def _top_n(self, table: _Table) -> None:
        if self.session.serde_version < 4 or not self.session.capabilities.top_n:
            return
        found = self._filter_column(table)
        if found is None:
            return
        column = found[0]
        names = table.info.logical.names
        for direction in (SortDirection.ASC_NULLS_LAST, SortDirection.DESC_NULLS_FIRST):
            order = (OrderByField(column, direction),)
            for i, split in enumerate(table.splits):
                where = f"ReadRecords {table.name} split {i + 1} with ORDER BY {column} {direction.value} LIMIT 3"
                got = self._read(where, "top-n", table.info, names, split, Constraints(order_by=order, limit=3))
                if got is None:
                    return
                full = table.full[i]
                indices = sort_indices(full, [(column, direction.ascending, direction.nulls_first)])
                top = full.take(indices).slice(0, 3)
                self._same(where, "top-n", row_counter(top, [column]), row_counter(got, [column]), [column])
        self.ok(f"{table.name}: top-N on {column}")

    def _spill(self, table: _Table) -> None:
        names = table.info.logical.names
        spilled = 0
        for i, split in enumerate(table.splits):
            where = f"ReadRecords {table.name} split {i + 1} (maxInlineBlockSize 1: must spill)"
            if not table.full[i].num_rows:
                continue
            request = self._request(table.info, names, split, Constraints(), max_inline=1)
            response = self.attempt("spill", where, partial(self.session.read_response, request))
            if response is None:
                continue
            if isinstance(response, ReadRecordsResponse):
                self.finding("spill", where, "answered inline although every block had to spill")
                continue
            spilled += 1
            self._remote_blocks(where, split, response)
            decoded = self.attempt("spill", where, partial(self.session.decode, request, response))
            if decoded is None:
                continue
            got = _table_of(SplitResult(split, decoded[0]), request)
            self._same(where, "spill", row_counter(table.full[i]), row_counter(got), names)
        if spilled:
            self.ok(f"{table.name}: spilled reads of {spilled} split(s)")

    def _remote_blocks(self, where: str, split: Split, response: RemoteReadRecordsResponse) -> None:
        location = split.spill_location
        if not response.remote_blocks:
            self.finding("spill", where, "a spilled answer lists no blocks")
        if location is None:
            self.finding("spill", where, "the split has no spill location, yet the answer spilled")
            return
        for n, block in enumerate(response.remote_blocks):
            want = f"{location.key}.{n}"
            if block.bucket != location.bucket or block.key != want or block.directory:
                self.finding("spill", where, f"block {n} is at s3://{block.bucket}/<key> (directory={block.directory})"
                                             f"; blocks must be the split's location + '.{n}', directory false")
                break
        if response.encryption_key != split.encryption_key:
            self.finding("spill", where, "the answer's encryptionKey is not the split's key")

    # ------------------------------------------------------------------------------------------ passthrough

    def _passthrough(self) -> None:
        if self.session.serde_version < 5 or not self.session.capabilities.passthrough:
            return
        source_type = self._source_type
        query = self.options.passthrough_query or PASSTHROUGH_QUERIES.get(source_type, DEFAULT_PASSTHROUGH_QUERY)
        where = f"system.query({query!r})"
        info = self.attempt("passthrough", f"GetTable {where}",
                            lambda: self.session.get_passthrough_table({"QUERY": query}))
        if info is None:
            return
        if len(info.logical) != 1:
            self.finding("passthrough", where, f"the result schema has {len(info.logical)} columns, expected 1")
            return
        constraints = Constraints(passthrough=dict(info.passthrough))
        splits = self.attempt("passthrough", f"GetSplits {where}",
                              lambda: self.session.get_splits(info, constraints))
        if splits is None:
            return
        if len(splits) != 1:
            self.finding("passthrough", where, f"{len(splits)} splits, expected exactly one")
        rows = []
        for split in splits:
            got = self._read(f"ReadRecords {where}", "passthrough", info, info.logical.names, split, constraints)
            if got is not None:
                rows.extend(got.column(0).to_pylist())
        if rows and (len(rows) != 1 or not _is_one(rows[0])):
            self.finding("passthrough", where, f"returned {rows[:5]}, expected one row holding 1")
        elif not rows:
            self.finding("passthrough", where, "returned no row")
        else:
            self.ok(f"passthrough {where}")


def _is_one(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return value == 1
    return str(value).strip() == "1"


def _table_of(result: SplitResult, request: ReadRecordsRequest) -> pa.Table:
    schema = request.schema.logical_schema()
    batches = [b for b in result.batches if b.num_rows]
    if not len(schema):
        return pa.Table.from_batches([empty_batch(sum(b.num_rows for b in batches))])
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches, schema=schema)


def _summary_filter(column: str, value_set: ValueSet) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.filter(filter_mask({column: value_set}, (), t))


def _expression_filter(expression: Expression) -> Callable[[pa.Table], pa.Table]:
    return lambda t: t.filter(filter_mask({}, (expression,), t))


def default_catalog() -> str:
    return os.environ.get("AFQ_CATALOG", "default")


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_date32(t) or (pa.types.is_timestamp(t) and t.tz is None):
        return "datetime"
    return None
