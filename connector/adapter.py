"""The interface an adapter implements to bring a data source to Athena.

An adapter answers questions about *its* source in Arrow terms - which schemas and tables exist, what a table
looks like, how to cut a scan into splits, and the rows of one split. It never sees JSON, spill buckets,
encryption or Lambda's size limits: the framework (``connector.service``) does all of that around it.

Names: Athena sends lower-case schema, table and column names and expects lower-case names back. Adapters
return lower-case names and map them to the source's real names themselves.

Types: schemas and batches use *logical* Arrow types (see ``connector.protocol.types``): ``timestamp[ms]`` for
TIMESTAMP, ``timestamp[ms, tz]`` for TIMESTAMP WITH TIME ZONE, ``decimal128`` for DECIMAL, ``date32`` for DATE.

The smallest useful adapter implements ``list_schemas``, ``list_tables``, ``get_table`` and ``read_split``;
see ``docs/writing-an-adapter.md``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import field
from typing import ClassVar

import pyarrow as pa

from connector.capabilities import Capabilities
from connector.config import Settings
from connector.connection import ConnectionSpec
from connector.deadline import Deadline
from connector.errors import ConfigurationError, UnsupportedRequest
from connector.lazy_dataclass import lazy_dataclass
from connector.protocol.constraints import Constraints
from connector.protocol.messages import Identity, Split, TableName
from connector.tokens import parse_count

DEFAULT_PARTITION_COLUMN = "partitionId"  # the Java SDK's single-partition convention
SPLITS_PER_PAGE = 1000


@lazy_dataclass(slots=True)
class RequestContext:
    """Who is asking and for which query; passed to every adapter call."""

    identity: Identity
    catalog: str
    query_id: str
    config: Mapping[str, str] = field(default_factory=dict)
    #: Time left in this invocation; long planning work (a query run in GetSplits) should ``check`` it.
    deadline: Deadline = field(default_factory=Deadline.unlimited)


@lazy_dataclass(slots=True)
class TableDefinition:
    """A table as Athena sees it: a logical Arrow schema with lower-case names and its partition columns."""

    schema: pa.Schema
    partition_columns: tuple[str, ...] = ()


@lazy_dataclass(slots=True)
class TablePage:
    tables: Sequence[TableName]
    next_token: str | None = None


@lazy_dataclass(slots=True)
class SplitPage:
    """Split properties (string to string) for one GetSplits response, and where the next page starts."""

    splits: Sequence[Mapping[str, str]]
    next_token: str | None = None


@lazy_dataclass(frozen=False, slots=True)
class Scan:
    """The rows of one split as an adapter produces them.

    ``batches`` hold at least the requested columns plus every column ``residual`` mentions, in any order.
    ``residual`` is the part of the request's constraints the adapter did *not* apply at the source; the
    framework applies it (filters, then ORDER BY + LIMIT, then LIMIT) so the answer is exact either way.
    ``close`` releases source resources early when the framework stops reading (a satisfied LIMIT).
    """

    batches: Iterator[pa.RecordBatch]
    residual: Constraints = field(default_factory=Constraints)
    close: Callable[[], None] | None = None
    description: str = ""


class Adapter(abc.ABC):
    """Base class of every adapter. One instance serves one connection string across warm invocations."""

    #: Short identifier reported as PingResponse.sourceType (``sqlite``, ``oracle``...).
    source_type: ClassVar[str] = "custom"

    @classmethod
    def from_connection(cls, spec: ConnectionSpec, settings: Settings) -> Adapter:
        """Build the adapter for a connection string. Must not connect yet: Ping has to stay cheap."""
        raise ConfigurationError(f"{cls.__name__} cannot be built from a connection string")

    def capabilities(self) -> Capabilities:
        """What the framework may declare to Athena for this adapter (see ``connector.capabilities``)."""
        return Capabilities(passthrough=self.supports_passthrough)

    @property
    def supports_passthrough(self) -> bool:
        return type(self).get_passthrough_table is not Adapter.get_passthrough_table

    # ----------------------------------------------------------------------------------------- metadata

    @abc.abstractmethod
    def list_schemas(self, ctx: RequestContext) -> Sequence[str]:
        """Lower-case schema names."""

    @abc.abstractmethod
    def list_tables(self, ctx: RequestContext, schema: str, next_token: str | None, page_size: int) -> TablePage:
        """Tables and views of ``schema``; ``page_size`` -1 means all. Raise ``SchemaNotFound`` if unknown."""

    @abc.abstractmethod
    def get_table(self, ctx: RequestContext, table: TableName) -> TableDefinition:
        """Raise ``TableNotFound`` (naming the table) when it does not exist."""

    def get_passthrough_table(self, ctx: RequestContext, arguments: Mapping[str, str]) -> TableDefinition:
        """The result schema of a native query (``system.query``); only adapters that support passthrough."""
        raise UnsupportedRequest(f"{self.source_type} does not support query passthrough")

    # ----------------------------------------------------------------------------------------- planning

    def get_partitions(self, ctx: RequestContext, table: TableName, definition: TableDefinition,
                       constraints: Constraints) -> pa.Table:
        """One row per partition, with a column per partition column (plus any private extra columns).

        The framework prunes the rows with the constraints on partition columns afterwards. Unpartitioned
        tables return the default single row.
        """
        return pa.table({DEFAULT_PARTITION_COLUMN: pa.array([1], pa.int32())})

    def get_splits(self, ctx: RequestContext, table: TableName, partitions: pa.Table, constraints: Constraints,
                   next_token: str | None) -> SplitPage:
        """Split properties for the given partition rows; by default one split per partition row, paged."""
        start = parse_count(next_token, "continuation token", high=partitions.num_rows) if next_token else 0
        end = min(start + SPLITS_PER_PAGE, partitions.num_rows)
        rows = partitions.slice(start, end - start).to_pylist()
        splits = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
        return SplitPage(splits, str(end) if end < partitions.num_rows else None)

    # ----------------------------------------------------------------------------------------- records

    @abc.abstractmethod
    def read_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                   constraints: Constraints) -> Scan:
        """The rows of one split: ``schema`` is the projected logical schema Athena asked for."""

    def read_passthrough(self, ctx: RequestContext, arguments: Mapping[str, str], schema: pa.Schema) -> Scan:
        raise UnsupportedRequest(f"{self.source_type} does not support query passthrough")

    def describe_split(self, ctx: RequestContext, table: TableName, schema: pa.Schema, split: Split,
                       constraints: Constraints) -> str:
        """What the source will be asked for this split (the SQL, for ``afq query --explain``)."""
        return ""

    def close(self) -> None:
        """Release connections; called when the adapter is evicted or the process shuts down."""
